package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// The redis-stall timeline.
const (
	stallLoad        = 40 * time.Second // loadgen's run (ramp included)
	stallAt          = 10 * time.Second // from the start of the load
	stallFor         = 10 * time.Second
	stallCallers     = 32
	stallSMSRate     = 1000
	readyEvery       = 100 * time.Millisecond
	readyTimeout     = 3 * time.Second // the poller's client timeout
	readyBar         = time.Second     // the gateway's /readyz deadline
	readyAllowance   = 200 * time.Millisecond
	probeEvery       = 100 * time.Millisecond
	probeFor         = 30 * time.Second
	admitBar         = 2 * time.Second
	answerBar        = 2 * time.Second
	maxReadyPolls    = 2000
	maxNewCallerDial = 400
)

// readyPoll is one GET /readyz.
type readyPoll struct {
	At      time.Time
	Took    time.Duration
	Status  int // 0: no answer within readyTimeout
	ErrText string
}

// probe is one brand-new caller's dial after SIGCONT.
type probe struct {
	At       time.Time
	Answered time.Time
	Admitted bool
	Kind     string
}

// redisStall: loadgen's closed loop (32 callers) for 40 s; 10 s in, Redis
// is frozen for 10 s. /readyz is polled every 100 ms, and from SIGCONT on
// a brand-new caller dials every 100 ms until one is let in.
func redisStall(ctx context.Context, e *env, r *rig, res *result) error {
	lsink := loadgen.NewSink([]byte(smsSecret))
	r.sink.Forward(lsink) // the rig's sink times the SMS; loadgen's hands out the codes
	// Neither the SMS rate nor the code rate (which defaults to it) may
	// limit the load: at the default 100 a second, 32 instant callers ask
	// more codes than that in some seconds, and loadgen counts the "Too
	// many codes going out" screen as an error.
	gw, err := r.gateway(ctx, "A", map[string]string{"TIKASETU_SMS_RATE": fmt.Sprint(stallSMSRate)})
	if err != nil {
		return err
	}
	if err := e.seed(ctx, gw); err != nil {
		return err
	}

	e.logf("redis-stall: %d callers for %s; Redis frozen from %s to %s", stallCallers, stallLoad, stallAt, stallAt+stallFor)
	start := time.Now()
	var (
		sum  loadgen.Summary
		tl   []loadgen.Point
		lerr error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		sum, tl, lerr = loadgen.Run(ctx, loadgen.Config{
			URL: gw.URL, Mode: loadgen.Closed, Concurrency: stallCallers,
			Schedule: loadgen.Schedule{Ramp: 2 * time.Second, Duration: stallLoad - 2*time.Second},
			Pin:      seedPin, Sink: lsink, Timeout: answerBar, Drain: 10 * time.Second,
		})
	}()

	polls := pollReady(ctx, e.client, gw.URL, done)

	wait := func(until time.Time) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(until)):
			return nil
		}
	}
	if err := wait(start.Add(stallAt)); err != nil {
		return err
	}
	stopped := time.Now()
	if err := r.redis.Pause(); err != nil {
		return err
	}
	defer r.redis.Resume() // on an early return too
	if err := wait(stopped.Add(stallFor)); err != nil {
		return err
	}
	if err := r.redis.Resume(); err != nil {
		return err
	}
	resumed := time.Now()
	e.logf("redis-stall: Redis resumed; dialling a new caller every %s", probeEvery)
	probes := e.probeNewCallers(ctx, gw.URL)
	<-done
	ps := polls()
	if lerr != nil {
		return fmt.Errorf("loadgen: %w", lerr)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	rf := judgeReady(ps, stopped, resumed)
	admitted, kinds := firstAdmitted(probes, resumed)

	sms := func(from, to time.Time) int {
		return len(r.sink.Deliveries(func(d Delivery) bool { return !d.At.Before(from) && d.At.Before(to) }))
	}
	smsAround := map[string]int{
		"last_second_before": sms(stopped.Add(-time.Second), stopped), "first_second_of_stall": sms(stopped, stopped.Add(time.Second)),
		"rest_of_stall": sms(stopped.Add(time.Second), resumed), "first_second_after": sms(resumed, resumed.Add(time.Second)),
	}
	requestTimeouts := sum.Timeouts - sum.OTPTimeouts
	timeoutsAt := timeoutSeconds(tl)
	res.Figures = map[string]any{
		"loadgen": map[string]any{
			"completed_journeys": sum.CompletedJourneys, "journeys_per_s": sum.JourneysPerS, "hops": sum.Hops,
			"hop_p50_ms": sum.HopP50Ms, "hop_p99_ms": sum.HopP99Ms, "hop_max_ms": sum.HopMaxMs,
			"shed": sum.Shed, "shed_by_step": sum.ShedBy, "errors": sum.Errors, "error_reasons": sum.ErrorReasons, "error_samples": sum.ErrorSamples,
			"timeouts": sum.Timeouts, "otp_timeouts": sum.OTPTimeouts, "timeouts_by_second": timeoutsAt,
		},
		"sms_delivered": smsAround,
		"stall_from_s":  stallAt.Seconds(), "stall_to_s": (stallAt + stallFor).Seconds(),
		"readyz_during_stall":       rf,
		"readyz_200_after_resume_s": secs(rf.OKAfterResume),
		"new_callers":               map[string]any{"dials": len(probes), "answers": kinds, "first_admitted_after_resume_s": secs(admitted)},
	}
	res.line("loadgen: %d journeys (%.1f/s), %d hops, p50 %.1f ms, p99 %.1f ms, max %.0f ms; shed %d, errors %d, timeouts %d (of them waiting for the OTP SMS %d)",
		sum.CompletedJourneys, sum.JourneysPerS, sum.Hops, sum.HopP50Ms, sum.HopP99Ms, sum.HopMaxMs, sum.Shed, sum.Errors, sum.Timeouts, sum.OTPTimeouts)
	if len(sum.ErrorReasons) > 0 {
		res.line("loadgen errors and timeouts: %v; timeouts by second of the run (Redis frozen from %.0f to %.0f s): %v",
			sum.ErrorReasons, stallAt.Seconds(), (stallAt + stallFor).Seconds(), timeoutsAt)
	}
	for i, e := range sum.ErrorSamples {
		if i == 3 {
			break
		}
		res.line("loadgen error sample: %s", clip(e, 240))
	}
	res.line("SMS delivered: %d in the second before the freeze, %d in its first second, %d in the rest of it, %d in the second after",
		smsAround["last_second_before"], smsAround["first_second_of_stall"], smsAround["rest_of_stall"], smsAround["first_second_after"])
	res.line("/readyz sent while Redis was frozen: %d polls, %s; latency p50 %.0f ms, max %.0f ms",
		rf.Polls, rf.Answers, rf.Latency.P50Ms, rf.Latency.MaxMs)
	res.line("/readyz 200 again %.2f s after SIGCONT", secs(rf.OKAfterResume))
	res.line("new callers after SIGCONT: %d dials, %s; first admitted %.2f s after SIGCONT", len(probes), kinds, secs(admitted))

	res.check("every request answered within 2 s", sum.Errors == 0 && requestTimeouts == 0 && sum.HopMaxMs <= float64(answerBar.Milliseconds()),
		"errors %d, request timeouts %d, max %.0f ms", sum.Errors, requestTimeouts, sum.HopMaxMs)
	res.check("/readyz 503 within 1 s during the stall", rf.Polls > 0 && rf.Unanswered == 0 && rf.Bad == 0,
		"%d polls, %d unanswered, %d late or not 503, max %.0f ms (allowance %s)", rf.Polls, rf.Unanswered, rf.Bad, rf.Latency.MaxMs, readyAllowance)
	res.check("a new caller admitted within 2 s of SIGCONT", admitted >= 0 && admitted <= admitBar, "%.2f s", secs(admitted))
	return nil
}

