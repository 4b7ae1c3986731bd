package admission

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tikasetu/tikasetu/dialog"
)

// gateHandler answers at once, or holds turns whose input is "hold" until
// released; a turn whose input is "bye" ends the journey.
type gateHandler struct {
	started chan struct{}
	release chan struct{}
}

func (g *gateHandler) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	switch t.Input {
	case "hold":
		g.started <- struct{}{}
		<-g.release
	case "bye":
		return dialog.Reply{Text: "served", End: true}, nil
	}
	return dialog.Reply{Text: "served"}, nil
}

func gateCaller(i int) string { return fmt.Sprintf("+9198000%05d", i) }

func TestAdmissionServesJourneysNotRequests(t *testing.T) {
	busy := func(t dialog.Turn) dialog.Reply {
		return dialog.Reply{Text: "busy " + string(t.Channel), End: true}
	}
	dial := func(i int) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), NewSession: true}
	}
	answer := func(i int, input string) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), Input: input}
	}
	const limit, target = 8, 3
	tests := []struct {
		name     string
		journeys int // callers 0..journeys-1 have begun a journey
		ended    int // of them, callers 0..ended-1 then finished it
		holding  int // turns in flight (callers 100..), held
		turn     dialog.Turn
		served   bool
	}{
		{"new caller with room", 2, 0, 0, dial(50), true},
		{"new caller with the journeys at the limit", 3, 0, 0, dial(50), false},
		{"new caller once a journey has ended", 3, 1, 0, dial(50), true},
		{"a caller redialling mid-journey keeps their place", 3, 0, 0, dial(1), true},
		{"caller mid-journey past the journey limit", 3, 0, 4, answer(2, "1"), true},
		{"caller mid-journey with turns in flight at the limit", 3, 0, 8, answer(2, "1"), false},
		{"new caller with turns in flight at the limit", 0, 0, 8, dial(50), false},
		{"SMS REG starts a journey", 3, 0, 0, dialog.Turn{Channel: dialog.SMSChannel, Msisdn: gateCaller(50), Input: " reg "}, false},
		{"an SMS answer continues one", 3, 0, 0, dialog.Turn{Channel: dialog.SMSChannel, Msisdn: gateCaller(50), Input: "2"}, true},
	}
	// The turn under test goes through Handle, or through Admit and the
	// handler it returns, as the providers' deadline runner does.
	ways := map[string]func(t *testing.T, a *Gate, tt dialog.Turn) dialog.Reply{
		"Handle": func(_ *testing.T, a *Gate, tt dialog.Turn) dialog.Reply {
			r, _ := a.Handle(context.Background(), tt)
			return r
		},
		"Admit": func(t *testing.T, a *Gate, tt dialog.Turn) dialog.Reply {
			run, busy, ok := a.Admit(context.Background(), tt)
			if !ok {
				if run != nil {
					t.Errorf("a turn turned away came with a handler")
				}
				return busy
			}
			if n := len(a.slots); n < 1 {
				t.Errorf("an admitted turn not counted in flight before it runs (%d)", n)
			}
			r, _ := run.Handle(context.Background(), tt)
			return r
		},
	}
	for _, tt := range tests {
		for way, turn := range ways {
			t.Run(tt.name+"/"+way, func(t *testing.T) {
				h := &gateHandler{started: make(chan struct{}, 64), release: make(chan struct{})}
				a := New(h, limit, target, busy, prometheus.NewRegistry())
				a.nextTick.Store(time.Now().Add(time.Hour).UnixNano()) // no adjustment during the test
				for i := range tt.journeys {
					if r, _ := a.Handle(context.Background(), dial(i)); r.Text != "served" {
						t.Fatalf("setting up: journey %d not admitted: %q", i, r.Text)
					}
				}
				for i := range tt.ended {
					a.Handle(context.Background(), answer(i, "bye"))
				}
				var wg sync.WaitGroup
				for i := range tt.holding {
					wg.Go(func() { a.Handle(context.Background(), answer(100+i, "hold")) })
					<-h.started
				}
				shedBefore := testutil.ToFloat64(a.shed.WithLabelValues("new")) + testutil.ToFloat64(a.shed.WithLabelValues("continuing"))
				r := turn(t, a, tt.turn)
				close(h.release)
				wg.Wait()
				if got := r.Text == "served"; got != tt.served {
					t.Fatalf("served = %v (%q), want %v", got, r.Text, tt.served)
				}
				if !tt.served && (!r.End || r.Text != "busy "+string(tt.turn.Channel)) {
					t.Fatalf("shed reply = %+v, want the channel's busy screen, ending", r)
				}
				shed := testutil.ToFloat64(a.shed.WithLabelValues("new")) + testutil.ToFloat64(a.shed.WithLabelValues("continuing")) - shedBefore
				if want := map[bool]float64{true: 0, false: 1}[tt.served]; shed != want {
					t.Fatalf("shed counter rose by %v, want %v", shed, want)
				}
				if n := len(a.slots); n != 0 {
					t.Fatalf("%d turns still counted in flight", n)
				}
			})
		}
	}
}

