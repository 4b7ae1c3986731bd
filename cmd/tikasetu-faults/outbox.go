package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// Dial retries for a caller turned away with the busy screen while the
// gateway's admission control learns its load.
const (
	busyRetries = 10
	busyPause   = 300 * time.Millisecond
)

// prepareBooking logs c in (retrying a busy dial), registers one person and
// walks to "Book this appointment?".
func (e *env) prepareBooking(ctx context.Context, sink *Sink, c *Caller, session string) error {
	var err error
	for attempt := 0; attempt < busyRetries; attempt++ {
		c.Redial(fmt.Sprintf("%s-%d", session, attempt))
		if _, err = c.Login(ctx, sink); !errors.Is(err, errBusy) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(busyPause):
		}
	}
	if err != nil {
		return err
	}
	if err := c.AddPerson(ctx, e.ids.Aadhaar(), names[rand.IntN(len(names))]); err != nil {
		return err
	}
	return c.ToConfirm(ctx, seedPin)
}

// Outage of the SMS centre.
const (
	outageFor     = 20 * time.Second
	slipsDeadline = 150 * time.Second // after recovery
)

// smsOutage: callers log in, register one person each and reach the
// booking confirmation; then the SMS centre answers 503 to everything for
// 20 s while they all confirm, and recovers. Every appointment's slip must
// arrive after the recovery, each ref delivered once.
func smsOutage(ctx context.Context, e *env, r *rig, res *result) error {
	gw, err := r.gateway(ctx, "A", nil)
	if err != nil {
		return err
	}
	if err := e.seed(ctx, gw); err != nil {
		return err
	}
	n := e.callers
	e.logf("sms-outage: %d callers log in, register and reach the confirmation", n)
	callers := make([]*Caller, n)
	prepErr := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		callers[i] = newCaller(e.client, gw.URL, e.ids.Msisdn(), "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			prepErr[i] = e.prepareBooking(ctx, r.sink, callers[i], fmt.Sprintf("faults-outage-%d", i))
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := tally{}
	var ready []*Caller
	for i, err := range prepErr {
		if err != nil {
			failed.add(clip(err.Error(), 80))
			continue
		}
		ready = append(ready, callers[i])
	}
	if len(ready) == 0 {
		return fmt.Errorf("no caller reached the confirmation: %s", failed)
	}

	e.logf("sms-outage: the sink answers 503 for %s; %d callers confirm", outageFor, len(ready))
	outage := time.Now()
	recovery := outage.Add(outageFor)
	r.sink.RefuseUntil(recovery)
	var (
		mu       sync.Mutex
		booked   int
		lat      []time.Duration
		notBook  = tally{}
		confirms sync.WaitGroup
	)
	for _, c := range ready {
		confirms.Add(1)
		go func() {
			defer confirms.Done()
			s, err := c.Confirm(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				notBook.add(clip(err.Error(), 80))
				return
			}
			booked++
			lat = append(lat, s.Latency)
		}()
	}
	confirms.Wait()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(recovery)):
	}
	e.logf("sms-outage: the sink accepts again; waiting for the slips (at most %s)", slipsDeadline)

	st, statsErr := e.waitSlips(ctx, r, gw, recovery.Add(slipsDeadline))
	if err := ctx.Err(); err != nil {
		return err
	}
	slips := r.sink.Deliveries(refPrefix("slip-"))
	raw, distinct := refCounts(slips)
	early, first, last := spread(slips, recovery)
	counts := r.sink.Counts()

	res.Figures = map[string]any{
		"callers": n, "reached_confirmation": len(ready), "not_ready": failed, "booked_screens": booked,
		"not_booked": notBook, "confirm_latency": summarise(lat), "appointments": st.Appointments,
		"slips_delivered": raw, "slips_distinct": distinct, "slips_before_recovery": early,
		"refused_503": counts.Refused, "first_slip_after_recovery_s": secs(first), "last_slip_after_recovery_s": secs(last),
		"sms_queued_end": st.SMSQueued, "stats_error": errString(statsErr),
	}
	res.line("%d callers, %d reached the confirmation, %d saw Booked! during the outage (confirm p50 %.0f ms, max %.0f ms)",
		n, len(ready), booked, summarise(lat).P50Ms, summarise(lat).MaxMs)
	if len(failed) > 0 {
		res.line("not ready: %s", failed)
	}
	if len(notBook) > 0 {
		res.line("not booked: %s", notBook)
	}
	res.line("appointments (stats): %d; slips: %d delivered, %d distinct refs, %d before recovery; 503 answers: %d",
		st.Appointments, raw, distinct, early, counts.Refused)
	res.line("slips arrived from %.1f to %.1f s after recovery; SMS still queued: %d", secs(first), secs(last), st.SMSQueued)
	res.check("every appointment's slip arrived", st.Appointments > 0 && int64(distinct) == st.Appointments,
		"%d slips for %d appointments", distinct, st.Appointments)
	res.check("each ref delivered at most once", raw == distinct, "%d deliveries, %d refs", raw, distinct)
	res.check("no slip delivered during the outage", early == 0, "%d", early)
	return nil
}