// timeoutSeconds lists the seconds of a loadgen timeline (from its start,
// rounded) in which journeys timed out, with how many.
func timeoutSeconds(tl []loadgen.Point) map[string]int64 {
	out := map[string]int64{}
	for _, p := range tl {
		if p.Timeouts > 0 {
			out[fmt.Sprintf("%.0f", p.T)] += p.Timeouts
		}
	}
	return out
}

// readyFigures judge the /readyz polls sent while Redis was frozen.
type readyFigures struct {
	Polls      int       `json:"polls"`
	Answers    tally     `json:"answers"`
	Latency    durations `json:"latency"`
	Unanswered int       `json:"unanswered"` // no answer within the poller's timeout
	// Bad counts answers later than readyBar+readyAllowance, or other than
	// 503 while Redis was still frozen.
	Bad int `json:"late_or_not_503"`
	// OKAfterResume is when the first poll after SIGCONT answered 200,
	// from SIGCONT (-1: none).
	OKAfterResume time.Duration `json:"-"`
}

// judgeReady sums up the polls sent between stopped and resumed, and finds
// the first 200 of the polls sent after resumed. A poll sent during the
// stall and answered after SIGCONT may be 200: Redis answers again.
func judgeReady(ps []readyPoll, stopped, resumed time.Time) readyFigures {
	f := readyFigures{Answers: tally{}, OKAfterResume: -1}
	var lat []time.Duration
	for _, p := range ps {
		switch {
		case p.At.Before(stopped):
			continue
		case !p.At.Before(resumed):
			if p.Status == http.StatusOK {
				if at := p.At.Add(p.Took).Sub(resumed); f.OKAfterResume < 0 || at < f.OKAfterResume {
					f.OKAfterResume = at
				}
			}
			continue
		}
		f.Polls++
		if p.Status == 0 {
			f.Unanswered++
			f.Answers.add("no answer")
			continue
		}
		lat = append(lat, p.Took)
		frozen := p.At.Add(p.Took).Before(resumed)
		if frozen {
			f.Answers.add(fmt.Sprint(p.Status))
		} else {
			f.Answers.add(fmt.Sprint(p.Status) + " after SIGCONT")
		}
		if p.Took > readyBar+readyAllowance || (frozen && p.Status != http.StatusServiceUnavailable) {
			f.Bad++
		}
	}
	f.Latency = summarise(lat)
	return f
}