// TestAdmissionMidJourneyWaitsForASlot: with every slot taken, a caller
// mid-journey queues for one, for up to half the time left before the
// deadline, and is served if a turn finishes meanwhile; a new caller is
// turned away at once.
func TestAdmissionMidJourneyWaitsForASlot(t *testing.T) {
	busy := func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }
	const limit, deadline = 2, 400 * time.Millisecond
	tests := []struct {
		name   string
		turn   dialog.Turn
		free   bool // a held turn finishes while the turn waits
		served bool
		waited float64
	}{
		{"mid-journey, a turn finishes meanwhile", dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(1), Input: "1"}, true, true, 1},
		{"mid-journey, none finishes in time", dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(1), Input: "1"}, false, false, 1},
		{"a new caller does not wait", dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(50), NewSession: true}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &gateHandler{started: make(chan struct{}, limit), release: make(chan struct{})}
			a := New(h, limit, limit, busy, prometheus.NewRegistry())
			a.nextTick.Store(time.Now().Add(time.Hour).UnixNano()) // no adjustment during the test
			a.sessionLimit = 100
			if r, _ := a.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(1), NewSession: true}); r.Text != "served" {
				t.Fatalf("setting up: caller 1's journey not admitted: %q", r.Text)
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			defer close(h.release)
			for i := range limit {
				wg.Go(func() {
					a.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(100 + i), Input: "hold"})
				})
				<-h.started
			}

			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			type answer struct {
				r    dialog.Reply
				took time.Duration
			}
			done := make(chan answer, 1)
			go func() {
				start := time.Now()
				r, _ := a.Handle(ctx, tt.turn)
				done <- answer{r, time.Since(start)}
			}()
			if tt.free {
				for testutil.ToFloat64(a.waited) == 0 && len(done) == 0 {
					time.Sleep(time.Millisecond)
				}
				h.release <- struct{}{} // one held turn finishes
			}
			got := <-done
			if served := got.r.Text == "served"; served != tt.served {
				t.Fatalf("served = %v (%q), want %v", served, got.r.Text, tt.served)
			}
			if w := testutil.ToFloat64(a.waited); w != tt.waited {
				t.Fatalf("waited counter %v, want %v", w, tt.waited)
			}
			if !tt.served && tt.waited == 1 && got.took < deadline/2-50*time.Millisecond {
				t.Fatalf("turned away after %v, before half the deadline (%v)", got.took, deadline/2)
			}
		})
	}
}

