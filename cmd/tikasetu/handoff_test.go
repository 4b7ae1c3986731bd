package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// fired is one call of a watch's fire.
type fired struct {
	msisdn string
	armed  time.Time
	gsm7   bool
	at     time.Time
}

// recorder is a watch's fire and count for tests.
type recorder struct {
	mu     sync.Mutex
	fires  []fired
	counts []string
}

func (r *recorder) fire(_ context.Context, msisdn string, armed time.Time, gsm7 bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fires = append(r.fires, fired{msisdn, armed, gsm7, time.Now()})
}

func (r *recorder) count(outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = append(r.counts, outcome)
}

func (r *recorder) got() ([]fired, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fires), slices.Clone(r.counts)
}

// newTestWatch is a watch with a short delay on a clock the test sets.
func newTestWatch(t *testing.T, after time.Duration) (*handoffWatch, *recorder, *testClock) {
	t.Helper()
	rec := &recorder{}
	clock := &testClock{t: mayDay}
	w := newHandoffWatch(after, clock, rec.fire, rec.count)
	t.Cleanup(w.close)
	return w, rec, clock
}

const (
	numA = "+919830012001"
	numB = "+919830012002"
)

// TestHandoffWatch: a USSD screen that waits for an answer arms the
// number's timer, and the timer fires once, the delay after the last such
// screen, with that turn's time; the end of the session or an SMS from the
// number cancels it; a failed turn leaves it as it was.
func TestHandoffWatch(t *testing.T) {
	const after = 60 * time.Millisecond
	con := dialog.Reply{Text: "CON screen"}
	end := dialog.Reply{Text: "bye", End: true}
	ussd := func(n string) dialog.Turn { return dialog.Turn{Channel: dialog.USSD, Msisdn: n} }
	type turn struct {
		t     dialog.Turn
		r     dialog.Reply
		err   error
		later time.Duration // the engine's clock moves on by this before the turn ends
		pause time.Duration // real time before the turn
	}
	tests := []struct {
		name  string
		turns []turn
		want  []fired // msisdn, armed (from mayDay), gsm7
	}{
		{"left on a screen", []turn{{t: ussd(numA), r: con}}, []fired{{msisdn: numA, armed: mayDay}}},
		{"answered, then left", []turn{{t: ussd(numA), r: con}, {t: ussd(numA), r: con, later: time.Second, pause: after / 2}},
			[]fired{{msisdn: numA, armed: mayDay.Add(time.Second)}}},
		{"a local number", []turn{{t: ussd("09830012001"), r: con}}, []fired{{msisdn: numA, armed: mayDay}}},
		{"Roman text only", []turn{{t: dialog.Turn{Channel: dialog.USSD, Msisdn: numA, GSM7Only: true}, r: con}},
			[]fired{{msisdn: numA, armed: mayDay, gsm7: true}}},
		{"ended", []turn{{t: ussd(numA), r: con}, {t: ussd(numA), r: end}}, nil},
		{"went on by SMS", []turn{{t: ussd(numA), r: con}, {t: dialog.Turn{Channel: dialog.SMSChannel, Msisdn: numA}, r: con}}, nil},
		{"a failed turn", []turn{{t: ussd(numA), r: con}, {t: ussd(numA), err: errors.New("store away"), later: time.Second}},
			[]fired{{msisdn: numA, armed: mayDay}}},
		{"an SMS alone", []turn{{t: dialog.Turn{Channel: dialog.SMSChannel, Msisdn: numA}, r: con}}, nil},
		{"not a mobile number", []turn{{t: ussd("12345"), r: con}}, nil},
		{"two numbers", []turn{{t: ussd(numA), r: con}, {t: ussd(numB), r: con, later: time.Second}, {t: ussd(numA), r: end}},
			[]fired{{msisdn: numB, armed: mayDay.Add(time.Second)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, rec, clock := newTestWatch(t, after)
			var last time.Time
			for _, tu := range tc.turns {
				time.Sleep(tu.pause)
				clock.Advance(tu.later)
				last = time.Now()
				w.observe(tu.t, tu.r, tu.err)
			}
			time.Sleep(4 * after)
			got, counts := rec.got()
			if len(got) != len(tc.want) {
				t.Fatalf("fired %d times, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, f := range got {
				want := tc.want[i]
				if f.msisdn != want.msisdn || !f.armed.Equal(want.armed) || f.gsm7 != want.gsm7 {
					t.Errorf("fired %s armed %v gsm7 %v; want %s armed %v gsm7 %v",
						f.msisdn, f.armed, f.gsm7, want.msisdn, want.armed, want.gsm7)
				}
				if f.at.Sub(last) < after {
					t.Errorf("fired %v after the last turn, before the delay of %v", f.at.Sub(last), after)
				}
			}
			if watched, firing := w.busy(); watched != 0 || firing != 0 {
				t.Errorf("%d numbers still watched, %d firing", watched, firing)
			}
			if len(counts) != 0 {
				t.Errorf("counted %q", counts)
			}
		})
	}
}

// TestHandoffWatchStaleFiring: a firing that finds its number re-armed
// (the timer ran out as a new turn came) or cancelled does nothing.
func TestHandoffWatchStaleFiring(t *testing.T) {
	w, rec, _ := newTestWatch(t, time.Hour)
	w.arm(numA, mayDay, false)
	w.mu.Lock()
	p := w.pending[numA]
	w.mu.Unlock()
	w.expire(numA, p) // as if it fired now, an hour early: re-armed meanwhile
	if watched, _ := w.busy(); watched != 1 {
		t.Fatalf("an early firing left %d numbers watched, want 1 (its timer set again)", watched)
	}
	w.cancel(numA)
	p.due = time.Time{}
	w.expire(numA, p) // due, but cancelled
	if got, _ := rec.got(); len(got) != 0 {
		t.Fatalf("stale firings sent: %+v", got)
	}
	// A due firing of the current timer does fire.
	w.arm(numA, mayDay, false)
	w.mu.Lock()
	p = w.pending[numA]
	p.due = time.Now()
	w.mu.Unlock()
	w.expire(numA, p)
	if got, _ := rec.got(); len(got) != 1 {
		t.Fatalf("fired %d times, want 1", len(got))
	}
}

// TestHandoffWatchCap: past its limit the watch takes no new number (and
// counts it), while numbers it watches are re-armed as before.
func TestHandoffWatchCap(t *testing.T) {
	w, rec, _ := newTestWatch(t, time.Hour)
	w.limit = 2
	for _, n := range []string{numA, numB, "+919830012003", numA} {
		w.arm(n, mayDay, false)
	}
	if watched, _ := w.busy(); watched != 2 {
		t.Fatalf("%d watched, want 2", watched)
	}
	if _, counts := rec.got(); !slices.Equal(counts, []string{"handoff_untracked"}) {
		t.Fatalf("counted %q, want one handoff_untracked", counts)
	}
	w.cancel(numA)
	w.arm("+919830012003", mayDay, false)
	if watched, _ := w.busy(); watched != 2 {
		t.Fatalf("after a cancel: %d watched, want 2", watched)
	}
}

// TestHandoffWatchClose: close stops every timer, waits for a hand-off in
// progress, and later turns arm nothing.
func TestHandoffWatchClose(t *testing.T) {
	release := make(chan struct{})
	started := make(chan string, 2)
	w := newHandoffWatch(time.Hour, &testClock{t: mayDay}, func(_ context.Context, n string, _ time.Time, _ bool) {
		started <- n
		<-release
	}, func(string) {})
	// numA's timer runs out and its hand-off is under way; numB waits.
	w.arm(numA, mayDay, false)
	w.mu.Lock()
	p := w.pending[numA]
	p.due = time.Now()
	w.mu.Unlock()
	go w.expire(numA, p)
	if n := <-started; n != numA {
		t.Fatalf("fired for %s", n)
	}
	w.arm(numB, mayDay, false)

	closed := make(chan struct{})
	go func() { w.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned with a hand-off in progress")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	<-closed
	if watched, firing := w.busy(); watched != 0 || firing != 0 {
		t.Fatalf("after close: %d watched, %d firing", watched, firing)
	}
	w.arm(numA, mayDay, false)
	if watched, _ := w.busy(); watched != 0 {
		t.Fatal("armed after close")
	}
	select {
	case n := <-started:
		t.Fatalf("fired for %s after close", n)
	default:
	}
}

// fakeGate admits turns whose input is not "busy".
type fakeGate struct{ ran int }

func (g *fakeGate) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	g.ran++
	return dialog.Reply{Text: "screen"}, nil
}

func (g *fakeGate) Admit(_ context.Context, t dialog.Turn) (dialog.Handler, dialog.Reply, bool) {
	if t.Input == "busy" {
		return nil, dialog.Reply{Text: "busy", End: true}, false
	}
	return g, dialog.Reply{}, true
}

// handlerFunc adapts a function to dialog.Handler (not a Gate).
type handlerFunc func(context.Context, dialog.Turn) (dialog.Reply, error)

func (f handlerFunc) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	return f(ctx, t)
}

// TestHandoffWrap: off, the handler is not wrapped; on, a gate stays a
// gate whose admitted turns are watched and whose busy answers leave the
// timers alone, and a plain handler stays a plain one, watched.
func TestHandoffWrap(t *testing.T) {
	ctx := context.Background()
	plain := handlerFunc(func(context.Context, dialog.Turn) (dialog.Reply, error) { return dialog.Reply{Text: "screen"}, nil })
	var off *handoffWatch
	if h := off.wrap(plain); h == nil {
		t.Fatal("off: no handler")
	} else if _, ok := h.(handlerFunc); !ok {
		t.Fatalf("off: wrapped as %T", h)
	}
	off.close() // no-op

	w, _, _ := newTestWatch(t, time.Hour)
	watched := func() int { n, _ := w.busy(); return n }
	if _, ok := w.wrap(plain).(dialog.Gate); ok {
		t.Fatal("a plain handler became a gate")
	}
	if _, err := w.wrap(plain).Handle(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numA}); err != nil || watched() != 1 {
		t.Fatalf("plain handler: %v, %d watched", err, watched())
	}
	w.cancel(numA)

	fg := &fakeGate{}
	g, ok := w.wrap(fg).(dialog.Gate)
	if !ok {
		t.Fatal("a gate is no longer one")
	}
	if _, busy, ok := g.Admit(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numA, Input: "busy"}); ok || busy.Text != "busy" || watched() != 0 {
		t.Fatalf("turned away: ok %v, reply %q, %d watched", ok, busy.Text, watched())
	}
	run, _, ok := g.Admit(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numA})
	if !ok || watched() != 0 {
		t.Fatalf("admitted: ok %v, %d watched before the turn ran", ok, watched())
	}
	if _, err := run.Handle(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numA}); err != nil || watched() != 1 || fg.ran != 1 {
		t.Fatalf("admitted turn: %v, %d watched, ran %d", err, watched(), fg.ran)
	}
	if r, err := g.Handle(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numB}); err != nil || r.Text != "screen" || watched() != 2 {
		t.Fatalf("Handle: %q, %v, %d watched", r.Text, err, watched())
	}
	if r, _ := g.Handle(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: numB, Input: "busy"}); r.Text != "busy" || watched() != 2 {
		t.Fatalf("Handle turned away: %q, %d watched", r.Text, watched())
	}
}

