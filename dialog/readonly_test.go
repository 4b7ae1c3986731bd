package dialog_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// countingObserver counts the engine's outcomes.
type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingObserver) Screen(string, string) {}

func (o *countingObserver) Count(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

func (o *countingObserver) get(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[outcome]
}

// deliver sends one USSD request with the given delivery id to w (one
// gateway process: an engine on a store of its own, so with its own peeked
// copies, over the shared data) and checks that the conversation is then
// in state.
func deliver(t *testing.T, w *world, msisdn, delivery, input string, fresh bool, state string) dialog.Reply {
	t.Helper()
	r, err := w.eng.Handle(w.ctx, dialog.Turn{Channel: dialog.USSD, Provider: "peektest", Msisdn: msisdn,
		Session: "S-" + msisdn, NewSession: fresh, Input: input, Delivery: delivery})
	if err != nil {
		t.Fatalf("%s %q: %v", delivery, input, err)
	}
	ld, err := w.st.Load(w.ctx, msisdn, "")
	if err != nil || ld.Conversation == nil || ld.Conversation.State != state {
		t.Fatalf("%s %q: conversation %+v (%v), want state %q; reply:\n%s", delivery, input, ld.Conversation, err, state, r.Text)
	}
	return r
}

// TestOlderDeliveryRepeatedAtAWritingScreen: a turn started from the
// store's kept copy has not checked whether its delivery was answered
// before, so at a screen that writes it must not write. Here an earlier
// wrong code is delivered again after a later one: answered from the reply
// cache, it must not count as a third wrong try (which would lock the
// code), and the first wrong code must have been counted once, not twice.
func TestOlderDeliveryRepeatedAtAWritingScreen(t *testing.T) {
	cal := newCalendar(t)
	obs := &countingObserver{}
	g := cal.observedWorld(t, obs)
	m := "+919830012345"
	deliver(t, g, m, "d0", "", true, "lang")
	deliver(t, g, m, "d1", "1", false, "number")
	deliver(t, g, m, "d2", "1", false, "otp")
	if n := obs.get("peek_refused"); n != 1 {
		t.Errorf("peek_refused = %d, want 1 (sending the code refused from the kept copy)", n)
	}
	g.eng.Drain()
	if n := len(g.sms.To(m)); n != 1 {
		t.Errorf("%d SMS sent, want one code", n)
	}
	code := g.lastCode(t, m)
	wrong := func(n int) string { return fmt.Sprintf("%06d", (mustAtoi(t, code)+n)%1_000_000) }
	cat := g.eng.Catalogue()

	first := deliver(t, g, m, "d3", wrong(1), false, "otp")
	if want := cat.Text("en", "otp.wrong", "left", "2"); !strings.Contains(first.Text, want) {
		t.Fatalf("first wrong code: %q, want %q (one try counted)", first.Text, want)
	}
	if n := obs.get("peek_refused"); n != 2 {
		t.Errorf("peek_refused = %d, want 2 (the code check refused from the kept copy)", n)
	}
	deliver(t, g, m, "d4", wrong(2), false, "otp")
	again := deliver(t, g, m, "d3", wrong(1), false, "otp")
	if again != first {
		t.Errorf("repeated delivery answered %q, want the first answer %q", again.Text, first.Text)
	}
	deliver(t, g, m, "d5", code, false, "home")
}

// TestGatewaysTakeTurnsWithOneCaller: two gateways answer alternate
// requests of one caller. Each one's kept copy is overtaken by the other's
// write, so its first try conflicts and the turn is run again from the
// store: the caller sees the journey in order.
func TestGatewaysTakeTurnsWithOneCaller(t *testing.T) {
	cal := newCalendar(t)
	aObs, bObs := &countingObserver{}, &countingObserver{}
	a := cal.observedWorld(t, aObs)
	b := a.gateway(t, bObs)
	m := "+919830012346"
	deliver(t, a, m, "d0", "", true, "lang")
	deliver(t, b, m, "d1", "1", false, "number")
	deliver(t, a, m, "d2", "1", false, "otp")
	code := a.lastCode(t, m)
	deliver(t, b, m, "d3", code, false, "home")
	deliver(t, a, m, "d4", "1", false, "id_type") // from a's copy at "otp", "1" would be a bad code
	deliver(t, b, m, "d5", "0", false, "home")
	if n := aObs.get("peek_stale") + bObs.get("peek_stale"); n < 2 {
		t.Errorf("peek_stale = %d, want every overtaken copy refused", n)
	}
	// One gateway alone serves from its copy: no more stale peeks.
	before := bObs.get("peek_stale")
	deliver(t, b, m, "d6", "1", false, "id_type")
	deliver(t, b, m, "d7", "0", false, "home")
	if n := bObs.get("peek_stale"); n != before {
		t.Errorf("peek_stale rose from %d to %d with one gateway", before, n)
	}
}