// TestAdmissionAdaptsTheJourneyLimit drives the controller one tick with a
// chosen average of turns in flight (steady, so smoothing leaves it).
func TestAdmissionAdaptsTheJourneyLimit(t *testing.T) {
	const target = 10
	tests := []struct {
		name      string
		limit     int // journey limit before the tick
		journeys  int
		inFlight  float64 // average over the tick
		wantLimit int
		served    int64 // turns served in the tick, when it matters
		failed    int64 // turns failed in the tick
		hung      int   // turns in flight at the tick
	}{
		{"room and every journey slot used: grows by 3%, at least 1", 10, 10, 2, 11, 0, 0, 0},
		{"room, a large limit used: grows by 3%", 1000, 950, 2, 1030, 0, 0, 0},
		{"room but slots unused: unchanged", 100, 50, 2, 100, 0, 0, 0},
		{"between half the target and the target: unchanged", 100, 100, 7, 100, 0, 0, 0},
		{"near the target: unchanged", 100, 100, 9, 100, 0, 0, 0},
		{"queued: cut to 95% of the journeys in progress", 1000, 800, 12, 760, 0, 0, 0},
		{"queued, limit already below the journeys: stays", 500, 800, 12, 500, 0, 0, 0},
		{"queued, few journeys: not below the minimum", 10, 2, 50, minSessionLimit, 0, 0, 0},
		{"room and every slot used, but turns failed and none served: held", 10, 10, 2, 10, 0, 5, 0},
		{"queued, but turns failed and none served: held", 1000, 800, 12, 1000, 0, 5, 0},
		{"turns in flight and none finished: held", 10, 10, 2, 10, 0, 0, 3},
		{"some served, some failed: adapts", 1000, 800, 12, 760, 100, 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(&gateHandler{}, 1<<20, target, nil, prometheus.NewRegistry())
			start := time.Unix(1_700_000_000, 0)
			a.lastTick, a.lastSweep = start, start
			a.sessionLimit = tt.limit
			for i := range tt.journeys {
				a.sessions[gateCaller(i)] = start
			}
			a.avgInflight = tt.inFlight // as if it had been so for a while
			a.busyNs.Store(int64(tt.inFlight * float64(tickInterval)))
			a.finished.Store(tt.served)
			a.failed.Store(tt.failed)
			for range tt.hung {
				a.slots <- struct{}{}
			}
			a.adjust(start.Add(tickInterval))
			if a.sessionLimit != tt.wantLimit {
				t.Errorf("journey limit %d, want %d", a.sessionLimit, tt.wantLimit)
			}
		})
	}
}

// TestAdmissionForgetsIdleJourneys: a caller who hung up without an END
// stops counting after sessionIdle; one still answering does not.
func TestAdmissionForgetsIdleJourneys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a := New(&gateHandler{}, 64, 2, func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }, prometheus.NewRegistry())
	a.now = func() time.Time { return now }
	a.lastTick, a.lastSweep = now, now
	a.nextTick.Store(now.Add(tickInterval).UnixNano())
	turn := func(i int, fresh bool) string {
		r, _ := a.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), NewSession: fresh, Input: "1"})
		return r.Text
	}
	turn(0, true)
	turn(1, true)
	if got := turn(2, true); got != "busy" {
		t.Fatalf("third caller with a limit of 2: %q, want busy", got)
	}
	for range 7 { // caller 1 keeps answering; caller 0 has gone
		now = now.Add(10 * time.Second)
		turn(1, false)
	}
	if n, _ := a.journeys(); n != 1 {
		t.Fatalf("%d journeys after a minute and more, want 1 (the caller who went quiet forgotten)", n)
	}
	// The limit grew while both journeys were in progress and the machine
	// idle; back at 2, the new caller gets in only because caller 0 was
	// forgotten.
	a.mu.Lock()
	a.sessionLimit = 2
	a.mu.Unlock()
	if got := turn(2, true); got != "served" {
		t.Errorf("new caller once the quiet one is forgotten: %q, want served", got)
	}
}