// TestHandoffDue: only a conversation still mid-journey over USSD, and
// saved last by the turn that armed the timer or before, gets the SMS.
func TestHandoffDue(t *testing.T) {
	armed := mayDay
	conv := func(state string, ch dialog.Channel, updated time.Time) *dialog.Conversation {
		return &dialog.Conversation{Msisdn: numA, State: state, Channel: ch, Updated: updated}
	}
	tests := []struct {
		name string
		c    *dialog.Conversation
		want bool
	}{
		{"waiting on the PIN screen", conv("pin", dialog.USSD, armed), true},
		{"saved before the arming turn ended", conv("id_number", dialog.USSD, armed.Add(-time.Second)), true},
		{"gone", nil, false},
		{"at the language menu", conv("lang", dialog.USSD, armed), false},
		{"at the choice of number", conv("number", dialog.USSD, armed), false},
		{"at the resume offer", conv("resume", dialog.USSD, armed), false},
		{"paging last words", conv("done", dialog.USSD, armed), false},
		{"at Home, nothing under way", conv("home", dialog.USSD, armed), false},
		{"gone on by SMS", conv("pin", dialog.SMSChannel, armed), false},
		{"a later turn elsewhere", conv("pin", dialog.USSD, armed.Add(time.Millisecond)), false},
	}
	for _, tc := range tests {
		if got := handoffDue(tc.c, armed); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestHandoffAfterSetting: TIKASETU_HANDOFF_AFTER sets the delay, 1m by
// default; 0 turns the hand-off off (no watch, the handler unwrapped).
func TestHandoffAfterSetting(t *testing.T) {
	tests := []struct {
		env  string
		want time.Duration
	}{
		{"", time.Minute},
		{"0", 0},
		{"90s", 90 * time.Second},
	}
	for _, tc := range tests {
		t.Setenv("TIKASETU_HANDOFF_AFTER", tc.env)
		var cfg config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		bindConfig(fs, &cfg)
		if err := fs.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if cfg.HandoffAfter != tc.want {
			t.Errorf("TIKASETU_HANDOFF_AFTER=%q: %v, want %v", tc.env, cfg.HandoffAfter, tc.want)
		}
		if w := newHandoffWatch(cfg.HandoffAfter, dialog.SystemClock, nil, nil); (w != nil) != (tc.want > 0) {
			t.Errorf("TIKASETU_HANDOFF_AFTER=%q: watch %v", tc.env, w)
		}
	}
}

// --- the bar, through the gateway's HTTP routes -----------------------------

// newHandoffGateway is the test gateway with the hand-off after the delay
// given (0: off, as the harness has it).
func newHandoffGateway(t *testing.T, after time.Duration) *testGateway {
	t.Helper()
	tg := newTestGateway(t, everySeat(5), "01-west-bengal-743337.json")
	g := tg.g
	g.cfg.HandoffAfter, g.cfg.USSDCode = after, defaultUSSDCode
	g.handoff = newHandoffWatch(after, g.clock, g.handOff, g.metrics.Count)
	t.Cleanup(g.handoff.close) // before the harness's: they stop the dispatcher and store
	tg.h = g.router()
	return tg
}

// handoffText is the hand-off SMS in English.
func (tg *testGateway) handoffText(number string) string {
	return tg.g.engine.Message(number, "en", dialog.SMSKindHandoff, "code", defaultUSSDCode).Text
}

// handoffs reads number's SMS at GET /dev/outbox/<number> and returns how
// many are the hand-off.
func (tg *testGateway) handoffs(number string) int {
	t := tg.t
	t.Helper()
	tg.g.engine.Drain() // SMS handed to the dispatcher have reached the outbox
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/outbox/"+number, nil))
	body, _ := io.ReadAll(rec.Body)
	var out struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("outbox: %d %s", rec.Code, body)
	}
	n := 0
	for _, m := range out.Messages {
		if m.Text == tg.handoffText(number) {
			n++
		}
	}
	return n
}

// settle waits until the watch holds no timer and no hand-off is under
// way, or until limit.
func (tg *testGateway) settle(limit time.Duration) {
	tg.t.Helper()
	if tg.g.handoff == nil {
		time.Sleep(limit)
		return
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if watched, firing := tg.g.handoff.busy(); watched == 0 && firing == 0 {
			return
		}
	}
	tg.t.Fatalf("hand-off still watched after %v", limit)
}

func (tg *testGateway) outcome(name string) float64 {
	return testutil.ToFloat64(tg.g.metrics.outcomes.WithLabelValues(name))
}

// toIDNumber signs a new caller in over USSD and stops at the Aadhaar
// number screen, mid-journey.
func toIDNumber(t *testing.T, tg *testGateway, c *caller) {
	t.Helper()
	for _, s := range script(login(), []step{
		{in: "1", want: []string{"1 Aadhaar"}},
		{in: "1", want: []string{"Enter Aadhaar number"}},
	}) {
		s.run(t, tg, c)
	}
}

// TestHandoffAbandonedSession: a USSD session left mid-journey gets one
// hand-off SMS, in the delay after its last screen, and no second one; a
// second session left within the hour gets none.
func TestHandoffAbandonedSession(t *testing.T) {
	const after = 200 * time.Millisecond
	tg := newHandoffGateway(t, after)
	c := tg.caller("+919830012101")
	toIDNumber(t, tg, c)
	left := time.Now()
	if n := tg.handoffs(c.msisdn); n != 0 {
		t.Fatalf("%d hand-off SMS at once", n)
	}
	for deadline := time.Now().Add(10 * time.Second); tg.handoffs(c.msisdn) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no hand-off SMS")
		}
	}
	if waited := time.Since(left); waited < after {
		t.Fatalf("the hand-off SMS came %v after the last screen, before the delay", waited)
	}
	if !strings.Contains(tg.handoffText(c.msisdn), defaultUSSDCode) {
		t.Fatalf("the SMS does not name the short code: %q", tg.handoffText(c.msisdn))
	}
	time.Sleep(3 * after)
	tg.settle(time.Second)
	if n := tg.handoffs(c.msisdn); n != 1 {
		t.Fatalf("%d hand-off SMS, want 1", n)
	}
	// "Your progress is saved": for a day, not the USSD idle time.
	opt, err := redis.ParseURL(tg.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if ttl := rdb.PTTL(context.Background(), "ts:conv:{"+c.msisdn+"}").Val(); ttl < handoffKeep-time.Minute {
		t.Fatalf("conversation kept %v after the hand-off, want %v", ttl, handoffKeep)
	}

	// Dial again, go on, and leave again: within the hour, no SMS.
	for _, s := range []step{
		{in: "{dial}", want: []string{"Welcome back", "1 Continue"}},
		{in: "1", want: []string{"Enter Aadhaar number"}},
	} {
		s.run(t, tg, c)
	}
	time.Sleep(3 * after)
	tg.settle(time.Second)
	if n := tg.handoffs(c.msisdn); n != 1 {
		t.Fatalf("second session: %d hand-off SMS in all, want 1", n)
	}
	if sent, limited := tg.outcome("handoff_sent"), tg.outcome("handoff_limited"); sent != 1 || limited != 1 {
		t.Fatalf("handoff_sent %v, handoff_limited %v; want 1 and 1", sent, limited)
	}
}

