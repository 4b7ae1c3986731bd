package dlt

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestMatch(t *testing.T) {
	cat := catalogue(t)
	r := registered(t)
	slip := func(lang, name, place string) string {
		return cat.Text(lang, "sms.slip", "name", name, "ref", "3506844788106", "id", "K7M2Q9XW4RTA", "code", "4821", "centre", place,
			"date", "Wed 12 Sep", "slot", "09:00AM-11:00AM", "vaccine", "COVISHIELD")
	}
	otp := cat.Text("en", "sms.otp", "code", "123456")
	tests := []struct {
		name       string
		kind, lang string
		text       string
		id         string // the template id when it matches
		reason     Reason
		pos        int    // FixedDiffers: 0-based character
		want       string // FixedDiffers: the template's text there
		v, vars    int    // VarTooLong: the run
		len, max   int
	}{
		{name: "otp", kind: KindOTP, lang: "en", text: otp, id: idOf(t, KindOTP, "en")},
		{name: "otp hi", kind: KindOTP, lang: "hi", text: cat.Text("hi", "sms.otp", "code", "123456"), id: idOf(t, KindOTP, "hi")},
		{name: "empty variable", kind: KindOTP, lang: "en", text: cat.Text("en", "sms.otp", "code", ""), id: idOf(t, KindOTP, "en")},
		{name: "30 characters", kind: KindOTP, lang: "en", text: cat.Text("en", "sms.otp", "code", strings.Repeat("ক", 30)), id: idOf(t, KindOTP, "en")},
		{name: "no variables", kind: KindStopped, lang: "bn", text: cat.Text("bn", "sms.stopped"), id: idOf(t, KindStopped, "bn")},
		{name: "busy", kind: KindBusy, lang: "en", text: cat.Text("en", "busy.sms"), id: idOf(t, KindBusy, "en")},
		{name: "changed fixed text", kind: KindOTP, lang: "en", text: strings.Replace(otp, "Valid", "valid", 1),
			reason: FixedDiffers, pos: 23, want: "Valid 3 minutes. Do not …"},
		{name: "changed first word", kind: KindOTP, lang: "en", text: strings.Replace(otp, "code", "kode", 1),
			reason: FixedDiffers, pos: 9, want: "code: "},
		{name: "changed after variable", kind: KindOTP, lang: "en", text: strings.Replace(otp, "123456.", "123456!", 1),
			reason: FixedDiffers, pos: 21, want: ". Valid 3 minutes. Do no…"},
		{name: "cut short", kind: KindOTP, lang: "en", text: otp[:len(otp)-5],
			reason: FixedDiffers, pos: len(otp) - 5, want: "yone."},
		{name: "text goes on", kind: KindCancelled, lang: "en", text: cat.Text("en", "sms.cancelled") + " Thanks",
			reason: FixedDiffers, pos: len(cat.Text("en", "sms.cancelled"))},
		{name: "31-character variable", kind: KindOTP, lang: "en", text: cat.Text("en", "sms.otp", "code", strings.Repeat("1", 31)),
			reason: VarTooLong, v: 1, vars: 1, len: 31, max: 30},
		{name: "wrong language", kind: KindOTP, lang: "bn", text: otp, reason: FixedDiffers, pos: 9, want: "কোড: "},
		{name: "no template", kind: "promo", lang: "en", text: otp, reason: NoTemplate},
		{name: "no kind", kind: "", lang: "en", text: otp, reason: NoTemplate},
		// The slip's name is two adjacent variables, its place four.
		{name: "name of 60", kind: KindSlip, lang: "en", text: slip("en", strings.Repeat("a", 60), "PHC"), id: idOf(t, KindSlip, "en")},
		{name: "name of 61", kind: KindSlip, lang: "en", text: slip("en", strings.Repeat("a", 61), "PHC"),
			reason: VarTooLong, v: 1, vars: 2, len: 61, max: 60},
		{name: "name split anywhere", kind: KindSlip, lang: "bn", text: slip("bn", "ক, খ, গ", "PHC, ঘ, ঙ"), id: idOf(t, KindSlip, "bn")},
		{name: "empty name and place", kind: KindSlip, lang: "hi", text: slip("hi", "", ""), id: idOf(t, KindSlip, "hi")},
		{name: "place of 120", kind: KindSlip, lang: "hi", text: slip("hi", "राम", strings.Repeat("स, ", 40)), id: idOf(t, KindSlip, "hi")},
		// A place with commas may end early and leave the rest to the
		// date's variable: DLT's scrubbing would accept that too.
		{name: "place of 150 with commas", kind: KindSlip, lang: "hi", text: slip("hi", "राम", strings.Repeat("स, ", 50)), id: idOf(t, KindSlip, "hi")},
		{name: "place of 121", kind: KindSlip, lang: "hi", text: slip("hi", "राम", strings.Repeat("स", 121)),
			reason: VarTooLong, v: 6, vars: 4, len: 121, max: 120},
		{name: "slip with the fixed text changed", kind: KindSlip, lang: "en",
			text:   strings.Replace(slip("en", "Ram", "PHC, Road"), "photo ID", "photo-ID", 1),
			reason: FixedDiffers, pos: len(slip("en", "Ram", "PHC, Road")) - 4, want: " ID."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Match(dialog.SMS{Kind: tc.kind, Lang: tc.lang, Text: tc.text, To: "+919876543210"})
			if tc.reason == 0 {
				if err != nil || got != tc.id {
					t.Fatalf("Match = %q, %v; want %q", got, err, tc.id)
				}
				return
			}
			var me *MatchError
			if !errors.As(err, &me) {
				t.Fatalf("Match = %q, %v; want a *MatchError", got, err)
			}
			want := MatchError{Kind: tc.kind, Lang: tc.lang, Reason: tc.reason}
			switch tc.reason {
			case FixedDiffers:
				want.Pos, want.Want = tc.pos, tc.want
			case VarTooLong:
				want.Var, want.Vars, want.Len, want.Max = tc.v, tc.vars, tc.len, tc.max
			}
			if *me != want || got != "" {
				t.Errorf("Match = %q, %+v\nwant %+v", got, *me, want)
			}
			t.Log(err)
		})
	}
}

