package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/dlt"
	"github.com/tikasetu/tikasetu/providers/smpp"
	"github.com/tikasetu/tikasetu/providers/smpp/smpptest"
)

// filledDLT is the output of "tikasetu dlt templates" with an entity id and
// every template id filled in, as an operator would after registering;
// edit, when set, changes it further.
func filledDLT(t *testing.T, edit func(string) string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"dlt", "templates"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("dlt templates: exit %d: %s", code, errb.String())
	}
	text := strings.Replace(out.String(), `entity_id: ""`, `entity_id: "1201160000000012345"`, 1)
	for i := 0; strings.Contains(text, `id: ""`); i++ {
		text = strings.Replace(text, `id: ""`, fmt.Sprintf(`id: "12071600000000%05d"`, i), 1)
	}
	if edit != nil {
		text = edit(text)
	}
	path := t.TempDir() + "/dlt.yaml"
	if err := writeFile(path, text); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDLTFileAtStart: the templates the command prints, once filled in,
// start the gateway; a template that no longer matches its message stops
// the start, naming the kind, the language and where they differ.
func TestDLTFileAtStart(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	tests := []struct {
		name string
		edit func(string) string
		want string // in the message; "" means the start is accepted
	}{
		{"as printed and filled in", nil, ""},
		{"one character changed", func(s string) string {
			return strings.Replace(s, "Valid 3 minutes", "Valid 5 minutes", 1)
		}, "otp"},
		{"a template missing", func(s string) string {
			i := strings.Index(s, "  - kind: cancelled\n    lang: hi")
			j := strings.Index(s[i+1:], "  - kind:") + i + 1
			return s[:i] + s[j:]
		}, "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filledDLT(t, tt.edit)
			if tt.want == "" {
				sender, err := dltGuard(path, nopSender{}, func(string) {}, nil)
				if err != nil || sender == nil {
					t.Fatalf("dltGuard: %v", err)
				}
				return
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--dlt-file", path}, nil, &out, &errb)
			if code != exitConfig || !strings.Contains(errb.String(), tt.want) || !strings.Contains(errb.String(), "TIKASETU_DLT_FILE") {
				t.Fatalf("exit %d, stderr %q; want 2 naming TIKASETU_DLT_FILE and %q", code, errb.String(), tt.want)
			}
		})
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, dialog.SMS) error { return nil }

// TestJourneyOverSMPPWithDLT: a whole journey with the smpp sender behind
// the DLT file, against an SMS centre: the code and the slip arrive as
// submit_sm from the header, with the entity and template ids in TLVs
// 0x1400 and 0x1401, and text that matches the registered template; an
// undelivered receipt for a code makes the OTP screen offer a new one.
func TestJourneyOverSMPPWithDLT(t *testing.T) {
	srv := smpptest.New(t, "secret")
	path := filledDLT(t, nil)
	reg, err := dlt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tg := newTestGatewayWith(t, func(g *gateway) dialog.Sender {
		sm, err := smpp.New(smpp.Options{Addr: srv.Addr(), SystemID: "tikasetu", Password: "secret", Source: "TKSETU",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Count: g.metrics.Count, OnReceipt: g.receipt})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sm.Close() })
		guarded, err := dltGuard(path, sm, g.metrics.Count, g.log)
		if err != nil {
			t.Fatal(err)
		}
		return guarded
	}, everySeat(5), "01-west-bengal-743337.json")
	tg.smsc = srv

	c := tg.caller("9830000021")
	for _, s := range script(login(), addPerson("1", aadhaar("23412341234"), "Ram Kumar", "1960", "1", 1), []step{
		{in: "2"}, {in: "1"}, {in: "743337"}, {in: "1"}, {in: "1"}, {in: "1"},
		{in: "1", want: []string{"Booked!"}, end: true},
	}) {
		s.run(t, tg, c)
	}
	tg.g.engine.Drain()
	texts, err := smpptest.Texts(srv.Received()) // the slip comes in parts
	if err != nil {
		t.Fatal(err)
	}
	kinds, ids := map[string]int{}, map[string]bool{}
	for _, text := range texts {
		kind := dialog.SMSKindOTP
		if strings.Contains(text, "slip") {
			kind = dialog.SMSKindSlip
		}
		kinds[kind]++
		id, err := reg.Match(dialog.SMS{Text: text, Kind: kind, Lang: "en"})
		if err != nil {
			t.Fatalf("%s sent but does not match its template: %v", kind, err)
		}
		ids[id] = true
	}
	if kinds[dialog.SMSKindOTP] != 1 || kinds[dialog.SMSKindSlip] != 1 {
		t.Fatalf("messages by kind %v, want one code and one slip", kinds)
	}
	parts := srv.Received()
	if len(parts) < 3 {
		t.Fatalf("%d submits, want a code and a slip of at least two parts", len(parts))
	}
	for i, r := range parts {
		if src := r.SM.SourceAddr; src.Address() != "TKSETU" || src.Ton() != 5 {
			t.Errorf("submit %d: source %q TON %d, want the header TKSETU, TON 5", i, src.Address(), src.Ton())
		}
		if v, ok := r.TLV(0x1400); !ok || string(v) != reg.EntityID {
			t.Errorf("submit %d: TLV 0x1400 = %q, want the entity id %s", i, v, reg.EntityID)
		}
		if v, ok := r.TLV(0x1401); !ok || !ids[string(v)] {
			t.Errorf("submit %d: TLV 0x1401 = %q, want its template's id (%v)", i, v, ids)
		}
	}

	// A code the network could not deliver.
	c = tg.caller("9830000022")
	for _, s := range login()[:3] {
		s.run(t, tg, c)
	}
	tg.g.engine.Drain()
	var code smpptest.Received
	for _, r := range srv.Received() {
		if r.SM.DestAddr.Address() == "919830000022" {
			code = r
		}
	}
	conn, err := srv.AnyConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Receipt(code.ID, "UNDELIV", "001", false); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		failed, err := tg.store.Undelivered(context.Background(), "+919830000022")
		if err != nil {
			t.Fatal(err)
		}
		if failed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the undelivered receipt never reached the OTP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := c.send("12"); !strings.Contains(got, "could not be delivered") {
		t.Fatalf("the OTP screen does not say the code failed:\n%s", got)
	}
	if got := c.send("0"); !strings.Contains(got, "new code is on its way") {
		t.Fatalf("no new code at once after an undelivered receipt:\n%s", got)
	}
	if got := c.send(tg.otp(c.msisdn)); !strings.Contains(got, "No one registered yet") {
		t.Fatalf("the new code does not verify:\n%s", got)
	}
}