// TestAdmissionSmoothsBursts: one tick of queueing among calm ones does not
// cut the limit; queueing that lasts does.
func TestAdmissionSmoothsBursts(t *testing.T) {
	a := New(&gateHandler{}, 1<<20, 10, nil, prometheus.NewRegistry())
	now := time.Unix(1_700_000_000, 0)
	a.lastTick, a.lastSweep = now, now
	a.sessionLimit = 100
	a.avgInflight = 6
	for i := range 100 {
		a.sessions[gateCaller(i)] = now
	}
	tick := func(inFlight float64) {
		a.busyNs.Store(int64(inFlight * float64(tickInterval)))
		now = now.Add(tickInterval)
		a.adjust(now)
	}
	for range 20 {
		tick(6) // calm: between half the target and the target
	}
	tick(20) // one burst, twice the target
	if a.sessionLimit != 100 {
		t.Fatalf("one burst moved the limit to %d", a.sessionLimit)
	}
	for range 5 {
		tick(20)
	}
	if a.sessionLimit >= 100 {
		t.Fatalf("lasting queueing left the limit at %d", a.sessionLimit)
	}
}

// TestAdmissionHoldsJourneysToCapacity: once the gate has seen what the
// machine serves while turns queue, it lets in no more journeys than that
// capacity carries at the rate one journey sends turns, even while the
// turns in flight are few (slow typists: their turns are still to come).
func TestAdmissionHoldsJourneysToCapacity(t *testing.T) {
	a := New(&gateHandler{}, 1<<20, 10, nil, prometheus.NewRegistry())
	now := time.Unix(1_700_000_000, 0)
	a.lastTick, a.lastSweep = now, now
	tick := func(journeys int, inFlight, served float64) {
		for i := len(a.sessions); i < journeys; i++ {
			a.sessions[gateCaller(i)] = now
		}
		a.busyNs.Store(int64(inFlight * float64(tickInterval)))
		a.finished.Store(int64(served * tickInterval.Seconds()))
		now = now.Add(tickInterval)
		a.adjust(now)
	}
	// 1,000 journeys each sending one turn a second; the machine queues at
	// 1,000 turns a second.
	a.sessionLimit, a.avgInflight, a.perJourney = 1000, 20, 1
	for range 10 {
		tick(1000, 20, 1000)
	}
	if a.capacity < 990 || a.capacity > 1010 {
		t.Fatalf("capacity seen %.0f turns/s, want about 1000", a.capacity)
	}
	// The queue drains and the turns in flight fall: the limit may not grow
	// past what 1,000 turns a second carry (about 950 journeys, at 3% a
	// second more capacity assumed).
	for range 20 {
		tick(1000, 1, 1000)
	}
	if a.sessionLimit > 1000 {
		t.Errorf("journey limit %d with capacity for about 1000 journeys", a.sessionLimit)
	}
	// With no capacity seen the limit grows while there is room.
	b := New(&gateHandler{}, 1<<20, 10, nil, prometheus.NewRegistry())
	b.lastTick, b.lastSweep = now, now
	b.sessionLimit = 1000
	for i := range 1000 {
		b.sessions[gateCaller(i)] = now
	}
	b.finished.Store(100)
	b.adjust(now.Add(tickInterval))
	if b.sessionLimit != 1030 {
		t.Errorf("without a capacity seen: limit %d, want 1030", b.sessionLimit)
	}
}

// outageSim drives an admission gate with a fake clock: callers take a turn
// every step (a journey is a dial, three answers and "bye"), and a caller
// whose journey ends, or who is turned away, is replaced by someone new.
// While the store is down every turn fails, at once or, when it hangs,
// after the deadline.
type outageSim struct {
	a       *Gate
	now     time.Time
	down    bool
	hang    bool
	failing bool // the turn being run fails
	fresh   int
	callers []*simCaller
	pending []simTurn

	newServed, newRefused int // new callers, since the counts were last reset
}

type simCaller struct {
	msisdn  string
	answers int
	inTurn  bool // a turn hangs
	ended   bool // the journey is over: someone new takes the line
}

type simTurn struct {
	c    *simCaller
	run  dialog.Handler
	turn dialog.Turn
	due  time.Time
	fail bool
}

const simDeadline = 1800 * time.Millisecond

// Handle is the store behind the gate.
func (s *outageSim) Handle(_ context.Context, t dialog.Turn) (dialog.Reply, error) {
	if s.failing {
		return dialog.Reply{}, fmt.Errorf("store: %s: i/o timeout", t.Msisdn)
	}
	return dialog.Reply{Text: "served", End: t.Input == "bye"}, nil
}