// spread counts the deliveries before from, and returns when the first and
// the last of the others arrived, from from (-1: none).
func spread(ds []Delivery, from time.Time) (before int, first, last time.Duration) {
	first, last = -1, -1
	for _, d := range ds {
		at := d.At.Sub(from)
		if at < 0 {
			before++
			continue
		}
		if first < 0 || at < first {
			first = at
		}
		last = max(last, at)
	}
	return before, first, last
}

// waitSlips polls the stats until every appointment's slip has arrived
// and the queue is empty, or until deadline; it returns the last stats
// read and the last error.
func (e *env) waitSlips(ctx context.Context, r *rig, gw *gatewayProc, deadline time.Time) (st dialog.Stats, lastErr error) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s, err := e.stats(ctx, gw)
		if err == nil {
			st = s
			_, distinct := refCounts(r.sink.Deliveries(refPrefix("slip-")))
			if st.Appointments > 0 && int64(distinct) >= st.Appointments && st.SMSQueued == 0 {
				return st, nil
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return st, lastErr
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Holding the slip at the sink while the gateway is killed.
const (
	slipHold     = 3 * time.Second
	takeoverWait = 150 * time.Second
)

// killGateway: gateways A and B share Redis and the sink; a caller books
// through A, the sink holds the slip's post, and A is killed (SIGKILL)
// right after it answers the booking turn. The slip must still arrive:
// B claims it when A's 60 s lease runs out.
func killGateway(ctx context.Context, e *env, r *rig, res *result) error {
	a, err := r.gateway(ctx, "A", nil)
	if err != nil {
		return err
	}
	b, err := r.gateway(ctx, "B", nil)
	if err != nil {
		return err
	}
	if err := e.seed(ctx, a); err != nil {
		return err
	}
	c := newCaller(e.client, a.URL, e.ids.Msisdn(), "")
	if err := e.prepareBooking(ctx, r.sink, c, "faults-kill"); err != nil {
		return err
	}
	r.sink.Hold("slip-", slipHold, time.Now().Add(15*time.Second))
	s, err := c.Confirm(ctx)
	answered := time.Now()
	killed := time.Since(answered) // SIGKILL goes out at once
	a.Kill()
	if err != nil {
		return err
	}
	e.logf("kill-gateway: booked through A, SIGKILL sent to A %.2f ms after its answer; waiting for B to send the slip (at most %s)",
		float64(killed.Microseconds())/1000, takeoverWait)
	mine := func(d Delivery) bool { return refPrefix("slip-")(d) && d.To == c.Msisdn }
	r.sink.WaitFor(ctx, mine, 1, takeoverWait)
	if err := ctx.Err(); err != nil {
		return err
	}
	r.sink.Quiet(ctx, 2*time.Second, 5*time.Second) // a second copy, if any
	slips := r.sink.Deliveries(mine)
	raw, distinct := refCounts(slips)
	counts := r.sink.Counts()
	delay := -1.0
	if len(slips) > 0 {
		delay = secs(slips[0].At.Sub(answered))
	}
	st, stErr := e.stats(ctx, b)

	res.Figures = map[string]any{
		"booked_latency_ms": ms(s.Latency), "killed_after_answer_ms": ms(killed), "held_posts_cut_off": counts.CutOff,
		"slip_delay_s": delay, "slips_delivered": raw, "slips_distinct": distinct, "appointments": st.Appointments,
		"stats_error": errString(stErr),
	}
	res.line("A answered Booked! in %.0f ms and got SIGKILL %.2f ms later; posts held and cut off by A's death: %d",
		ms(s.Latency), ms(killed), counts.CutOff)
	if delay >= 0 {
		res.line("the slip arrived %.1f s after the booking (%d deliveries, %d refs)", delay, raw, distinct)
	} else {
		res.line("no slip within %s", takeoverWait)
	}
	res.check("the slip arrived", distinct == 1, "%d within %s", distinct, takeoverWait)
	return nil
}