// sender records what reaches it.
type sender struct {
	mu   sync.Mutex
	sent []dialog.SMS
}

func (s *sender) Send(_ context.Context, m dialog.SMS) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func TestGuard(t *testing.T) {
	cat := catalogue(t)
	r := registered(t)
	code := "918273"
	good := dialog.SMS{To: "+919876543210", Ref: "otp-3210-ab", Kind: KindOTP, Lang: "hi", Text: cat.Text("hi", "sms.otp", "code", code)}
	bad := good
	bad.Text = strings.Replace(good.Text, "TikaSetu", "TikaSetu:", 1)
	long := good
	long.Text = cat.Text("hi", "sms.otp", "code", strings.Repeat(code, 6))
	unknown := good
	unknown.Kind = ""

	tests := []struct {
		name string
		m    dialog.SMS
		ok   bool
	}{
		{"matching", good, true},
		{"fixed text changed", bad, false},
		{"variable too long", long, false},
		{"no kind", unknown, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &sender{}
			var logs bytes.Buffer
			var counted []string
			g := Guard(next, r, GuardOptions{
				Count:  func(o string) { counted = append(counted, o) },
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			err := g.Send(context.Background(), tc.m)
			if tc.ok {
				if err != nil || len(next.sent) != 1 || len(counted) != 0 {
					t.Fatalf("Send = %v; sent %d, counted %v", err, len(next.sent), counted)
				}
				want := tc.m
				want.EntityID, want.TemplateID = entity, idOf(t, KindOTP, "hi")
				if next.sent[0] != want {
					t.Errorf("sent %+v\nwant %+v", next.sent[0], want)
				}
				return
			}
			var perm interface{ Permanent() bool }
			if err == nil || !errors.As(err, &perm) || !perm.Permanent() {
				t.Errorf("Send = %v, want a permanent error", err)
			}
			if len(next.sent) != 0 {
				t.Errorf("a refused message reached the sender: %+v", next.sent)
			}
			if len(counted) != 1 || counted[0] != "dlt_refused" {
				t.Errorf("counted %v, want [dlt_refused]", counted)
			}
			l := logs.String()
			for _, secret := range []string{code, "9876543210", "3210", "मिनट"} {
				if strings.Contains(l, secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("%q logged or in the error:\n%s%v", secret, l, err)
				}
			}
			if !strings.Contains(l, "kind="+tc.m.Kind) || !strings.Contains(l, "lang=hi") || !strings.Contains(l, "reason=") {
				t.Errorf("log lacks kind, lang or reason: %s", l)
			}
			t.Log(strings.TrimSpace(l))
		})
	}
}