func newOutageSim(callers, limit, target int) *outageSim {
	s := &outageSim{now: time.Unix(1_700_000_000, 0)}
	busy := func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }
	s.a = New(s, limit, target, busy, prometheus.NewRegistry())
	s.a.now = func() time.Time { return s.now }
	s.a.lastTick, s.a.lastSweep = s.now, s.now
	s.a.nextTick.Store(s.now.Add(tickInterval).UnixNano())
	for range callers {
		s.callers = append(s.callers, s.newCaller())
	}
	return s
}

func (s *outageSim) newCaller() *simCaller {
	s.fresh++
	return &simCaller{msisdn: gateCaller(s.fresh)}
}

// run advances the clock by d in steps of 10 ms.
func (s *outageSim) run(d time.Duration) {
	for end := s.now.Add(d); s.now.Before(end); {
		s.now = s.now.Add(10 * time.Millisecond)
		var hung []simTurn
		for _, p := range s.pending {
			if p.due.After(s.now) {
				hung = append(hung, p)
				continue
			}
			s.finish(p)
		}
		s.pending = hung
		for i, c := range s.callers {
			if c.inTurn {
				continue
			}
			if c.ended {
				c = s.newCaller()
				s.callers[i] = c
			}
			s.turn(c)
		}
	}
}

// storeBack ends the outage: the turns still hanging get their answers.
func (s *outageSim) storeBack() {
	s.down = false
	for i := range s.pending {
		s.pending[i].due, s.pending[i].fail = s.now, false
	}
}

// turn starts caller c's next turn.
func (s *outageSim) turn(c *simCaller) {
	t := dialog.Turn{Channel: dialog.USSD, Msisdn: c.msisdn, NewSession: c.answers == 0, Input: "1"}
	if c.answers == 3 {
		t.Input = "bye"
	}
	run, _, ok := s.a.Admit(context.Background(), t)
	if t.NewSession {
		if ok {
			s.newServed++
		} else {
			s.newRefused++
		}
	}
	if !ok {
		c.ended = true
		return
	}
	p := simTurn{c: c, run: run, turn: t, due: s.now, fail: s.down}
	if s.down && s.hang {
		p.due = s.now.Add(simDeadline)
		c.inTurn = true
		s.pending = append(s.pending, p)
		return
	}
	s.finish(p)
}

// finish runs an admitted turn.
func (s *outageSim) finish(p simTurn) {
	s.failing = p.fail
	r, err := p.run.Handle(context.Background(), p.turn)
	p.c.inTurn = false
	p.c.answers++
	p.c.ended = err != nil || r.End
}

// TestAdmissionRecoversAfterAStoreOutage: after a store outage, fast
// failures or hung turns, new callers are let in again within 2 s of the
// store answering, and the journey limit is where it was before.
func TestAdmissionRecoversAfterAStoreOutage(t *testing.T) {
	tests := []struct {
		name string
		hang bool
	}{
		{"turns fail at once", false},
		{"turns hang until the deadline", true},
	}
	const callers, limit, target = 30, 256, 8
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOutageSim(callers, limit, target)
			s.run(4500 * time.Millisecond)
			s.newServed, s.newRefused = 0, 0
			s.run(500 * time.Millisecond)
			_, before := s.a.journeys()
			healthy := s.newServed
			if before <= target || healthy == 0 {
				t.Fatalf("setting up: journey limit %d, %d new callers served in the last half second", before, healthy)
			}

			s.down, s.hang = true, tt.hang
			s.run(20 * time.Second)
			if s.newServed == 0 {
				t.Fatal("setting up: no new caller reached the failing store")
			}

			_, during := s.a.journeys()
			if during < before*9/10 || during > before*11/10+1 {
				t.Errorf("journey limit %d at the end of the outage, %d before: the outage moved it", during, before)
			}
			s.storeBack()
			s.newServed, s.newRefused = 0, 0
			s.run(1500 * time.Millisecond)
			s.newServed, s.newRefused = 0, 0
			s.run(500 * time.Millisecond) // the last half second of the first two
			t.Logf("new callers served in half a second: %d before the outage, %d from 1.5 s after it (%d turned away)", healthy, s.newServed, s.newRefused)
			if s.newServed < healthy*9/10 {
				n, l := s.a.journeys()
				t.Errorf("1.5–2 s after the store came back: %d new callers served, %d turned away; %d in the half second before the outage (journeys %d, limit %d)",
					s.newServed, s.newRefused, healthy, n, l)
			}
			if _, after := s.a.journeys(); after < before {
				t.Errorf("journey limit %d after the outage, %d before", after, before)
			}
		})
	}
}