// firstAdmitted returns how long after resumed the first admitted probe
// was answered (-1: none), and the probes' outcomes.
func firstAdmitted(probes []probe, resumed time.Time) (time.Duration, tally) {
	first := time.Duration(-1)
	kinds := tally{}
	for _, p := range probes {
		kinds.add(p.Kind)
		if at := p.Answered.Sub(resumed); p.Admitted && (first < 0 || at < first) {
			first = at
		}
	}
	return first, kinds
}

// pollReady polls GET /readyz every readyEvery, each poll on its own
// goroutine with readyTimeout, until stop is closed; the returned function
// waits for the polls in flight and returns them all.
func pollReady(ctx context.Context, client *http.Client, base string, stop <-chan struct{}) func() []readyPoll {
	var (
		mu    sync.Mutex
		polls []readyPoll
		wg    sync.WaitGroup
		ended = make(chan struct{})
	)
	go func() {
		defer close(ended)
		t := time.NewTicker(readyEvery)
		defer t.Stop()
		for n := 0; n < maxReadyPolls; n++ {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := getReady(ctx, client, base)
				mu.Lock()
				polls = append(polls, p)
				mu.Unlock()
			}()
		}
	}()
	return func() []readyPoll {
		<-ended
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return polls
	}
}

func getReady(ctx context.Context, client *http.Client, base string) readyPoll {
	p := readyPoll{At: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err == nil {
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			p.Status = resp.StatusCode
		}
	}
	p.Took = time.Since(p.At)
	if err != nil {
		p.ErrText = err.Error()
	}
	return p
}

// probeNewCallers dials a brand-new caller every probeEvery, each on its
// own goroutine, until one is let in (not the busy screen) or probeFor
// passes, and returns every dial.
func (e *env) probeNewCallers(ctx context.Context, base string) []probe {
	var (
		mu       sync.Mutex
		probes   []probe
		wg       sync.WaitGroup
		admitted atomic.Bool
	)
	end := time.Now().Add(probeFor)
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for n := 0; n < maxNewCallerDial && !admitted.Load() && time.Now().Before(end); n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newCaller(e.client, base, e.ids.Msisdn(), fmt.Sprintf("faults-probe-%d", n))
			p := probe{At: time.Now()}
			s, err := c.Send(ctx, "")
			p.Answered = time.Now()
			switch {
			case err != nil:
				p.Kind = "error: " + clip(err.Error(), 60)
			case s.busy():
				p.Kind = "busy"
			case s.End:
				p.Kind = "END: " + clip(s.Text, 60)
			default:
				p.Kind, p.Admitted = "admitted", true
				admitted.Store(true)
			}
			mu.Lock()
			probes = append(probes, p)
			mu.Unlock()
		}()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	return probes
}
