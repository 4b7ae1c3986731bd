// Package loadgen is the load generator's library: simulated citizens doing
// whole USSD registration and booking journeys against a running TikaSetu
// gateway, the SMS sink that catches their OTPs, the synthetic calendar that
// seeds the gateway, the "floor" handler (HTTP plus one Redis read and write,
// the least a request can cost), and the report: a JSON summary and a chart.
//
// It lives under cmd/tikasetu-loadgen, apart from the gateway, because only
// the load lab uses it: the tikasetu-loadgen command ("run" and "floor") and
// the fault scenarios of cmd/tikasetu-faults. It belongs to no layer of the
// gateway (dialog, providers, store), nothing there may depend on it, and
// the gateway binary carries none of it (nor its chart and progress-bar
// libraries).
//
// Arrivals are open-loop by default: journeys start on a schedule (Poisson
// or evenly spaced, ramping linearly to a rate), whatever the gateway's
// answers, as callers do; a closed loop (N callers back to back) finds
// capacity. Latency is measured per request ("hop") from sending it to
// reading all of the answer.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Modes.
const (
	Open   = "open"
	Closed = "closed"
)

// Config is one run.
type Config struct {
	URL  string // gateway base URL
	Mode string // Open (default) or Closed

	// Open loop: arrivals follow Schedule; at most MaxInFlight journeys run
	// at once, and an arrival beyond that is dropped (counted apart).
	Schedule    Schedule
	MaxInFlight int
	// Closed loop: Concurrency callers doing journeys back to back, started
	// evenly over Schedule.Ramp, for Schedule.Ramp+Schedule.Duration.
	Concurrency int

	Timeout     time.Duration // per request and for the OTP SMS; default 2 s
	Drain       time.Duration // after the last arrival, wait this long for journeys to finish; default 10 s
	Think       time.Duration // pause before each request after the dial
	Pin         string        // the PIN code to book at
	ServiceCode string        // default *123*45#
	Busy        []string      // markers of the busy screen, whole words in any case; default "busy"
	Queued      []string      // markers of the queued screen (a place in the surge queue), likewise; default "in the queue"

	// Retry, when set, makes callers turned away at the dial try again
	// (see Retry), and the summary report them (TurnedAway); without it a
	// caller turned away ends there, shed.
	Retry *Retry

	Floor     bool // requests of no meaning to a floor handler
	FloorHops int  // requests per floor journey; default RealJourneyHops

	Sink   *Sink        // receives OTPs; required unless Floor
	Client *http.Client // default: NewClient(max(MaxInFlight, Concurrency))

	// CPU are processes whose CPU time per hop the summary reports, over
	// the steady part of the run (after the ramp until the last arrival);
	// the generator itself is added as "generator". Linux only.
	CPU []Proc

	Progress    io.Writer // live progress; nil for none
	ProgressTTY bool      // Progress is a terminal: rewrite one line every second

	rng *rand.Rand // tests: fixed arrivals
}