// TestFixedJourneys: with FixJourneys the journey limit stays where it was
// set, whatever the load says, and a journey that ends makes room.
func TestFixedJourneys(t *testing.T) {
	busy := func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }
	dial := func(i int) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), NewSession: true}
	}
	answer := func(i int, input string) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), Input: input}
	}
	a := New(&gateHandler{}, 64, 8, busy, prometheus.NewRegistry())
	a.FixJourneys(2)
	start := time.Now()
	a.lastTick, a.lastSweep = start, start
	a.nextTick.Store(start.Add(time.Hour).UnixNano()) // ticks only when the test says
	served := func(turn dialog.Turn) bool {
		r, err := a.Handle(context.Background(), turn)
		return err == nil && r.Text == "served"
	}
	for i, want := range []bool{true, true, false} {
		if got := served(dial(i)); got != want {
			t.Fatalf("caller %d served %v, want %v (two journeys at most)", i, got, want)
		}
	}
	if !served(answer(0, "1")) {
		t.Fatal("a caller mid-journey turned away")
	}
	// A tick with room to spare would grow an adaptive limit (both
	// journeys in progress, few turns in flight); a tick under load
	// would cut it. Neither moves a fixed one.
	for _, inFlight := range []float64{0.1, 40} {
		a.busyNs.Store(int64(inFlight * float64(tickInterval)))
		a.finished.Store(100)
		a.mu.Lock()
		a.adjust(a.lastTick.Add(tickInterval))
		limit := a.sessionLimit
		a.mu.Unlock()
		if limit != 2 {
			t.Fatalf("after a tick at %v turns in flight the limit is %d, want 2", inFlight, limit)
		}
	}
	if served(dial(2)) {
		t.Fatal("a third journey let in")
	}
	if !served(answer(0, "bye")) || !served(dial(2)) {
		t.Fatal("a journey ended, and the next caller was not let in")
	}
}

// fakeQueue is the store's queue in memory: places in order of arrival
// and a set of invitations, or an error for every call.
type fakeQueue struct {
	mu      sync.Mutex
	waiting []string
	invited map[string]bool
	err     error
}

func (q *fakeQueue) QueueArrive(_ context.Context, m string, join bool) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	if q.invited[m] {
		delete(q.invited, m)
		return 0, nil
	}
	for i, w := range q.waiting {
		if w == m {
			return i + 1, nil
		}
	}
	if !join {
		return -1, nil
	}
	q.waiting = append(q.waiting, m)
	return len(q.waiting), nil
}

// invite invites the first n callers, as a gateway's round would.
func (q *fakeQueue) invite(n int) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = max(0, min(n, len(q.waiting)))
	out := q.waiting[:n:n]
	q.waiting = q.waiting[n:]
	for _, m := range out {
		q.invited[m] = true
	}
	return out
}

