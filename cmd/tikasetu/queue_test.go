package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu/admission"
	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store"
)

// queuedGateway is a test gateway with two journeys at most and the surge
// queue on, its invite loop running every 50 ms.
func queuedGateway(t *testing.T) *testGateway {
	t.Helper()
	tg := newTestGateway(t, everySeat(10), "01-west-bengal-743337.json")
	tg.g.cfg.MaxJourneys, tg.g.cfg.Queue = 2, true
	tg.g.cfg.InviteTTL, tg.g.cfg.USSDCode = 15*time.Minute, "*123*45#"
	tg.g.gate, tg.g.metrics = nil, newMetrics() // the router again, with the queue
	tg.h = tg.g.router()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go tg.g.inviteLoop(ctx, 50*time.Millisecond)
	return tg
}

// invitation waits up to 5 s for the invitation SMS to number.
func (tg *testGateway) invitation(number string) (string, bool) {
	return tg.invitationWithin(number, 5*time.Second)
}

// invitationWithin waits up to d for the invitation SMS to number.
func (tg *testGateway) invitationWithin(number string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, m := range tg.sms(number) {
			if strings.Contains(m, "*123*45#") && strings.Contains(m, "15 min") {
				return m, true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", false
}

// exit takes a caller on the language screen to Home and out (0 Exit).
func exit(t *testing.T, tg *testGateway, c *caller) {
	t.Helper()
	for _, s := range append(login()[1:], step{in: "0", end: true}) {
		s.run(t, tg, c)
	}
}

// TestSurgeQueue is the surge queue's bar, through the USSD route on a real
// Redis: with two journeys at most and two in progress, a third new
// caller gets place 1 and keeps it dialling again; when a journey ends
// the invitation SMS reaches them within 5 s; dialling with it lets them
// in while a fourth new caller is told place 1; an invitation left unused
// expires and passes to the next caller.
func TestSurgeQueue(t *testing.T) {
	tg := queuedGateway(t)
	callers := make([]*caller, 6)
	for i := range callers {
		callers[i] = tg.caller("+91983000000" + string(rune('1'+i)))
	}
	first, second, third, fourth, fifth := callers[0], callers[1], callers[2], callers[3], callers[4]
	queued := func(c *caller, place string) {
		t.Helper()
		screen := c.dial()
		if !c.ended || !strings.Contains(screen, "You are number "+place+" in the queue") {
			t.Fatalf("%s: %q, want place %s", dialog.MaskMsisdn(c.msisdn), screen, place)
		}
	}
	admitted := func(c *caller) {
		t.Helper()
		if screen := c.dial(); c.ended || !strings.Contains(screen, "1 English") {
			t.Fatalf("%s not let in: %q", dialog.MaskMsisdn(c.msisdn), screen)
		}
	}

	admitted(first)
	admitted(second)
	queued(third, "1")
	queued(third, "1")
	if _, ok := tg.invitationWithin(third.msisdn, 300*time.Millisecond); ok { // six rounds
		t.Fatal("invited with no room")
	}

	exit(t, tg, first)
	sms, ok := tg.invitation(third.msisdn)
	if !ok {
		t.Fatalf("no invitation within 5 s of a journey's end; SMS: %q", tg.sms(third.msisdn))
	}
	if !strings.Contains(sms, "your turn") {
		t.Fatalf("invitation %q", sms)
	}
	queued(fourth, "1")
	admitted(third)
	queued(fourth, "1")

	// The second caller's journey ends: the fourth is invited, and never
	// dials. A fifth queues behind; once the invitation expires, the
	// fifth is invited, and the fourth, dialling late, queues again.
	exit(t, tg, second)
	if _, ok := tg.invitation(fourth.msisdn); !ok {
		t.Fatal("the fourth caller was not invited")
	}
	queued(fifth, "1")
	tg.clock.Advance(15*time.Minute + time.Second)
	if _, ok := tg.invitation(fifth.msisdn); !ok {
		t.Fatal("the expired invitation did not pass to the fifth caller")
	}
	queued(fourth, "1")

	st := queueState(t, tg)
	if st.Queue.Waiting != 1 || st.Queue.InvitedTotal != 3 || st.Queue.Used != 1 || st.Queue.Expired != 1 || !st.Enabled {
		t.Fatalf("GET /admin/v1/queue = %+v", st)
	}
	if st.Gateway.JourneyLimit != 2 || st.Gateway.Pending != 1 {
		t.Fatalf("gateway view = %+v, want limit 2 and the fifth caller's invitation out", st.Gateway)
	}
	for _, m := range []string{"tikasetu_queue_invitations_total", "tikasetu_queue_waiting", "tikasetu_queue_wait_seconds"} {
		if !strings.Contains(metricsText(t, tg), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// queueView is the body of GET /admin/v1/queue.
type queueView struct {
	Enabled bool                `json:"enabled"`
	Queue   store.QueueStats    `json:"queue"`
	Gateway admission.QueueView `json:"gateway"`
}

func queueState(t *testing.T, tg *testGateway) queueView {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/admin/v1/queue", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, req)
	var v queueView
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
		t.Fatalf("GET /admin/v1/queue: %d %s", rec.Code, rec.Body)
	}
	return v
}

func metricsText(t *testing.T, tg *testGateway) string {
	t.Helper()
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// twin is a second gateway process beside tg: the same Redis, settings
// and outbox, its own admission control, engine, dispatcher and queue id.
func (tg *testGateway) twin(t *testing.T) *testGateway {
	t.Helper()
	g := &gateway{cfg: tg.g.cfg, store: tg.store, metrics: newMetrics(), log: tg.g.log, clock: tg.clock, outbox: tg.outbox}
	if err := g.start(context.Background(), g.outbox); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.dispatch.Close)
	t.Cleanup(g.engine.Drain)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	twin := &testGateway{t: t, g: g, h: g.router(), clock: tg.clock, store: tg.store, outbox: tg.outbox, centres: tg.centres}
	go g.inviteLoop(ctx, 50*time.Millisecond)
	return twin
}

// TestSurgeQueueTwoGateways: two gateways on one Redis, two journeys each.
// Callers turned away by either get places in one queue, in order of
// arrival; as journeys end on either gateway, the callers are invited in
// that order, each exactly once, and never more than the room freed.
func TestSurgeQueueTwoGateways(t *testing.T) {
	a := queuedGateway(t)
	b := a.twin(t)
	gws := []*testGateway{a, b}
	number := func(i int) string { return "+9198300001" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

	var inside []*caller
	for i := range 4 { // two journeys on each gateway
		c := gws[i%2].caller(number(i))
		if screen := c.dial(); c.ended {
			t.Fatalf("caller %d not let in: %q", i, screen)
		}
		inside = append(inside, c)
	}
	const waiting = 6
	for i := 4; i < 4+waiting; i++ { // arrivals alternate between the gateways
		c := gws[i%2].caller(number(i))
		want := "You are number " + string(rune('0'+i-3)) + " in the queue"
		if screen := c.dial(); !c.ended || !strings.Contains(screen, want) {
			t.Fatalf("caller %d: %q, want %q", i, screen, want)
		}
	}

	invited := func() []int {
		var out []int
		for i := 4; i < 4+waiting; i++ {
			n := 0
			for _, m := range a.sms(number(i)) {
				if strings.Contains(m, "your turn") {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("caller %d invited %d times", i, n)
			}
			if n == 1 {
				out = append(out, i)
			}
		}
		return out
	}
	// End the journeys one by one, alternating gateways: each frees room
	// for one invitation, which goes to the next caller in order.
	for k, c := range inside {
		exit(t, c.tg, c)
		want := 4 + k
		deadline := time.Now().Add(5 * time.Second)
		for len(invited()) < k+1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(150 * time.Millisecond) // three more rounds of each loop: nobody else
		got := invited()
		if len(got) != k+1 || got[k] != want {
			t.Fatalf("after %d journeys ended: invited %v, want callers 4..%d in order", k+1, got, want)
		}
	}
	st := queueState(t, a)
	if st.Queue.Waiting != waiting-4 || st.Queue.Invited != 4 || st.Queue.InvitedTotal != 4 {
		t.Fatalf("queue = %+v, want %d waiting and 4 invited", st.Queue, waiting-4)
	}
}
