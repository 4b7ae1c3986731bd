package loadgen

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// Kind is how a journey ended.
type Kind int

const (
	Completed Kind = iota // reached the last screen ("Booked!", or all floor hops)
	Shed                  // the gateway answered END with its busy screen
	Errored               // unexpected screen, status other than 200, unparseable answer, connection failure
	TimedOut              // a hop got no full answer, or the OTP no SMS, within the timeout
	Abandoned             // still running when the run ended (after the drain)
	numKinds
)

var kindNames = [numKinds]string{"completed", "shed", "error", "timeout", "abandoned"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// counts are the event counters of a run or of one second of it.
type counts struct {
	offered, dropped, started atomic.Int64
	outcomes                  [numKinds]atomic.Int64
	hops                      atomic.Int64
}

// window is one second of the run.
type window struct {
	counts
	hist *Histogram
}

// Point is one second of the run, for the progress line and the plot. Events
// are counted in the second they happened (a journey in the second it ended).
type Point struct {
	T         float64 `json:"t"`    // seconds since the start, at the end of this second
	Secs      float64 `json:"secs"` // length of this point (about 1; the last may be shorter)
	Offered   int64   `json:"offered"`
	Dropped   int64   `json:"dropped_by_loadgen"`
	Started   int64   `json:"started"`
	Completed int64   `json:"completed"`
	Shed      int64   `json:"shed"`
	Errors    int64   `json:"errors"`
	Timeouts  int64   `json:"timeouts"`
	Hops      int64   `json:"hops"`
	InFlight  int64   `json:"in_flight"`
	Waiting   int64   `json:"waiting,omitempty"` // callers turned away, waiting to dial again
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
	P99       float64 `json:"p99_ms"`
}

// stats records a run: totals, a histogram of every answered hop, and a
// rolling one-second window that Tick turns into timeline Points. Recording
// is lock-free.
type stats struct {
	total    counts
	hist     *Histogram
	inFlight atomic.Int64 // journeys started and not ended, less those waiting
	waiting  atomic.Int64 // callers turned away, waiting to dial again
	otpWait  atomic.Int64 // timeouts that were the OTP not arriving
	cur      atomic.Pointer[window]

	mu       sync.Mutex
	reasons  map[string]int64 // error and timeout reasons by step
	shedAt   map[string]int64 // shed journeys by step
	shedText map[string]int64 // shed journeys by busy screen
	samples  []string         // the first few error details
	timeline []Point
	lastT    float64
	recent   []*Histogram // the last few seconds, for the 5 s progress line
	start    time.Time    // of the run, for the times of callers turned away
	away     []awayRecord // callers turned away at the dial (with retries)
}

const (
	maxSamples = 5  // error details kept for the summary
	maxReasons = 50 // distinct reasons kept; the rest count as "other"
)

func newStats() *stats {
	s := &stats{hist: NewHistogram(), reasons: map[string]int64{}, shedAt: map[string]int64{}, shedText: map[string]int64{}}
	s.cur.Store(&window{hist: NewHistogram()})
	return s
}

func (s *stats) hop(d time.Duration) {
	s.hist.Record(d)
	s.total.hops.Add(1)
	w := s.cur.Load()
	w.hist.Record(d)
	w.hops.Add(1)
}

func (s *stats) offered(dropped bool) {
	s.total.offered.Add(1)
	w := s.cur.Load()
	w.offered.Add(1)
	if dropped {
		s.total.dropped.Add(1)
		w.dropped.Add(1)
	}
}

func (s *stats) started() {
	s.total.started.Add(1)
	s.cur.Load().started.Add(1)
	s.inFlight.Add(1)
}

// waitBegin and waitEnd bracket a turned-away caller's wait to dial again:
// waiting, not in flight.
func (s *stats) waitBegin() { s.inFlight.Add(-1); s.waiting.Add(1) }
func (s *stats) waitEnd()   { s.waiting.Add(-1); s.inFlight.Add(1) }

// turnedAway records the time a caller spent turned away, once their
// journey has ended (booked: it was completed).
func (s *stats) turnedAway(a *away, booked bool) {
	r := a.record(s.start, booked)
	s.mu.Lock()
	s.away = append(s.away, r)
	s.mu.Unlock()
}

// awayRecords returns a copy of the callers turned away.
func (s *stats) awayRecords() []awayRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.away)
}

