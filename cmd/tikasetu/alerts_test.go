package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// The calendar of the alert tests: a shared Co-WIN file whose sessions
// are all full, and the centre an import gives seats.
const (
	alertFile   = "01-west-bengal-743337.json"
	alertPin    = "743337"
	alertCentre = "Nimpith S C" // one session, 18 May 2021
	alertText   = "TikaSetu: seats free at Nimpith S C, PIN 743337, on 18 May. Dial *123*45# to book."
)

// calendarWithSeats is the Co-WIN file name as JSON, with seats first
// doses at every session of the centre named centre.
func calendarWithSeats(t *testing.T, name, centre string, seats int) []byte {
	t.Helper()
	raw, err := os.ReadFile(cowintest.File(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var cal map[string]any
	if err := json.Unmarshal(raw, &cal); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cal["centers"].([]any) {
		c := c.(map[string]any)
		if c["name"] != centre {
			continue
		}
		found = true
		for _, s := range c["sessions"].([]any) {
			s := s.(map[string]any)
			s["available_capacity"], s["available_capacity_dose1"], s["available_capacity_dose2"] = seats, seats, 0
		}
	}
	if !found {
		t.Fatalf("no centre %q in %s", centre, name)
	}
	out, err := json.Marshal(cal)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// importCalendar posts a Co-WIN calendar to the admin route.
func (tg *testGateway) importCalendar(t *testing.T, body []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/admin/v1/calendar", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
}

// outbox reads the texts sent to number at GET /dev/outbox/<number>.
func (tg *testGateway) outboxTexts(t *testing.T, number string) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/outbox/"+number, nil))
	var body struct {
		Messages []struct {
			Text string `json:"text"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("outbox of %s: %d %v", dialog.MaskMsisdn(number), rec.Code, err)
	}
	var out []string
	for _, m := range body.Messages {
		out = append(out, m.Text)
	}
	return out
}

// alertsTo are the seat alerts sent to number so far.
func (tg *testGateway) alertsTo(t *testing.T, number string) []string {
	t.Helper()
	return slices.DeleteFunc(tg.outboxTexts(t, number), func(s string) bool { return !strings.HasPrefix(s, "TikaSetu: seats free") })
}

// waitAlerts waits up to 10 s for number's n-th seat alert and returns
// them all.
func (tg *testGateway) waitAlerts(t *testing.T, number string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := tg.alertsTo(t, number)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s had %d seat alerts after 10 s, want %d", dialog.MaskMsisdn(number), len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSeatAlertAfterImport is the seat alert end to end through the
// gateway's routes: ALERT <PIN> by SMS, then a calendar import that gives
// the PIN code seats, sends each subscriber exactly one alert naming the
// centre and the day; a second import that day sends none; and after the
// subscriber books, the next day's import alerts only the one who has not.
func TestSeatAlertAfterImport(t *testing.T) {
	tg := newTestGateway(t, everySeat(0), alertFile)
	sub := &texter{tg: tg, msisdn: "+919830075001"}
	other := &texter{tg: tg, msisdn: "+919830075002"}
	if got, want := sub.text(t, "ALERT "+alertPin, ""), "Alert set for PIN 743337. We will SMS when seats open."; got != want {
		t.Fatalf("ALERT: %q, want %q", got, want)
	}
	other.text(t, "alert ৭৪৩৩৩৭", "") // Bengali digits

	seats := calendarWithSeats(t, alertFile, alertCentre, 5)
	tg.importCalendar(t, seats)
	for _, m := range []string{sub.msisdn, other.msisdn} {
		if got := tg.waitAlerts(t, m, 1); !slices.Equal(got, []string{alertText}) {
			t.Fatalf("alerts to %s: %q, want %q", dialog.MaskMsisdn(m), got, alertText)
		}
	}

	tg.clock.Advance(3 * time.Hour)
	tg.importCalendar(t, seats)
	tg.g.engine.Drain()
	for _, m := range []string{sub.msisdn, other.msisdn} {
		if got := tg.alertsTo(t, m); len(got) != 1 {
			t.Fatalf("after a second import the same day, %s has %d alerts, want 1", dialog.MaskMsisdn(m), len(got))
		}
	}

	// The subscriber books over SMS.
	for _, s := range []struct{ body, want string }{
		{"hello", "1 English"}, {"1", "1 Register with"}, {"1", "6-digit code"}, {"{otp}", "No one registered yet"},
		{"1", "1 Aadhaar"}, {"1", "Aadhaar number"}, {aadhaar("56781234568"), "Name as on the ID"},
		{"Bina Paul", "Year of birth"}, {"1955", "Gender"}, {"2", "Register this person?"}, {"1", "Bina Paul registered"},
		{"2", "Book for:"}, {"1", "PIN code"}, {alertPin, "Centres at 743337:"}, {"1", "Choose a date:"}, {"1", "time:"},
		{"1", "Book this appointment?"}, {"1", "Booked!"},
	} {
		body := s.body
		if body == "{otp}" {
			body = tg.otp(sub.msisdn)
		}
		if got := sub.text(t, body, ""); !strings.Contains(got, s.want) {
			t.Fatalf("after SMS %q the reply lacks %q:\n%s", body, s.want, got)
		}
	}

	tg.clock.Advance(24 * time.Hour)
	tg.importCalendar(t, seats)
	if got := tg.waitAlerts(t, other.msisdn, 2); len(got) != 2 {
		t.Fatalf("the next day the other subscriber has %d alerts, want 2", len(got))
	}
	tg.g.engine.Drain()
	if got := tg.alertsTo(t, sub.msisdn); len(got) != 1 {
		t.Fatalf("after booking, the subscriber has %d alerts, want still 1: %q", len(got), got)
	}

	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`tikasetu_outcomes_total{outcome="alert_sent"} 3`, `tikasetu_outcomes_total{outcome="alert_subscribed"} 2`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestImportCommandQueuesAlerts: `tikasetu import` has no dispatcher, so
// it queues the alerts only: listed one lease ahead, for any gateway to
// claim and send; a second import the same day queues none.
func TestImportCommandQueuesAlerts(t *testing.T) {
	ctx := context.Background()
	url := redistest.Start(t)
	open := func(clock dialog.Clock) *store.Store {
		st, err := store.Open(ctx, store.Config{URL: url, Secret: []byte(importSecret), Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open(nil)
	sub := "+919830075003"
	if err := st.Subscribe(ctx, sub, alertPin, "en"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "seats.json")
	if err := os.WriteFile(file, calendarWithSeats(t, alertFile, alertCentre, 5), 0o600); err != nil {
		t.Fatal(err)
	}
	importOnce := func() string {
		var out, errb bytes.Buffer
		args := []string{"import", "--redis-url", url, "--secret", importSecret, "--quiet", "--shift-dates", file}
		if code := run(ctx, args, nil, &out, &errb); code != exitOK {
			t.Fatalf("import: exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	if out := importOnce(); !strings.Contains(out, "queued 1 seat alert SMS") {
		t.Fatalf("import said %q, want one alert queued", out)
	}
	if q, err := st.ClaimSMS(ctx, 10); err != nil || len(q) != 0 {
		t.Fatalf("claimed %d within the lease (%v): want none", len(q), err)
	}
	later := open(dialog.ClockFunc(func() time.Time { return time.Now().Add(2 * store.DefaultSMSLease) }))
	q, err := later.ClaimSMS(ctx, 10)
	if err != nil || len(q) != 1 {
		t.Fatalf("a gateway after the lease claimed %d (%v), want the alert", len(q), err)
	}
	if m := q[0]; m.To != sub || m.Kind != dialog.SMSKindAlert || !strings.Contains(m.Text, "Nimpith S C, PIN 743337, on ") {
		t.Errorf("claimed %+v, want the alert to the subscriber", m.SMS)
	}
	if out := importOnce(); strings.Contains(out, "queued") {
		t.Errorf("a second import the same day said %q, want nothing queued", out)
	}
}

func TestPinsWithSeats(t *testing.T) {
	centre := func(pin string, caps ...[2]int) dialog.Centre {
		c := dialog.Centre{Pincode: pin}
		for _, cp := range caps {
			c.Sessions = append(c.Sessions, dialog.Session{Capacity: cp})
		}
		return c
	}
	tests := []struct {
		name    string
		centres []dialog.Centre
		want    []string
	}{
		{"none", nil, nil},
		{"full everywhere", []dialog.Centre{centre("700001", [2]int{0, 9}), centre("700002")}, nil},
		{"once each, sorted", []dialog.Centre{centre("700002", [2]int{0, 0}, [2]int{1, 0}), centre("700001", [2]int{3, 0}),
			centre("700002", [2]int{2, 0})}, []string{"700001", "700002"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pinsWithSeats(tc.centres); !slices.Equal(got, tc.want) {
				t.Errorf("pinsWithSeats = %q, want %q", got, tc.want)
			}
		})
	}
}
