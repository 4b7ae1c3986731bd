package loadgen

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/providers/smshttp"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
		bad  bool
	}{
		{in: "2s-20s", want: Range{2 * time.Second, 20 * time.Second}},
		{in: " 500ms - 1s ", want: Range{500 * time.Millisecond, time.Second}},
		{in: "5s", want: Range{5 * time.Second, 5 * time.Second}},
		{in: "0s", want: Range{}},
		{in: "20s-2s", bad: true},
		{in: "soon", bad: true},
		{in: "1s-", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
	if s := (Range{2 * time.Second, 20 * time.Second}).String(); s != "2s-20s" {
		t.Errorf("String = %q", s)
	}
}

func TestRangeDrawAndRedialWait(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := Range{2 * time.Second, 20 * time.Second}
	var sum, redials time.Duration
	const n = 4000
	for range n {
		d := r.draw(rng)
		if d < r.Min || d > r.Max {
			t.Fatalf("draw %v outside %v", d, r)
		}
		sum += d
		w := redialWait(rng, 30*time.Second)
		if w < 0 {
			t.Fatalf("negative redial wait %v", w)
		}
		redials += w
	}
	if avg := sum / n; avg < 10500*time.Millisecond || avg > 11500*time.Millisecond {
		t.Errorf("mean reaction %v, want about 11 s", avg)
	}
	if avg := redials / n; avg < 28*time.Second || avg > 32*time.Second {
		t.Errorf("mean redial wait %v, want about 30 s", avg)
	}
	if d := (Range{time.Second, time.Second}).draw(rng); d != time.Second {
		t.Errorf("a fixed range drew %v", d)
	}
}

func TestRetryDefaults(t *testing.T) {
	tests := []struct {
		in   Retry
		want Retry
		bad  bool
	}{
		{in: Retry{}, want: Retry{React: DefaultReact, RedialMean: DefaultRedialMean}},
		{in: Retry{React: Range{0, time.Second}, RedialMean: time.Second, Patience: time.Minute},
			want: Retry{React: Range{0, time.Second}, RedialMean: time.Second, Patience: time.Minute}},
		{in: Retry{React: Range{2 * time.Second, time.Second}}, bad: true},
		{in: Retry{Patience: -time.Second}, bad: true},
	}
	for _, tt := range tests {
		r := tt.in
		if err := r.defaults(); (err != nil) != tt.bad || (!tt.bad && r != tt.want) {
			t.Errorf("%+v: defaults %+v, %v; want %+v, error %v", tt.in, r, err, tt.want, tt.bad)
		}
	}
}

func TestIsQueued(t *testing.T) {
	tg := &target{queued: []string{"in the queue", "कतार"}}
	tests := []struct {
		screen string
		want   bool
	}{
		{"Very busy. You are number 17 in the queue, about 3 min. We will SMS you when it is your turn.", true},
		{"VERY BUSY. YOU ARE NUMBER 2 IN THE QUEUE.", true},
		{"बहुत व्यस्त। कतार में आप 17वें हैं।", true},
		{"TikaSetu is very busy right now. Please dial again in a few minutes.", false},
		{"Booked! ID INTHEQUEUE1 code 1", false},
	}
	for _, tt := range tests {
		if got := tg.isQueued(tt.screen); got != tt.want {
			t.Errorf("isQueued(%q) = %v, want %v", tt.screen, got, tt.want)
		}
	}
}

// dialAnswer is a scripted answer to one dial: Body ("" lets the caller
// in), and an invitation posted to the sink before the answer (Invite) or
// after a delay (InviteAfter).
type dialAnswer struct {
	Body        string
	Status      int
	Invite      bool
	InviteAfter time.Duration
}

const (
	queuedScreen = "END Very busy. You are number 3 in the queue, about 1 min. We will SMS you when it is your turn."
	busyScreen   = "END " + FakeBusyScreen
)

func TestJourneyRetries(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		retry    *Retry
		script   []dialAnswer
		cancelAt time.Duration // the run ends then
		kind     Kind
		reason   string
		dials    int
		away     bool // turned away at least once
		queued   int
		busy     int
		invited  bool
		admitted bool
		atLeast  time.Duration // the journey took at least this
	}{
		{name: "without retries the queued screen is shed", script: []dialAnswer{{Body: queuedScreen}},
			kind: Shed, reason: "busy screen", dials: 1},
		{name: "queued, invited before the answer is read, let in", retry: &Retry{React: Range{}, RedialMean: time.Hour},
			script: []dialAnswer{{Body: queuedScreen, Invite: true}}, kind: Completed, dials: 2,
			away: true, queued: 1, invited: true, admitted: true},
		{name: "queued, invited later, dials a reaction time after", retry: &Retry{React: Range{40 * ms, 40 * ms}, RedialMean: time.Hour},
			script: []dialAnswer{{Body: queuedScreen, InviteAfter: 60 * ms}}, kind: Completed, dials: 2,
			away: true, queued: 1, invited: true, admitted: true, atLeast: 100 * ms},
		{name: "queued again after an invitation, then let in", retry: &Retry{React: Range{0, 5 * ms}, RedialMean: time.Hour},
			script: []dialAnswer{{Body: queuedScreen, Invite: true}, {Body: queuedScreen, InviteAfter: 10 * ms}}, kind: Completed, dials: 3,
			away: true, queued: 2, invited: true, admitted: true},
		{name: "busy: redials on their own", retry: &Retry{React: Range{time.Hour, time.Hour}, RedialMean: 10 * ms},
			script: []dialAnswer{{Body: busyScreen}, {Body: busyScreen}}, kind: Completed, dials: 3,
			away: true, busy: 2, admitted: true},
		{name: "queued, never invited: gives up after patience", retry: &Retry{RedialMean: 10 * ms, Patience: 150 * ms},
			script: []dialAnswer{{Body: queuedScreen}}, kind: Shed, reason: "never let in", dials: 1,
			away: true, queued: 1, atLeast: 150 * ms},
		{name: "invited, but patience runs out before the redial", retry: &Retry{React: Range{time.Hour, time.Hour}, Patience: 100 * ms},
			script: []dialAnswer{{Body: queuedScreen, Invite: true}}, kind: Shed, reason: "never let in", dials: 1,
			away: true, queued: 1, invited: true, atLeast: 100 * ms},
		{name: "busy, the redial beyond patience", retry: &Retry{RedialMean: time.Hour, Patience: 100 * ms},
			script: []dialAnswer{{Body: busyScreen}}, kind: Shed, reason: "never let in", dials: 1, away: true, busy: 1},
		{name: "the run ends while waiting", retry: &Retry{RedialMean: time.Hour}, cancelAt: 100 * ms,
			script: []dialAnswer{{Body: busyScreen}}, kind: Shed, reason: "never let in", dials: 1, away: true, busy: 1},
		{name: "an error on the redial ends the journey", retry: &Retry{RedialMean: ms},
			script: []dialAnswer{{Body: busyScreen}, {Status: 500, Body: "oops"}}, kind: Errored, reason: "status 500", dials: 2, away: true, busy: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				dials    int
				sessions = map[string]bool{}
				numbers  = map[string]bool{}
				wg       sync.WaitGroup
			)
			var r *rig
			r = newRig(t, 5*time.Second, func(f *FakeGateway) {
				f.Fault = func(req FakeRequest) *FakeAnswer {
					if len(req.Inputs) > 0 {
						return nil
					}
					mu.Lock()
					n := dials
					dials++
					sessions[req.Session], numbers[req.Msisdn] = true, true
					mu.Unlock()
					if n >= len(tt.script) {
						return nil
					}
					a := tt.script[n]
					invite := func() {
						body := kindBody(req.Msisdn, FakeInvitation, KindInvite)
						post(t, r.sink, body, smshttp.Sign(testSecret, body))
					}
					if a.Invite {
						invite()
					}
					if a.InviteAfter > 0 {
						wg.Add(1)
						go func() { defer wg.Done(); time.Sleep(a.InviteAfter); invite() }()
					}
					if a.Body == "" {
						return nil
					}
					return &FakeAnswer{Status: a.Status, Body: a.Body}
				}
			})
			defer wg.Wait()
			r.t.queued, r.t.retry = []string{"in the queue"}, tt.retry
			ctx := context.Background()
			if tt.cancelAt > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.cancelAt)
				defer cancel()
			}
			j := r.journey(1)
			start := time.Now()
			o := j.run(ctx)
			took := time.Since(start)
			if o.Kind != tt.kind || !strings.Contains(o.Reason, tt.reason) {
				t.Fatalf("outcome %v, want %v (%q)", o, tt.kind, tt.reason)
			}
			mu.Lock()
			defer mu.Unlock()
			if dials != tt.dials || len(sessions) != dials || len(numbers) != 1 {
				t.Fatalf("%d dials in %d sessions from %d numbers; want %d dials, each in a session of its own, from one number", dials, len(sessions), len(numbers), tt.dials)
			}
			if took < tt.atLeast {
				t.Errorf("took %v, want at least %v", took, tt.atLeast)
			}
			if got := r.t.stats.waiting.Load() + r.t.stats.inFlight.Load(); got != 0 {
				t.Errorf("waiting and in-flight gauges off by %d", got)
			}
			a := j.away
			if (a != nil) != tt.away {
				t.Fatalf("turned away: %+v, want %v", a, tt.away)
			}
			if a == nil {
				return
			}
			if a.queued != tt.queued || a.busy != tt.busy || a.invited.IsZero() == tt.invited || a.admitted.IsZero() == tt.admitted {
				t.Fatalf("away %+v; want %d queued, %d busy, invited %v, let in %v", a, tt.queued, tt.busy, tt.invited, tt.admitted)
			}
			if tt.admitted && (a.admitted.Before(a.refused) || tt.invited && a.admitted.Before(a.invited)) {
				t.Errorf("let in at %v before turned away (%v) or invited (%v)", a.admitted, a.refused, a.invited)
			}
			if tt.kind == Completed && o.Hops != RealJourneyHops+dials-1 {
				t.Errorf("%d hops, want %d: the journey and each refused dial", o.Hops, RealJourneyHops+dials-1)
			}
		})
	}
}

// The dial that finds the caller's invitation already at the sink is not
// kept waiting: with patience of a second, the whole journey ends well
// within it. (A waiter registered after the dial would miss it.)
func TestJourneyInvitationBeforeAnswer(t *testing.T) {
	var r *rig
	var once sync.Once
	r = newRig(t, 5*time.Second, func(f *FakeGateway) {
		f.Fault = func(req FakeRequest) *FakeAnswer {
			var a *FakeAnswer
			once.Do(func() {
				body := kindBody(req.Msisdn, FakeInvitation, KindInvite)
				if code := post(t, r.sink, body, smshttp.Sign(testSecret, body)); code != http.StatusNoContent {
					t.Errorf("sink answered %d", code)
				}
				a = &FakeAnswer{Body: queuedScreen}
			})
			return a
		}
	})
	r.t.queued, r.t.retry = []string{"in the queue"}, &Retry{Patience: time.Second}
	if o := r.journey(1).run(context.Background()); o.Kind != Completed {
		t.Fatalf("outcome %v", o)
	}
}