// TestQueueAtTheGate walks the bar of the surge queue at one gate with two
// journeys at most: the third new caller gets place 1 and keeps it on
// dialling again; when a journey ends the gate has room for one
// invitation, and while it is out a fourth new caller queues too (the room
// is the invited caller's); the invited caller is let in even past the
// limit; an invitation that expires frees its room again; and a queue
// that cannot be reached gives the plain busy screen.
func TestQueueAtTheGate(t *testing.T) {
	busy := func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }
	queued := func(t dialog.Turn, pos, _ int) dialog.Reply { // the minutes: TestQueueWaitEstimate
		return dialog.Reply{Text: fmt.Sprintf("queued %d", pos), End: true}
	}
	dial := func(i int) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), NewSession: true}
	}
	answer := func(i int, input string) dialog.Turn {
		return dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), Input: input}
	}
	reg := prometheus.NewRegistry()
	a := New(&gateHandler{}, 64, 8, busy, reg)
	a.FixJourneys(2)
	q := &fakeQueue{invited: map[string]bool{}}
	a.SetQueue(q, queued, nil)
	reply := func(turn dialog.Turn) string {
		t.Helper()
		r, err := a.Handle(context.Background(), turn)
		if err != nil {
			t.Fatal(err)
		}
		return r.Text
	}
	// round is one round of the invite loop, as the store runs it.
	round := func(settled, expired int) []string {
		t.Helper()
		inv := q.invite(a.Room())
		a.Invited(Round{Sent: len(inv), Settled: settled, Expired: expired, Waiting: len(q.waiting), Outstanding: len(q.invited)})
		return inv
	}

	for i := range 2 {
		if got := reply(dial(i)); got != "served" {
			t.Fatalf("caller %d: %q", i, got)
		}
	}
	if got := reply(dial(2)); got != "queued 1" {
		t.Fatalf("third caller: %q, want place 1", got)
	}
	if got := reply(dial(2)); got != "queued 1" {
		t.Fatalf("third caller dialling again: %q, want place 1 kept", got)
	}
	if inv := round(0, 0); len(inv) != 0 {
		t.Fatalf("invited %v with no room", inv)
	}
	if got := reply(answer(0, "bye")); got != "served" {
		t.Fatal(got)
	}
	if inv := round(0, 0); len(inv) != 1 || inv[0] != gateCaller(2) {
		t.Fatalf("after a journey ended: invited %v, want the third caller", inv)
	}
	if a.Room() != 0 {
		t.Fatalf("room %d with the invitation out, want 0", a.Room())
	}
	if got := reply(dial(3)); got != "queued 1" {
		t.Fatalf("fourth caller while the invitation is out: %q, want place 1", got)
	}
	if got := reply(dial(2)); got != "served" {
		t.Fatalf("invited caller: %q", got)
	}
	if got := reply(answer(2, "1")); got != "served" {
		t.Fatalf("invited caller mid-journey: %q", got)
	}
	if n, _ := a.journeys(); n != 2 {
		t.Fatalf("journeys %d, want 2", n)
	}
	// The store reports the invitation used: the room it held goes to
	// the journey, so nothing is free.
	if inv := round(1, 0); len(inv) != 0 || a.Room() != 0 {
		t.Fatalf("invited %v, room %d after the invitation was used", inv, a.Room())
	}
	// A journey ends; the fourth caller is invited but never dials; the
	// invitation expires and its room goes to the next (caller 5).
	reply(answer(1, "bye"))
	if inv := round(0, 0); len(inv) != 1 || inv[0] != gateCaller(3) {
		t.Fatalf("invited %v, want the fourth caller", inv)
	}
	if got := reply(dial(5)); got != "queued 1" {
		t.Fatalf("caller 5: %q", got)
	}
	delete(q.invited, gateCaller(3)) // expired in the store
	if inv := round(1, 1); len(inv) != 0 {
		t.Fatalf("invited %v in the round that learnt of the expiry", inv)
	}
	if inv := round(0, 0); len(inv) != 1 || inv[0] != gateCaller(5) {
		t.Fatalf("after the expiry invited %v, want caller 5", inv)
	}
	if got := testutil.ToFloat64(a.queue.invitations.WithLabelValues("expired")); got != 1 {
		t.Fatalf("expired invitations counted %v", got)
	}
	if got := testutil.ToFloat64(a.queue.invitations.WithLabelValues("used")); got != 1 {
		t.Fatalf("used invitations counted %v", got)
	}
	if got := testutil.ToFloat64(a.shed.WithLabelValues("queued")); got != 4 {
		t.Fatalf("queued turns counted %v, want 4", got)
	}

	q.err = fmt.Errorf("store down")
	a.Invited(Round{Settled: 1, Waiting: 3}) // callers waiting, as last seen
	if got := reply(dial(9)); got != "busy" {
		t.Fatalf("with the queue away: %q, want the busy screen", got)
	}
}

