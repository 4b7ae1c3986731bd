package dialogtest

import (
	"context"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestMemory: Memory's ports are one store: what Import loads the Registry
// finds, a Gateway sees the conversations, and the engine's SMS reach SMS.
func TestMemory(t *testing.T) {
	ctx := context.Background()
	clock := NewClock(Start)
	p := Memory(t, Options{Clock: clock})
	if err := p.Import(ctx, []dialog.Centre{centre(5, "Five", "700005", [2]int{1, 1})}); err != nil {
		t.Fatal(err)
	}
	if cs, _ := p.Registry.CentresByPin(ctx, "700005"); len(cs) != 1 {
		t.Errorf("imported centre not found: %v", cs)
	}
	var screens []string
	eng := p.Engine(t, clock, func(c *dialog.Config) { c.Observer = screenObserver(func(s string) { screens = append(screens, s) }) })
	for _, in := range []string{"", "1", "1"} {
		if _, err := eng.Handle(ctx, dialog.Turn{Channel: dialog.USSD, Msisdn: caller, Session: "S", NewSession: in == "", Input: in, Delivery: "d" + in + string(rune('0'+len(screens)))}); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(screens, " "); got != "lang number otp" {
		t.Errorf("screens %s, want lang number otp (the configuration's observer)", got)
	}
	if l, _ := p.Gateway().Load(ctx, caller, ""); l.Conversation == nil || l.Conversation.State != "otp" {
		t.Errorf("a gateway loads %+v", l.Conversation)
	}
	if _, ok := p.SMS.LastCode(caller); !ok {
		t.Error("the code SMS did not reach the log")
	}
}

type screenObserver func(state string)

func (o screenObserver) Screen(_, state string) { o(state) }
func (screenObserver) Count(string)             {}