// TestHandoffNotDue: no SMS for a caller who answers each screen within the
// delay and then ends the session, for one whose session ended (the timer
// is gone at once), for one another gateway served since, nor with the
// hand-off off.
func TestHandoffNotDue(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		run   func(t *testing.T, tg *testGateway, c *caller)
	}{
		{"answered in time", 300 * time.Millisecond, func(t *testing.T, tg *testGateway, c *caller) {
			steps := script(login(), []step{
				{in: "1", want: []string{"1 Aadhaar"}},
				{in: "0", want: []string{"1 Add person"}},
				{in: "1", want: []string{"1 Aadhaar"}},
				{in: "0", want: []string{"1 Add person"}},
				{in: "0", end: true},
			})
			for _, s := range steps {
				time.Sleep(100 * time.Millisecond) // in all well past the delay
				s.run(t, tg, c)
				if n := tg.handoffs(c.msisdn); n != 0 {
					t.Fatalf("after %q: a hand-off SMS while the caller was answering", s.in)
				}
			}
		}},
		{"ended", 200 * time.Millisecond, func(t *testing.T, tg *testGateway, c *caller) {
			for _, s := range script(login(), []step{{in: "0", end: true}}) {
				s.run(t, tg, c)
			}
			if watched, _ := tg.g.handoff.busy(); watched != 0 {
				t.Fatal("the END left the timer armed")
			}
		}},
		{"served elsewhere since", 200 * time.Millisecond, func(t *testing.T, tg *testGateway, c *caller) {
			toIDNumber(t, tg, c)
			// Another gateway (the engine, unwatched) serves the next
			// turn, a moment later, and shows a screen that waits.
			tg.clock.Advance(time.Second)
			r, err := tg.g.engine.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Provider: "africastalking",
				Session: c.session, Delivery: c.session + "-elsewhere", Msisdn: c.msisdn, Input: aadhaar("56781234567"), Vouched: true})
			if err != nil || r.End || !strings.Contains(r.Text, "Name as on the ID") {
				t.Fatalf("the turn elsewhere: %q, %v", r.Text, err)
			}
		}},
		{"off", 0, func(t *testing.T, tg *testGateway, c *caller) {
			if tg.g.handoff != nil {
				t.Fatal("a watch with TIKASETU_HANDOFF_AFTER=0")
			}
			toIDNumber(t, tg, c)
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newHandoffGateway(t, tc.after)
			c := tg.caller("+91983001220" + string(rune('1'+i)))
			tc.run(t, tg, c)
			time.Sleep(3*tc.after + 300*time.Millisecond)
			tg.settle(time.Second)
			if n := tg.handoffs(c.msisdn); n != 0 {
				t.Fatalf("%d hand-off SMS, want none", n)
			}
			if tc.after > 0 {
				if sent := tg.outcome("handoff_sent"); sent != 0 {
					t.Fatalf("handoff_sent %v", sent)
				}
			}
		})
	}
}