// TestQueueWaitEstimate: the minutes a queued caller is told follow the
// fleet's rate of invitations once there is one, and before that assume
// journeys of typicalJourney at the journey limit.
func TestQueueWaitEstimate(t *testing.T) {
	a := New(&gateHandler{}, 64, 8, func(dialog.Turn) dialog.Reply { return dialog.Reply{} }, prometheus.NewRegistry())
	a.FixJourneys(30)
	now := time.Now()
	a.now = func() time.Time { return now }
	// 30 journeys of 3 minutes: 10 a minute.
	if got := a.waitMinutes(100); got != 10 {
		t.Fatalf("before any invitation: %d min for place 100, want 10", got)
	}
	a.Invited(Round{Waiting: 100, Total: 1000})
	for range 300 { // five minutes of rounds at 2 invitations a second
		now = now.Add(time.Second)
		a.Invited(Round{Waiting: 100, Total: a.queue.lastTotal + 2})
	}
	if got := a.waitMinutes(1200); got < 10 || got > 11 {
		t.Fatalf("at 120 invitations a minute: %d min for place 1200, want 10 (11 as the average settles)", got)
	}
}

// TestQueueInvitationsOut: while invitations are out, a new caller is
// looked up in the queue even with room and nobody waiting, so that an
// invited caller uses their invitation (else it would hold room until it
// expired); a caller not invited is then let in as a new caller. An
// invitation holds room for inviteHold only.
func TestQueueInvitationsOut(t *testing.T) {
	now := time.Now()
	a := New(&gateHandler{}, 64, 8, func(dialog.Turn) dialog.Reply { return dialog.Reply{Text: "busy", End: true} }, prometheus.NewRegistry())
	a.now = func() time.Time { return now }
	a.FixJourneys(3)
	q := &fakeQueue{invited: map[string]bool{}}
	a.SetQueue(q, func(_ dialog.Turn, pos, _ int) dialog.Reply {
		return dialog.Reply{Text: fmt.Sprintf("queued %d", pos), End: true}
	}, nil)
	dial := func(i int) string {
		r, err := a.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Msisdn: gateCaller(i), NewSession: true})
		if err != nil {
			t.Fatal(err)
		}
		return r.Text
	}
	// Caller 1 was queued and is invited; nobody else waits.
	q.invited[gateCaller(1)] = true
	a.Invited(Round{Sent: 1, Outstanding: 1})
	if got := a.Room(); got != 2 {
		t.Fatalf("room %d with one invitation out of 3, want 2", got)
	}
	if got := dial(2); got != "served" {
		t.Fatalf("a caller not invited, with room: %q", got)
	}
	if got := dial(1); got != "served" || q.invited[gateCaller(1)] {
		t.Fatalf("the invited caller: %q, invitation still out: %v", got, q.invited[gateCaller(1)])
	}
	if got := testutil.ToFloat64(a.queue.invitations.WithLabelValues("used")); got != 1 {
		t.Fatalf("used invitations counted %v, want 1", got)
	}
	// The store tells the gateway the invitation was used.
	a.Invited(Round{Settled: 1})
	if got := a.Room(); got != 1 {
		t.Fatalf("room %d with two journeys of 3, want 1", got)
	}
	// An invitation nobody uses holds room for inviteHold, then not.
	a.Invited(Round{Sent: 1, Outstanding: 1})
	if got := a.Room(); got != 0 {
		t.Fatalf("room %d with an invitation just sent, want 0", got)
	}
	now = now.Add(inviteHold + time.Second)
	if got := a.Room(); got != 1 {
		t.Fatalf("room %d once the invitation is past its hold, want 1", got)
	}
	if v := a.QueueView(); v.Pending != 1 || v.Held != 0 {
		t.Fatalf("view %+v, want 1 pending, none held", v)
	}
}