// Summary is the result of a run, printed as JSON.
type Summary struct {
	Mode        string  `json:"mode"`
	Floor       bool    `json:"floor"`
	Arrivals    string  `json:"arrivals,omitempty"` // poisson | even (open loop)
	TargetRate  float64 `json:"target_rate,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	ElapsedS    float64 `json:"elapsed_s"`

	OfferedJourneysPerS float64 `json:"offered_journeys_per_s"`
	Offered             int64   `json:"offered_journeys"`
	DroppedByLoadgen    int64   `json:"dropped_by_loadgen"`
	Started             int64   `json:"started_journeys"`
	CompletedJourneys   int64   `json:"completed_journeys"`
	JourneysPerS        float64 `json:"journeys_per_s"`
	SteadyJourneysPerS  float64 `json:"steady_journeys_per_s"`

	Hops           int64   `json:"hops"`
	HopsPerS       float64 `json:"hops_per_s"`
	SteadyHopsPerS float64 `json:"steady_hops_per_s"`
	HopP50Ms       float64 `json:"hop_p50_ms"`
	HopP95Ms       float64 `json:"hop_p95_ms"`
	HopP99Ms       float64 `json:"hop_p99_ms"`
	HopMaxMs       float64 `json:"hop_max_ms"`

	Shed        int64 `json:"shed"`
	Errors      int64 `json:"errors"`
	Timeouts    int64 `json:"timeouts"`
	OTPTimeouts int64 `json:"otp_timeouts"` // of Timeouts: the OTP SMS did not come
	Abandoned   int64 `json:"abandoned"`    // still running when the run ended

	ShedBy       map[string]int64 `json:"shed_by_step,omitempty"` // where shed journeys were turned away ("dial": new sessions)
	ShedScreens  map[string]int64 `json:"shed_screens,omitempty"` // the busy screens seen
	ErrorReasons map[string]int64 `json:"error_reasons,omitempty"`
	ErrorSamples []string         `json:"error_samples,omitempty"`
	Sink         *SinkStats       `json:"sink,omitempty"`

	// TurnedAway reports the callers turned away at the dial, with
	// Config.Retry: then Shed counts only the callers never let in (and
	// those shed mid-journey), and CompletedJourneys includes those let in
	// after a wait.
	TurnedAway *TurnedAway `json:"turned_away,omitempty"`

	// CPUPerHopUs is the CPU time (user and system) of each of Config.CPU
	// and of the generator over the steady part of the run, divided by the
	// hops answered then, in microseconds.
	CPUPerHopUs map[string]float64 `json:"cpu_per_hop_us,omitempty"`
}

// NewClient returns an HTTP client for conns concurrent requests to one
// host: the generator's Transport (keep-alive, as many idle connections as
// requests in flight, so that none is closed and re-dialled), no proxy and
// no overall timeout (journeys time each request).
func NewClient(conns int) *http.Client {
	return &http.Client{Transport: NewTransport(max(conns, 100))}
}

func (c *Config) defaults() error {
	if c.Mode == "" {
		c.Mode = Open
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
	}
	if c.ServiceCode == "" {
		c.ServiceCode = "*123*45#"
	}
	if c.Busy == nil {
		c.Busy = []string{"busy"}
	}
	if c.Queued == nil {
		c.Queued = []string{"in the queue"}
	}
	if c.Retry != nil {
		r := *c.Retry // the caller's stays as it was
		if err := r.defaults(); err != nil {
			return err
		}
		c.Retry = &r
	}
	if c.FloorHops <= 0 {
		c.FloorHops = RealJourneyHops
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 10000
	}
	switch {
	case c.URL == "":
		return errors.New("loadgen: no gateway URL")
	case c.Mode != Open && c.Mode != Closed:
		return fmt.Errorf("loadgen: mode %q: want open or closed", c.Mode)
	case c.Mode == Open && c.Schedule.Rate <= 0:
		return errors.New("loadgen: the open loop needs a rate above 0")
	case c.Mode == Closed && c.Concurrency <= 0:
		return errors.New("loadgen: the closed loop needs a concurrency above 0")
	case c.Schedule.Ramp < 0 || c.Schedule.Duration < 0:
		return errors.New("loadgen: negative ramp or duration")
	case !c.Floor && c.Sink == nil:
		return errors.New("loadgen: journeys need an SMS sink for their OTPs")
	case !c.Floor && c.Pin == "":
		return errors.New("loadgen: journeys need a PIN code to book at")
	case c.Floor && c.Retry != nil:
		return errors.New("loadgen: retries are for journeys, not a floor handler")
	}
	if c.Client == nil {
		c.Client = NewClient(max(c.MaxInFlight, c.Concurrency))
	}
	return nil
}

// Run drives the load and returns the summary and the timeline (one point a
// second). It stops early, abandoning journeys in flight, when ctx ends.
func Run(ctx context.Context, cfg Config) (Summary, []Point, error) {
	if err := cfg.defaults(); err != nil {
		return Summary{}, nil, err
	}
	rng := cfg.rng
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	st := newStats()
	t := &target{
		client: cfg.Client, ussdURL: strings.TrimRight(cfg.URL, "/") + USSDPath,
		serviceCode: cfg.ServiceCode, timeout: cfg.Timeout, think: cfg.Think, pin: cfg.Pin,
		sink: cfg.Sink, ids: newIdentities(rng), stats: st, retry: cfg.Retry,
	}
	for _, b := range cfg.Busy {
		t.busy = append(t.busy, strings.ToLower(b))
	}
	for _, q := range cfg.Queued {
		t.queued = append(t.queued, strings.ToLower(q))
	}
	if cfg.Retry != nil {
		// The invitation names the code to dial; a sender that posts no
		// kind is told apart by it.
		cfg.Sink.SetInviteMarker(cfg.ServiceCode)
	}
	runID := fmt.Sprintf("%06x", rng.Uint32()&0xffffff)

	// Journeys run under jctx: cancelled when the drain runs out or ctx ends.
	jctx, cancelJourneys := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJourneys()
	stopJ := context.AfterFunc(ctx, cancelJourneys)
	defer stopJ()

	var (
		wg   sync.WaitGroup
		seq  int64
		seqM sync.Mutex
	)
	journey := func() {
		seqM.Lock()
		seq++
		n := seq
		seqM.Unlock()
		j := t.newJourney(fmt.Sprintf("lg-%s-%d", runID, n), rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
		var o Outcome
		if cfg.Floor {
			o = j.floor(jctx, cfg.FloorHops)
		} else {
			o = j.run(jctx)
		}
		st.ended(o)
		if j.away != nil {
			st.turnedAway(j.away, o.Kind == Completed)
		}
	}

	start := time.Now()
	st.start = start
	prog := newProgress(cfg.Progress, cfg.ProgressTTY)
	tickDone := make(chan struct{})
	stopTick := make(chan struct{})
	go func() {
		defer close(tickDone)
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopTick:
				return
			case now := <-tk.C:
				el := now.Sub(start)
				st.tick(el.Seconds())
				prog.second(st, el)
			}
		}
	}()

	span := cfg.Schedule.Span()
	// CPU per hop: samples at the end of the ramp and at the last arrival.
	cpuProcs := append(slices.Clone(cfg.CPU), Proc{Name: "generator"})
	var cpuFrom, cpuTo cpuSample
	cpuDone := make(chan struct{})
	go func() {
		defer close(cpuDone)
		for i, at := range []time.Duration{cfg.Schedule.Ramp, span} {
			select {
			case <-ctx.Done():
				return
			case <-stopTick:
				return
			case <-time.After(time.Until(start.Add(at))):
			}
			s := sampleCPU(cpuProcs, st.total.hops.Load())
			if i == 0 {
				cpuFrom = s
			} else {
				cpuTo = s
			}
		}
	}()
	switch cfg.Mode {
	case Open:
		arr := NewArrivals(cfg.Schedule, rng)
		timer := time.NewTimer(time.Hour)
		timer.Stop()
	arrivals:
		for {
			off, ok := arr.Next()
			if !ok {
				break
			}
			if d := time.Until(start.Add(off)); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					timer.Stop()
					break arrivals
				case <-timer.C:
				}
			} else if ctx.Err() != nil {
				break arrivals
			}
			if st.inFlight.Load() >= int64(cfg.MaxInFlight) {
				st.offered(true)
				continue
			}
			st.offered(false)
			st.started()
			wg.Add(1)
			go func() { defer wg.Done(); journey() }()
		}
	case Closed:
		deadline := start.Add(span)
		for i := range cfg.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				delay := time.Duration(float64(cfg.Schedule.Ramp) * float64(i) / float64(cfg.Concurrency))
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(start.Add(delay))):
				}
				for ctx.Err() == nil && time.Now().Before(deadline) {
					st.offered(false)
					st.started()
					journey()
				}
			}()
		}
		select { // the workers stop starting journeys at the deadline
		case <-ctx.Done():
		case <-time.After(time.Until(deadline)):
		}
	}

	// Drain: let the journeys in flight finish, for a while.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		cancelJourneys()
		<-done
	case <-time.After(cfg.Drain):
		cancelJourneys()
		<-done
	}
	close(stopTick)
	<-tickDone
	<-cpuDone
	elapsed := time.Since(start)
	st.tick(elapsed.Seconds())
	prog.done()

	sum := summarise(cfg, st, elapsed)
	if cpuTo.ticks != nil {
		sum.CPUPerHopUs = perHop(cpuProcs, cpuFrom, cpuTo)
	}
	return sum, st.Timeline(), nil
}

// summarise computes the summary from the stats of a finished run.
func summarise(cfg Config, st *stats, elapsed time.Duration) Summary {
	secs := elapsed.Seconds()
	per := func(n int64, s float64) float64 {
		if s <= 0 {
			return 0
		}
		return round2(float64(n) / s)
	}
	s := Summary{
		Mode: cfg.Mode, Floor: cfg.Floor, ElapsedS: round2(secs),
		Offered: st.total.offered.Load(), DroppedByLoadgen: st.total.dropped.Load(), Started: st.total.started.Load(),
		CompletedJourneys: st.total.outcomes[Completed].Load(),
		Hops:              st.total.hops.Load(),
		HopP50Ms:          ms(st.hist.Quantile(0.50)), HopP95Ms: ms(st.hist.Quantile(0.95)),
		HopP99Ms: ms(st.hist.Quantile(0.99)), HopMaxMs: ms(st.hist.Max()),
		Shed: st.total.outcomes[Shed].Load(), Errors: st.total.outcomes[Errored].Load(),
		Timeouts: st.total.outcomes[TimedOut].Load(), OTPTimeouts: st.otpWait.Load(),
		Abandoned: st.total.outcomes[Abandoned].Load(),
	}
	span := cfg.Schedule.Span().Seconds()
	if cfg.Mode == Open {
		s.Arrivals = "even"
		if cfg.Schedule.Poisson {
			s.Arrivals = "poisson"
		}
		s.TargetRate = cfg.Schedule.Rate
		s.OfferedJourneysPerS = per(s.Offered, span)
	} else {
		s.Concurrency = cfg.Concurrency
		s.OfferedJourneysPerS = per(s.Offered, math.Min(span, secs))
	}
	s.JourneysPerS = per(s.CompletedJourneys, secs)
	s.HopsPerS = per(s.Hops, secs)

	// Steady state: the seconds after the ramp until the last arrival.
	from, to := cfg.Schedule.Ramp.Seconds(), span
	var steadySecs float64
	var steadyDone, steadyHops int64
	for _, p := range st.Timeline() {
		if p.T-p.Secs >= from-0.5 && p.T <= to+0.5 {
			steadySecs += p.Secs
			steadyDone += p.Completed
			steadyHops += p.Hops
		}
	}
	s.SteadyJourneysPerS = per(steadyDone, steadySecs)
	s.SteadyHopsPerS = per(steadyHops, steadySecs)

	s.ErrorReasons, s.ErrorSamples, s.ShedBy, s.ShedScreens = st.breakdown()
	if cfg.Sink != nil {
		ss := cfg.Sink.Stats()
		s.Sink = &ss
	}
	if cfg.Retry != nil {
		s.TurnedAway = summariseAway(st.awayRecords(), elapsed)
	}
	return s
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