// TestHandoffSMSReply: after the hand-off SMS, a reply over the Twilio
// route shows the screen where the USSD session stopped (the reply is not
// taken as an answer to it), and the journey goes on by SMS, in the same
// conversation: the person registered is the USSD caller's.
func TestHandoffSMSReply(t *testing.T) {
	tg := newHandoffGateway(t, 200*time.Millisecond)
	c := tg.caller("+919830012301")
	toIDNumber(t, tg, c)
	for deadline := time.Now().Add(10 * time.Second); tg.handoffs(c.msisdn) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no hand-off SMS")
		}
	}
	x := &texter{tg: tg, msisdn: c.msisdn}
	steps := []struct {
		body string
		want string
	}{
		{"ok", "Enter Aadhaar number"},
		{aadhaar("56781234567"), "Name as on the ID"},
		{"Bina Paul", "Year of birth"},
		{"1955", "Gender"},
		{"2", "Register this person?"},
		{"1", "Bina Paul registered"},
	}
	for _, s := range steps {
		got := x.text(t, s.body, "")
		if !strings.Contains(got, s.want) || strings.Contains(got, "not a valid") {
			t.Fatalf("after SMS %q the reply lacks %q:\n%s", s.body, s.want, got)
		}
		if watched, _ := tg.g.handoff.busy(); watched != 0 {
			t.Fatalf("after SMS %q: the number is watched", s.body)
		}
	}
	if a := account(t, tg, c.msisdn); len(a.Beneficiaries) != 1 || a.Beneficiaries[0].Name != "Bina Paul" {
		t.Fatalf("registered %+v, want Bina Paul under the USSD caller's number", a.Beneficiaries)
	}
}
