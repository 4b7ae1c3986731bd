package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// classifyOTP names the screen that answered a request for a code.
func classifyOTP(s Screen) string {
	switch {
	case strings.Contains(s.Text, "Enter the 6-digit code"):
		return "code sent"
	case strings.Contains(s.Text, "Codes for other numbers: limit reached"):
		return "refused: other numbers"
	case strings.Contains(s.Text, "Too many codes going out"):
		return "refused: rate"
	case s.busy():
		return "busy"
	}
	return "other: " + clip(s.Text, 60)
}

// otpOthersAsks is how many other numbers the caller asks codes for.
const otpOthersAsks = 30

// otpOthers: one caller asks, through "2 Use another number", codes for 30
// other numbers, a new USSD session each time. The budget is 3 other
// numbers an hour (10 a day): count the codes that reach those numbers.
func otpOthers(ctx context.Context, e *env, r *rig, res *result) error {
	gw, err := r.gateway(ctx, "A", nil)
	if err != nil {
		return err
	}
	caller := newCaller(e.client, gw.URL, e.ids.Msisdn(), "")
	others := map[string]bool{}
	screens := tally{}
	var fourth string
	for i := range otpOthersAsks {
		other := e.ids.Msisdn()
		others[other] = true
		caller.Redial(fmt.Sprintf("faults-others-%d", i))
		if _, err := caller.ToNumberMenu(ctx); err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
		if _, err := caller.step(ctx, "use another number", "2", "Enter the 10-digit"); err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
		s, err := caller.Send(ctx, strings.TrimPrefix(other, "+91"))
		if err != nil {
			return fmt.Errorf("request %d: number: %w", i+1, err)
		}
		screens.add(classifyOTP(s))
		if i == 3 {
			fourth = s.Text
		}
	}
	r.sink.Quiet(ctx, 2*time.Second, 15*time.Second)
	ds := r.sink.Deliveries(func(d Delivery) bool { return others[d.To] && refPrefix("otp-")(d) })
	raw, distinct := refCounts(ds)
	own := len(r.sink.Deliveries(func(d Delivery) bool { return d.To == caller.Msisdn }))

	res.Figures = map[string]any{
		"requests": otpOthersAsks, "screens": screens, "codes_to_others": distinct, "deliveries_to_others": raw,
		"codes_to_own_number": own, "fourth_screen": fourth,
	}
	res.line("%d requests for other numbers: %s", otpOthersAsks, screens)
	res.line("codes at the sink for those numbers: %d (%d deliveries)", distinct, raw)
	res.line("the 4th request got: %q", fourth)
	res.check("codes to other numbers ≤ 3", distinct <= 3, "%d", distinct)
	res.check("the budget lets some through (not vacuous)", distinct >= 1, "%d", distinct)
	return nil
}

// OTP-rate load: otpRateCallers new callers a second for otpRateSeconds.
const (
	otpRateLimit   = 10
	otpRateCallers = 40
	otpRateSeconds = 10
)

// otpRate: with TIKASETU_OTP_RATE=10, 40 new callers a second for 10 s each
// ask a code for their own number; count the codes at the sink per second.
// Admission control is off, so that every caller reaches the code request.
func otpRate(ctx context.Context, e *env, r *rig, res *result) error {
	gw, err := r.gateway(ctx, "A", map[string]string{
		"TIKASETU_OTP_RATE": fmt.Sprint(otpRateLimit), "TIKASETU_MAX_INFLIGHT": "0"})
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		screens = tally{}
		lat     []time.Duration
		wg      sync.WaitGroup
	)
	total := otpRateCallers * otpRateSeconds
	every := time.Second / otpRateCallers
	lctx, cancel := context.WithTimeout(ctx, time.Duration(otpRateSeconds+30)*time.Second)
	defer cancel()
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			select {
			case <-lctx.Done():
			case <-time.After(d):
			}
		}
		if lctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newCaller(e.client, gw.URL, e.ids.Msisdn(), fmt.Sprintf("faults-rate-%d", i))
			kind := ""
			var took time.Duration
			if _, err := c.ToNumberMenu(lctx); err != nil {
				kind = "error before the code request: " + clip(err.Error(), 60)
			} else if s, err := c.Send(lctx, "1"); err != nil {
				kind = "error: " + clip(err.Error(), 60)
			} else {
				kind, took = classifyOTP(s), s.Latency
			}
			mu.Lock()
			screens.add(kind)
			if took > 0 {
				lat = append(lat, took)
			}
			mu.Unlock()
		}()
	}
	offered := time.Since(start)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	r.sink.Quiet(ctx, 2*time.Second, 15*time.Second)
	ds := r.sink.Deliveries(refPrefix("otp-"))
	raw, distinct := refCounts(ds)
	times := make([]time.Time, len(ds))
	for i, d := range ds {
		times[i] = d.At
	}
	f := rateOf(perSecond(times), otpRateLimit)

	res.Figures = map[string]any{
		"limit": otpRateLimit, "callers_per_s": otpRateCallers, "seconds": otpRateSeconds, "offered": total,
		"offered_s": secs(offered), "screens": screens, "code_request_latency": summarise(lat),
		"codes": f, "deliveries": raw, "distinct_codes": distinct,
	}
	res.line("%d callers over %.1f s: %s", total, offered.Seconds(), screens)
	res.line("codes at the sink: %d over %d wall seconds, per second %v", f.Total, f.Seconds, f.PerSecond)
	ok, detail := withinRate(f, otpRateSeconds)
	res.check("codes within the rate", ok, "%s", detail)
	res.check("deliveries = codes (no code sent twice)", raw == distinct, "%d deliveries, %d codes", raw, distinct)
	res.check("the limit was reached (not vacuous)", screens["refused: rate"] > 0, "%d refused", screens["refused: rate"])
	return nil
}
