package dialog_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
)

// TestBusyScreens: the screens of a caller turned away end the session,
// speak the language this process last served the caller in (English for
// a stranger, Roman Hindi on a GSM-7 network), and the queue's screen
// gives the caller's place and at least one minute.
func TestBusyScreens(t *testing.T) {
	clock := dialogtest.NewClock(dialogtest.Start)
	st := dialogtest.New(dialogtest.Config{Clock: clock})
	eng, err := dialog.NewEngine(dialog.Config{Conversations: st, OTPs: st, Registry: st, Sealer: st,
		Outbox: &dialogtest.SMSLog{}, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cat := eng.Catalogue()
	const hindi = "+919830000002"
	// The Hindi caller picks their language (option 2) on their first call.
	for _, in := range []string{"", "2"} {
		if _, err := eng.Handle(context.Background(), dialog.Turn{Msisdn: hindi, Channel: dialog.USSD, Session: "s1", NewSession: in == "", Input: in, Provider: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	queued := func(lang, pos, min string) string {
		return cat.Text(lang, "busy.queued", "position", pos, "minutes", min)
	}
	tests := []struct {
		name    string
		turn    dialog.Turn
		queue   bool
		pos     int
		minutes int
		want    string
	}{
		{name: "stranger ussd", turn: dialog.Turn{Msisdn: "9830000001", Channel: dialog.USSD}, want: cat.Text("en", "busy.ussd")},
		{name: "stranger sms", turn: dialog.Turn{Msisdn: "9830000001", Channel: dialog.SMSChannel}, want: cat.Text("en", "busy.sms")},
		{name: "hindi caller", turn: dialog.Turn{Msisdn: hindi, Channel: dialog.USSD}, want: cat.Text("hi", "busy.ussd")},
		{name: "hindi on gsm-7", turn: dialog.Turn{Msisdn: hindi, Channel: dialog.USSD, GSM7Only: true}, want: cat.Text("hi-Latn", "busy.ussd")},
		{name: "queued stranger", turn: dialog.Turn{Msisdn: "9830000001", Channel: dialog.USSD}, queue: true, pos: 1234, minutes: 20, want: queued("en", "1234", "20")},
		{name: "queued hindi", turn: dialog.Turn{Msisdn: hindi, Channel: dialog.SMSChannel}, queue: true, pos: 7, minutes: 0, want: queued("hi", "7", "1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := eng.Busy(tc.turn)
			if tc.queue {
				r = eng.Queued(tc.turn, tc.pos, tc.minutes)
			}
			if !r.End || r.Text != tc.want {
				t.Fatalf("reply = %+v, want END %q", r, tc.want)
			}
			if strings.Contains(r.Text, "{") {
				t.Fatalf("placeholder left in %q", r.Text)
			}
		})
	}
}

// TestQueuedFits: the queue's screen fits a USSD screen in every language
// with a six-digit place and a three-digit wait (it is answered whole,
// never paged).
func TestQueuedFits(t *testing.T) {
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range dialog.Languages {
		text := cat.Text(lang, "busy.queued", "position", "123456", "minutes", "120")
		if n, limit := dialog.Units(text), dialog.USSDBudget.For(text); n > limit {
			t.Errorf("%s: %d units, limit %d: %q", lang, n, limit, text)
		}
	}
}