// ended records a journey's outcome.
func (s *stats) ended(o Outcome) {
	s.inFlight.Add(-1)
	s.total.outcomes[o.Kind].Add(1)
	s.cur.Load().outcomes[o.Kind].Add(1)
	if o.OTP {
		s.otpWait.Add(1)
	}
	switch o.Kind {
	case Errored, TimedOut:
		s.mu.Lock()
		count(s.reasons, o.Kind.String()+" at "+o.Step+": "+o.Reason)
		if o.Kind == Errored && len(s.samples) < maxSamples {
			s.samples = append(s.samples, o.Error())
		}
		s.mu.Unlock()
	case Shed:
		s.mu.Lock()
		count(s.shedAt, o.Step)
		count(s.shedText, numbersOut(o.Detail))
		s.mu.Unlock()
	}
}

// count adds one to m[key], or to m["other"] once m holds maxReasons keys.
func count(m map[string]int64, key string) {
	if _, ok := m[key]; !ok && len(m) >= maxReasons {
		key = "other"
	}
	m[key]++
}

// tick closes the current second, appends it to the timeline and returns it.
func (s *stats) tick(t float64) Point {
	w := s.cur.Swap(&window{hist: NewHistogram()})
	p := Point{
		T: t, Offered: w.offered.Load(), Dropped: w.dropped.Load(), Started: w.started.Load(),
		Completed: w.outcomes[Completed].Load(), Shed: w.outcomes[Shed].Load(),
		Errors: w.outcomes[Errored].Load(), Timeouts: w.outcomes[TimedOut].Load(),
		Hops: w.hops.Load(), InFlight: s.inFlight.Load(), Waiting: s.waiting.Load(),
		P50: ms(w.hist.Quantile(0.50)), P95: ms(w.hist.Quantile(0.95)), P99: ms(w.hist.Quantile(0.99)),
	}
	s.mu.Lock()
	p.Secs = t - s.lastT
	s.lastT = t
	s.timeline = append(s.timeline, p)
	s.recent = append(s.recent, w.hist)
	if len(s.recent) > 5 {
		s.recent = s.recent[1:]
	}
	s.mu.Unlock()
	return p
}

// lastSeconds sums the last n timeline points, with latency quantiles over
// all their hops; the result's T is the last point's. It also returns the
// seconds they cover.
func (s *stats) lastSeconds(n int) (Point, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = min(n, len(s.timeline), len(s.recent))
	if n == 0 {
		return Point{}, 0
	}
	var sum Point
	h := NewHistogram()
	for _, p := range s.timeline[len(s.timeline)-n:] {
		sum.Offered += p.Offered
		sum.Dropped += p.Dropped
		sum.Started += p.Started
		sum.Completed += p.Completed
		sum.Shed += p.Shed
		sum.Errors += p.Errors
		sum.Timeouts += p.Timeouts
		sum.Hops += p.Hops
		sum.Secs += p.Secs
	}
	for _, w := range s.recent[len(s.recent)-n:] {
		h.Merge(w)
	}
	last := s.timeline[len(s.timeline)-1]
	sum.T, sum.InFlight, sum.Waiting = last.T, last.InFlight, last.Waiting
	sum.P50, sum.P95, sum.P99 = ms(h.Quantile(0.50)), ms(h.Quantile(0.95)), ms(h.Quantile(0.99))
	return sum, sum.Secs
}

// Timeline returns the seconds recorded so far.
func (s *stats) Timeline() []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Point(nil), s.timeline...)
}

// breakdown returns copies of the error and timeout reasons, the first few
// error details, and the shed journeys by step and by screen.
func (s *stats) breakdown() (reasons map[string]int64, samples []string, shedAt, shedText map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.reasons), slices.Clone(s.samples), maps.Clone(s.shedAt), maps.Clone(s.shedText)
}

// numbersOut replaces each run of digits in a screen with "N", so that
// screens differing only in numbers (a place in the queue, minutes) count
// as one.
func numbersOut(screen string) string {
	var b strings.Builder
	digits := false
	for _, r := range screen {
		if unicode.IsDigit(r) {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	return b.String()
}
