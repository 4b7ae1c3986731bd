package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/cmd/tikasetu/admission"
	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/partner"
	"github.com/tikasetu/tikasetu/providers/twilio"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// step is one input of a scripted caller and what the reply must show.
// Special inputs: "{dial}" starts a new USSD session (after a 31 s pause,
// past the OTP resend cool-down), "{otp}" enters the latest code sent to
// the caller, "{again}" delivers the last request a second time, and
// "{choose:TEXT}" picks the option whose line contains TEXT, paging with
// 98 until it shows.
type step struct {
	in     string
	want   []string
	not    []string
	end    bool
	before func(t *testing.T, tg *testGateway, c *caller)
	after  func(t *testing.T, tg *testGateway, c *caller)
}

func (s step) run(t *testing.T, tg *testGateway, c *caller) {
	t.Helper()
	if s.before != nil {
		s.before(t, tg, c)
	}
	var got string
	switch {
	case s.in == "{dial}":
		tg.clock.Advance(31 * time.Second)
		got = c.dial()
	case s.in == "{otp}":
		got = c.send(tg.otp(c.msisdn))
	case s.in == "{again}":
		prev := c.last
		got = c.post(c.lastReq)
		if got != prev {
			t.Fatalf("redelivery got a different reply:\n%s\n--- first was ---\n%s", got, prev)
		}
	case strings.HasPrefix(s.in, "{choose:"):
		got = c.choose(strings.TrimSuffix(strings.TrimPrefix(s.in, "{choose:"), "}"))
	default:
		got = c.send(s.in)
	}
	for _, w := range s.want {
		if !strings.Contains(got, w) {
			t.Fatalf("after %q the screen lacks %q:\n%s", s.in, w, got)
		}
	}
	for _, w := range s.not {
		if strings.Contains(got, w) {
			t.Fatalf("after %q the screen shows %q:\n%s", s.in, w, got)
		}
	}
	if c.ended != s.end {
		t.Fatalf("after %q: ended=%v, want %v:\n%s", s.in, c.ended, s.end, got)
	}
	if s.after != nil {
		s.after(t, tg, c)
	}
}

var optionLine = regexp.MustCompile(`^(\d+) (.*)$`)

// choose picks the option whose line contains text, paging until it shows.
func (c *caller) choose(text string) string {
	t := c.tg.t
	t.Helper()
	for range 20 {
		for _, line := range strings.Split(c.last, "\n") {
			if m := optionLine.FindStringSubmatch(line); m != nil && strings.Contains(m[2], text) {
				return c.send(m[1])
			}
		}
		if !strings.Contains(c.last, "98 More") {
			break
		}
		c.send("98")
	}
	t.Fatalf("no option with %q on any page; last screen:\n%s", text, c.last)
	return ""
}

// login is a new caller's way to Home; relogin a returning caller's.
func login() []step {
	return []step{
		{in: "{dial}", want: []string{"1 English", "2 हिन्दी", "3 বাংলা"}},
		{in: "1", want: []string{"1 Register with XXXXXX", "2 Use another number"}},
		{in: "1", want: []string{"6-digit code", "0 Send a new code"}},
		{in: "{otp}", want: []string{"No one registered yet", "1 Add person", "5 Language", "0 Exit"}, not: []string{"2 Book", "4 Cancel"}},
	}
}

func relogin(registered int) []step {
	return []step{
		{in: "{dial}", want: []string{"1 Register with"}, not: []string{"English"}},
		{in: "1", want: []string{"6-digit code"}},
		{in: "{otp}", want: []string{"2 Book", "0 Exit"}},
	}
}

// addPerson registers one person from Home; idType is the option number.
func addPerson(idType, id, name, year, gender string, count int) []step {
	return []step{
		{in: "1", want: []string{"1 Aadhaar", "2 PAN card", "3 Driving licence", "4 Voter ID", "5 Passport", "0 Back"}},
		{in: idType, want: []string{"number"}},
		{in: id, want: []string{"Name as on the ID"}},
		{in: name, want: []string{"Year of birth"}},
		{in: year, want: []string{"1 Male", "2 Female", "3 Other"}},
		{in: gender, want: []string{"Register this person?", name, "1 Confirm", "2 Start again"}},
		{in: "1", want: []string{name + " registered (" + strconv.Itoa(count) + "/4)", "2 Book"}},
	}
}

func script(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// seatsOf reads the live free dose-1 seats of a session.
func seatsOf(t *testing.T, tg *testGateway, sessionID string) int {
	t.Helper()
	s, err := tg.store.Seats(context.Background(), []string{sessionID})
	if err != nil {
		t.Fatal(err)
	}
	return s[0].Free[0]
}

func account(t *testing.T, tg *testGateway, msisdn string) dialog.Account {
	t.Helper()
	n, _ := dialog.NormaliseMsisdn(msisdn)
	a, err := tg.store.Account(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestUSSDJourneys(t *testing.T) {
	ramAadhaar := aadhaar("23412341234")
	type scenario struct {
		name   string
		files  []string
		seats  func(*dialog.Centre, *dialog.Session)
		msisdn string
		steps  []step
		check  func(t *testing.T, tg *testGateway, c *caller)
	}
	scenarios := []scenario{
		{
			name: "register two people (Aadhaar, PAN) and book both at a Free centre", files: []string{"12-delhi-110085.json"},
			seats: everySeat(10), msisdn: "+919800000001",
			steps: script(login(),
				addPerson("1", ramAadhaar, "Ram Kumar", "1960", "1", 1),
				addPerson("2", "abcpe1234f", "Sita Devi", "1965", "2", 2),
				[]step{
					{in: "2", want: []string{"Book for:", "1 Ram Kumar", "2 Sita Devi", "3 All", "0 Back"}},
					{in: "3", want: []string{"PIN code"}},
					{in: "110085", want: []string{"Centres at 110085:", "Free", "98 More", "0 Back"}},
					{in: "{choose:Free}", want: []string{"Choose a date:", "COVISHIELD 45+"}},
					{in: "1", want: []string{"time:", "1 9AM-11AM"}},
					{in: "2", want: []string{"Book this appointment?", "Ram Kumar, Sita Devi", "Free", "11AM-1PM", "1 Book", "2 Back"}},
					{in: "1", want: []string{"Booked!", "Ram: ID ", "Sita: ID ", "code "}, end: true},
				}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				a := account(t, tg, c.msisdn)
				if len(a.Beneficiaries) != 2 || len(a.Appointments) != 2 {
					t.Fatalf("account has %d people, %d appointments; want 2, 2", len(a.Beneficiaries), len(a.Appointments))
				}
				if a.Appointments[0].SessionID != a.Appointments[1].SessionID {
					t.Errorf("booked in one go but in two sessions")
				}
				if got := seatsOf(t, tg, a.Appointments[0].SessionID); got != 8 {
					t.Errorf("free seats after booking two of 10 = %d", got)
				}
				slips := 0
				for _, m := range tg.sms(c.msisdn) {
					if strings.Contains(m, "slip") {
						slips++
						for _, ap := range a.Appointments {
							if strings.Contains(m, ap.ID) && !strings.Contains(m, ap.Code) {
								t.Errorf("slip for %s lacks its security code: %s", ap.ID, m)
							}
						}
						if !strings.Contains(m, "photo ID") {
							t.Errorf("slip does not ask for the photo ID: %s", m)
						}
					}
				}
				if slips != 2 {
					t.Errorf("%d slips sent, want 2", slips)
				}
			},
		},
		{
			name: "book at a Paid centre shows the fee", files: []string{"03-uttar-pradesh-201301.json"},
			seats: everySeat(5), msisdn: "9800000002",
			steps: script(login(),
				addPerson("4", "ABC1234567", "Anil Sharma", "1990", "1", 1),
				[]step{
					{in: "2", want: []string{"1 Anil Sharma", "0 Back"}, not: []string{"All"}},
					{in: "1", want: []string{"PIN code"}},
					{in: "201301", want: []string{"Centres at 201301:"}},
					{in: "{choose:Paid Rs}", want: []string{"Choose a date:", "18+"}},
					{in: "1", want: []string{"time:"}},
					{in: "1", want: []string{"Book this appointment?", "Paid Rs"}},
					{in: "1", want: []string{"Booked!", "Anil: ID"}, end: true},
				}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				a := account(t, tg, c.msisdn)
				if len(a.Appointments) != 1 {
					t.Fatalf("%d appointments, want 1", len(a.Appointments))
				}
				for _, ce := range tg.centres {
					if ce.ID == a.Appointments[0].CentreID && ce.FeeType != dialog.Paid {
						t.Errorf("booked centre %s is %s", ce.Name, ce.FeeType)
					}
				}
			},
		},
		{
			name: "three wrong codes void the OTP; a new code after the cool-down works", files: []string{"10-maharashtra-400001.json"},
			msisdn: "09800000003",
			steps: []step{
				{in: "{dial}"}, {in: "1"}, {in: "1", want: []string{"6-digit code"}},
				{in: "000000", want: []string{"Wrong code. 2 tries left.", "0 Send a new code"}},
				{in: "12345", want: []string{"Enter the 6 digits"}},
				{in: "000000", want: []string{"Wrong code. 1 tries left."}},
				{in: "000000", want: []string{"Too many wrong codes", "1 Register with"}},
				{in: "1", want: []string{"New code possible in", "1 Register with"}, before: func(t *testing.T, tg *testGateway, c *caller) {}},
				{in: "{otp}", want: []string{"choose a number", "1 Register with"}, not: []string{"0 Exit"}},
				{in: "1", want: []string{"6-digit code"}, not: []string{"already sent"},
					before: func(t *testing.T, tg *testGateway, c *caller) { tg.clock.Advance(31 * time.Second) }},
				{in: "{otp}", want: []string{"No one registered yet"}},
			},
		},
		{
			name: "an Aadhaar with a bad check digit is refused and re-asked; entries kept", files: []string{"10-maharashtra-400001.json"},
			msisdn: "9800000004",
			steps: script(login(), []step{
				{in: "1"},
				{in: "1", want: []string{"Aadhaar number", "12 digits"}},
				{in: ramAadhaar[:11] + string('0'+(ramAadhaar[11]-'0'+1)%10), want: []string{"not a valid Aadhaar number", "Enter Aadhaar number"}},
				{in: "123412341234", want: []string{"not a valid Aadhaar"}},
				{in: "२३४१ २३४१ २३४" + string(rune('०'+rune(ramAadhaar[11]-'0'))), want: []string{"Name as on the ID"}},
				{in: "R", want: []string{"2 to 60 letters", "Name as on the ID"}},
				{in: "राम कुमार", want: []string{"Year of birth"}},
				{in: "2010", want: []string{"Enter a year from 1901 to 2003"}},
				{in: "0", want: []string{"Name as on the ID"}},
				{in: "राम कुमार", want: []string{"Year of birth"}},
				{in: "1970", want: []string{"Gender"}},
				// A Devanagari name makes the screen UCS-2 (80 units): the
				// summary pages rather than losing a line.
				{in: "1", want: []string{"Register this person?", "राम कुमार, 1970", "98 More"}},
				{in: "98", want: []string{"XXXX XXXX " + ramAadhaar[8:], "1 Confirm", "2 Start again"}},
				{in: "1", want: []string{"राम कुमार registered (1/4)"}},
			}),
		},
		{
			name: "a person too young for every session at the PIN is told so", files: []string{"01-west-bengal-743337.json"},
			seats: everySeat(10), msisdn: "9800000005",
			steps: script(login(),
				addPerson("5", "J8369854", "Mita Das", "1995", "2", 1),
				[]step{
					{in: "2"}, {in: "1", want: []string{"PIN code"}},
					{in: "743337", want: []string{"No free seats for them at PIN 743337", "PIN code"}},
					{in: "999999", want: []string{"No centres at PIN 999999"}},
					{in: "12345", want: []string{"Enter a 6-digit PIN code"}},
					{in: "0", want: []string{"Book for:"}},
				}),
		},
		{
			name: "a session that fills while the caller chooses sends them back to the dates", files: []string{"01-west-bengal-743337.json"},
			seats: everySeat(1), msisdn: "9800000006",
			steps: script(login(),
				addPerson("1", ramAadhaar, "Ram Kumar", "1960", "1", 1),
				[]step{
					{in: "2"}, {in: "1"}, {in: "743337"},
					{in: "1", want: []string{"Choose a date:", "1 ", "2 "}},
					{in: "1"}, {in: "1", want: []string{"Book this appointment?"}},
					{in: "1", want: []string{"just filled up", "Choose a date:"}, not: []string{"Booked"},
						before: func(t *testing.T, tg *testGateway, c *caller) { takeLastSeat(t, tg, c) }},
					{in: "1"}, {in: "1"},
					{in: "1", want: []string{"Booked!"}, end: true},
				}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				if a := account(t, tg, c.msisdn); len(a.Appointments) != 1 {
					t.Fatalf("%d appointments, want 1", len(a.Appointments))
				}
			},
		},
		{
			name: "98 More and 0 Back through a long centre list", files: []string{"12-delhi-110085.json"},
			seats: everySeat(3), msisdn: "9800000007",
			steps: script(login(),
				addPerson("1", ramAadhaar, "Ram Kumar", "1960", "1", 1),
				[]step{
					{in: "2"}, {in: "1"},
					{in: "110085", want: []string{"\n1 ", "98 More", "0 Back"}, not: []string{"\n15 "},
						after: walkPages},
					{in: "110085", want: []string{"Centres at 110085:", "\n1 "}},
					{in: "15", want: []string{"Choose a date:"}},
					{in: "0", want: []string{"Centres at 110085:"}},
				}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				// Every one of the 15 centres shows on some page, none cut.
				c.send("0")
				c.send("110085")
				seen := map[string]bool{}
				for range 20 {
					for _, line := range strings.Split(c.last, "\n") {
						if m := optionLine.FindStringSubmatch(line); m != nil && m[1] != "98" && m[1] != "0" {
							seen[m[1]] = true
							if strings.Contains(m[2], "...") {
								t.Errorf("option cut: %q", line)
							}
						}
					}
					if !strings.Contains(c.last, "98 More") {
						break
					}
					c.send("98")
				}
				if len(seen) != 15 {
					t.Fatalf("saw %d options across the pages, want 15: %v", len(seen), seen)
				}
			},
		},
		{
			name: "a dropped session resumes where it left off, or starts again", files: []string{"10-maharashtra-400001.json"},
			msisdn: "9800000008",
			steps: script(login(), []step{
				{in: "1"}, {in: "2", want: []string{"PAN card number"}},
				{in: "{dial}", want: []string{"Welcome back", "1 Continue where you left off", "2 Start again"}},
				{in: "1", want: []string{"PAN card number"}},
				{in: "ABCPE1234F", want: []string{"Name as on the ID"}},
				{in: "{dial}", want: []string{"1 Continue"}},
				{in: "2", want: []string{"1 Register with"}},
			}),
		},
		{
			name: "the same request delivered twice gets the same reply and advances nothing", files: []string{"10-maharashtra-400001.json"},
			msisdn: "9800000009",
			steps: script(login(), []step{
				{in: "{again}", want: []string{"No one registered yet"}},
				{in: "1", want: []string{"Photo ID"}},
				{in: "{again}", want: []string{"Photo ID"}},
				{in: "1", want: []string{"Aadhaar number"}},
				{in: "{again}"},
			}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				codes := 0
				for _, m := range tg.sms(c.msisdn) {
					if strings.Contains(m, "code:") {
						codes++
					}
				}
				if codes != 1 {
					t.Errorf("%d OTPs sent, want 1", codes)
				}
			},
		},
		{
			name: "reschedule frees the old seat; cancel frees the new one", files: []string{"01-west-bengal-743337.json"},
			seats: everySeat(4), msisdn: "9800000010",
			steps: script(login(),
				addPerson("1", ramAadhaar, "Ram Kumar", "1960", "1", 1),
				[]step{
					{in: "2"}, {in: "1"}, {in: "743337"}, {in: "1"}, {in: "1"}, {in: "1"},
					{in: "1", want: []string{"Booked!"}, end: true},
				},
				relogin(1),
				[]step{
					{in: "3", want: []string{"Appointments:", "Ram: ", "ID "}},
					{in: "5", want: []string{"Press 0 to go back"}},
					{in: "0", want: []string{"Ram: booked", "4 Cancel"}},
					{in: "2", want: []string{"1 Ram Kumar ("}},
					{in: "1"}, {in: "743337"}, {in: "1"},
					{in: "2", want: []string{"time:"}},
					{in: "1", want: []string{"Replaces Ram's"}},
					{in: "1", want: []string{"Booked!"}, end: true},
				},
				relogin(1),
				[]step{
					{in: "4", want: []string{"Cancel the appointment of:", "1 Ram Kumar"}},
					{in: "1", want: []string{"Cancel this appointment?", "1 Yes", "2 No"}},
					{in: "1", want: []string{"Appointment cancelled", "2 Book"}, not: []string{"4 Cancel"}},
					{in: "4", want: []string{"No appointments to cancel"}},
				}),
			check: func(t *testing.T, tg *testGateway, c *caller) {
				if a := account(t, tg, c.msisdn); len(a.Appointments) != 0 {
					t.Fatalf("%d appointments after cancel", len(a.Appointments))
				}
				for _, ce := range tg.centres {
					for _, s := range ce.Sessions {
						if got := seatsOf(t, tg, s.ID); got != 4 {
							t.Errorf("session %s has %d free seats after reschedule and cancel, want 4", s.ID, got)
						}
					}
				}
			},
		},
		{
			name: "a 5th person is refused; a registered ID number is refused", files: []string{"10-maharashtra-400001.json"},
			msisdn: "9800000011",
			steps: script(login(),
				addPerson("1", ramAadhaar, "Ram Kumar", "1960", "1", 1),
				[]step{
					{in: "1"}, {in: "1"}, {in: ramAadhaar}, {in: "Ram Again"}, {in: "1961"}, {in: "1"},
					{in: "1", want: []string{"already registered", "Aadhaar number"}},
					{in: aadhaar("34512345123"), want: []string{"Register this person?", "Ram Again"}},
					{in: "1", want: []string{"2/4"}},
				},
				addPerson("2", "ABCPE1234F", "Sita Devi", "1965", "2", 3),
				addPerson("3", "WB0220110012345", "Gita Roy", "1970", "2", 4),
				[]step{
					{in: "1", want: []string{"4 people already registered", "2 Book"}, not: []string{"1 Add person"}},
				}),
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tg := newTestGateway(t, sc.seats, sc.files...)
			c := tg.caller(sc.msisdn)
			for i, s := range sc.steps {
				t.Logf("step %d: %q", i, s.in)
				s.run(t, tg, c)
			}
			if sc.check != nil {
				sc.check(t, tg, c)
			}
		})
	}
}

// walkPages pages forward through a list to its last page, then back with
// 0 to the first, and once more 0 to the screen before the list.
func walkPages(t *testing.T, tg *testGateway, c *caller) {
	first := c.last
	pages := []string{first}
	for strings.Contains(c.last, "98 More") {
		if len(pages) > 20 {
			t.Fatal("more than 20 pages")
		}
		pages = append(pages, c.send("98"))
	}
	if len(pages) < 2 {
		t.Fatalf("a 15-centre list fit one page:\n%s", first)
	}
	if again := c.send("98"); again != first {
		t.Errorf("98 on the last page did not wrap to the first:\n%s", again)
	}
	for range len(pages) - 1 { // forward to the last page again
		c.send("98")
	}
	for i := len(pages) - 1; i > 0; i-- {
		if got := c.send("0"); got != pages[i-1] {
			t.Fatalf("0 on page %d did not show page %d:\n%s", i+1, i, got)
		}
	}
	if got := c.send("0"); !strings.Contains(got, "PIN code") {
		t.Fatalf("0 on the first page did not go back to the PIN screen:\n%s", got)
	}
}

// takeLastSeat books the caller's chosen session full through another account.
func takeLastSeat(t *testing.T, tg *testGateway, c *caller) {
	t.Helper()
	ctx := context.Background()
	other := "+919811111111"
	b, err := tg.store.AddBeneficiary(ctx, other, dialog.NewBeneficiary{Name: "Other Person", BirthYear: 1950,
		Gender: dialog.Female, IDType: dialog.IDPassport, IDNumber: "K1234567"})
	if err != nil {
		t.Fatal(err)
	}
	// The confirmation screen names the date; find the session by the
	// caller's stored choice instead of parsing it.
	n, _ := dialog.NormaliseMsisdn(c.msisdn)
	ld, err := tg.store.Load(ctx, n, "")
	if err != nil || ld.Conversation == nil {
		t.Fatalf("no conversation: %v", err)
	}
	sid := ld.Conversation.Booking.SessionID
	if _, err := tg.store.Book(ctx, dialog.BookRequest{Msisdn: other, Beneficiary: b.Ref, SessionID: sid,
		Slot: "10:00AM-12:00PM", Dose: 1}); err != nil {
		t.Fatal(err)
	}
	if got := seatsOf(t, tg, sid); got != 0 {
		t.Fatalf("session still has %d seats", got)
	}
}

// TestSMSQueueShown: an SMS a dead gateway left in the queue shows in
// /admin/v1/stats and in the metrics, with its age.
func TestSMSQueueShown(t *testing.T) {
	tg := newTestGateway(t, nil, "01-west-bengal-743337.json")
	ctx := context.Background()
	c := &dialog.Conversation{Msisdn: "+919830000009", State: "home"}
	if err := tg.store.Save(ctx, c, time.Minute, "", dialog.Reply{}, dialog.SMS{To: c.Msisdn, Text: "slip", Ref: "slip-left"}); err != nil {
		t.Fatal(err)
	}
	tg.clock.Advance(90 * time.Second)
	req := httptest.NewRequest(http.MethodGet, "/admin/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, req)
	var s dialog.Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.SMSQueued != 1 || s.SMSOldest != 90 {
		t.Fatalf("stats %s (%v): want sms_queued 1, sms_oldest_seconds 90", rec.Body, err)
	}
	tg.g.queueGauges(ctx)
	rec = httptest.NewRecorder()
	tg.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{"tikasetu_sms_queue_depth 1\n", "tikasetu_sms_queue_oldest_seconds 90\n"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
}

func TestAdminRoutes(t *testing.T) {
	tg := newTestGateway(t, everySeat(7), "01-west-bengal-743337.json")
	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		tg.h.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name, token string
		code        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "nope", http.StatusUnauthorized},
		{"right token", "admin-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get("/admin/v1/stats", tt.token)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.code != http.StatusOK {
				return
			}
			var s dialog.Stats
			if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			if s.Centres != 3 || s.Sessions != 5 || s.SeatsFree != 5*2*7 {
				t.Fatalf("stats = %+v, want 3 centres, 5 sessions, 70 seats", s)
			}
		})
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if rec := get(path, ""); rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}

// BenchmarkUSSDJourney runs one citizen's whole journey through the real
// router and engine on a real redis-server, without a network: language,
// number, OTP, add one person, book. One op is one journey of 18 requests.
func BenchmarkUSSDJourney(b *testing.B) {
	tg := newTestGateway(b, everySeat(1_000_000), "12-delhi-110085.json")
	b.ReportAllocs()
	meter := newWorkMeter(b, tg.redisURL)
	before := meter.read(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		journey(b, tg.caller("+9170"+strconv.Itoa(10_000_000+i)), i, tg.otp)
	}
	tg.g.engine.Drain() // the journeys' SMS, sent and settled
	meter.read(b).since(before).report(b)
}

// BenchmarkUSSDJourneyParallel runs the journeys of BenchmarkUSSDJourney 32
// at a time, as the closed loop of docs/performance.md does: a turn's
// Redis calls then share pipelines with other turns' (Config.Batch). Its
// CPU per journey is the figure to compare between versions.
func BenchmarkUSSDJourneyParallel(b *testing.B) {
	tg := newTestGatewayWith(b, func(g *gateway) dialog.Sender {
		// As the closed loop runs the gateway: admission off, and an SMS
		// rate above what the journeys need.
		g.cfg.MaxInflight, g.cfg.SMSRate = 0, 100_000
		return g.outbox
	}, everySeat(1_000_000), "12-delhi-110085.json")
	b.ReportAllocs()
	b.SetParallelism(32 / max(1, runtime.GOMAXPROCS(0)))
	var next atomic.Int64
	meter := newWorkMeter(b, tg.redisURL)
	before := meter.read(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			journey(b, tg.caller("+9170"+strconv.Itoa(10_000_000+i)), i, tg.awaitOTP)
		}
	})
	b.StopTimer()
	tg.g.engine.Drain()
	meter.read(b).since(before).report(b)
}

// journey is one benchmark journey for caller c, the i-th; otp returns the
// code sent to a number.
func journey(b *testing.B, c *caller, i int, otp func(string) string) {
	c.dial()
	c.send("1")
	c.send("1")
	c.send(otp(c.msisdn))
	c.send("1")
	c.send("2")
	c.send(panFor(i))
	c.send("Ram Kumar")
	c.send("1960")
	c.send("1")
	c.send("1")
	c.send("2")
	c.send("1")
	c.send("110085")
	c.send("1")
	c.send("1")
	c.send("1")
	if got := c.send("1"); !strings.Contains(got, "Booked!") {
		b.Fatalf("journey %d ended with:\n%s", i, got)
	}
}

// work is what a benchmark costs beyond its time: CPU of this process (the
// gateway and the requests' driver) and of Redis, and Redis's reads (one
// per round trip, or per pipeline) and commands (scripts' own included).
type work struct {
	cpu, redisCPU   time.Duration
	reads, commands int64
}

// workMeter reads work through one connection of its own, so that between
// two readings Redis counts only the first reading's INFO beside the work.
type workMeter struct{ rdb *redis.Client }

func newWorkMeter(tb testing.TB, redisURL string) workMeter {
	tb.Helper()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		tb.Fatal(err)
	}
	opt.PoolSize = 1
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { rdb.Close() })
	return workMeter{rdb}
}

func (m workMeter) read(tb testing.TB) work {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	w := work{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	info, err := m.rdb.Info(context.Background(), "cpu", "stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "used_cpu_user", "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			w.redisCPU += time.Duration(f * float64(time.Second))
		case "total_reads_processed":
			w.reads, _ = strconv.ParseInt(v, 10, 64)
		case "total_commands_processed":
			w.commands, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return w
}

func (w work) since(before work) work {
	// the first reading's INFO is one read and one command
	return work{w.cpu - before.cpu, w.redisCPU - before.redisCPU, w.reads - before.reads - 1, w.commands - before.commands - 1}
}

func (w work) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(float64(w.cpu.Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(w.redisCPU.Microseconds())/n, "redis-cpu-µs/op")
	b.ReportMetric(float64(w.reads)/n, "redis-reads/op")
	b.ReportMetric(float64(w.commands)/n, "redis-cmds/op")
}

// BenchmarkUSSDBusy is one new caller turned away by a full gate: the
// request under a surge, four of five at five times capacity. The gate has
// no slot for a turn, so it turns every new caller away at once, as a full
// one does.
func BenchmarkUSSDBusy(b *testing.B) {
	tg := newTestGateway(b, everySeat(1), "12-delhi-110085.json")
	tg.g.gate = admission.New(tg.g.engine, 0, 1, tg.g.engine.Busy, prometheus.NewRegistry())
	tg.h = tg.g.router()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if got := tg.caller("+9170" + strconv.Itoa(10_000_000+i)).dial(); !strings.Contains(got, "very busy") {
			b.Fatalf("caller %d got:\n%s", i, got)
		}
	}
}

// panFor makes a distinct personal PAN number for journey i.
func panFor(i int) string {
	letters := func(n int) string {
		return string([]byte{byte('A' + n/676%26), byte('A' + n/26%26), byte('A' + n%26)})
	}
	return letters(i) + "P" + string(rune('A'+i/17576%26)) + strconv.Itoa(1000+i%9000) + "Z"
}

// texter sends SMS to the Twilio route as Twilio would, signed.
type texter struct {
	tg     *testGateway
	msisdn string
	n      int
}

// text sends one SMS and returns the TwiML reply's message; sid "" makes a
// new MessageSid.
func (x *texter) text(t *testing.T, body, sid string) string {
	t.Helper()
	if sid == "" {
		x.n++
		sid = fmt.Sprintf("SM%032d", x.n)
	}
	form := url.Values{"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {x.msisdn}, "To": {"+15005550006"}, "Body": {body}, "NumMedia": {"0"}}
	req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(testTwilioToken, testPublicURL+twilio.Path, form))
	rec := httptest.NewRecorder()
	x.tg.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("SMS %q: status %d: %s", body, rec.Code, rec.Body)
	}
	var resp struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Messages) != 1 {
		t.Fatalf("SMS %q: reply is not TwiML with one message (%v):\n%s", body, err, rec.Body)
	}
	m := resp.Messages[0]
	if n := dialog.SMSSegments(m); n > 3 {
		t.Fatalf("SMS %q: reply needs %d segments, more than 3:\n%s", body, n, m)
	}
	return m
}

func TestSMSJourneyOverTwilio(t *testing.T) {
	tg := newTestGateway(t, everySeat(5), "01-west-bengal-743337.json")
	x := &texter{tg: tg, msisdn: "+919830000001"}
	steps := []struct {
		body string
		want []string
	}{
		{"hello", []string{"1 English"}}, // an unknown number's first SMS starts the journey
		{"1", []string{"1 Register with"}},
		{"1", []string{"6-digit code"}},
		{"{otp}", []string{"No one registered yet"}},
		{"1", []string{"1 Aadhaar"}},
		{"1", []string{"Aadhaar number"}},
		{aadhaar("56781234567"), []string{"Name as on the ID"}},
		{"Bina Paul", []string{"Year of birth"}},
		{"1955", []string{"Gender"}},
		{"2", []string{"Register this person?", "Bina Paul, 1955"}},
		{"1", []string{"Bina Paul registered"}},
		{"2", []string{"Book for:", "1 Bina Paul"}},
		{"1", []string{"PIN code"}},
		{"743337", []string{"Centres at 743337:"}},
		{"1", []string{"Choose a date:"}},
		{"1", []string{"time:"}},
		{"1", []string{"Book this appointment?", "Bina Paul"}},
		{"1", []string{"Booked!", "Bina: ID "}},
		{"help", []string{"REG starts again"}},
		{"STOP", []string{"stopped"}},
	}
	for _, s := range steps {
		body := s.body
		if body == "{otp}" {
			body = tg.otp(x.msisdn)
		}
		got := x.text(t, body, "")
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Fatalf("after SMS %q the reply lacks %q:\n%s", body, w, got)
			}
		}
	}
	if a := account(t, tg, x.msisdn); len(a.Appointments) != 1 {
		t.Fatalf("%d appointments, want 1", len(a.Appointments))
	}
}

func TestTwilioRetryAndBadSignature(t *testing.T) {
	tg := newTestGateway(t, nil, "10-maharashtra-400001.json")
	x := &texter{tg: tg, msisdn: "+919830000002"}
	first := x.text(t, "REG", "SMretry0000000000000000000000001")
	x.text(t, "1", "SMretry0000000000000000000000002")
	// Twilio retries the second message: same reply, no second step.
	again := x.text(t, "1", "SMretry0000000000000000000000002")
	if !strings.Contains(again, "1 Register with") || strings.Contains(first, "Register with") {
		t.Fatalf("retry reply %q", again)
	}
	if got := x.text(t, "1", ""); !strings.Contains(got, "6-digit code") {
		t.Fatalf("the retried message advanced the conversation:\n%s", got)
	}

	tests := []struct {
		name   string
		mutate func(form url.Values, req *http.Request)
	}{
		{"missing signature", func(_ url.Values, r *http.Request) { r.Header.Del(twilio.SignatureHeader) }},
		{"signed for another URL", func(f url.Values, r *http.Request) {
			r.Header.Set(twilio.SignatureHeader, twilio.Sign(testTwilioToken, "https://evil.test"+twilio.Path, f))
		}},
		{"signed with another token", func(f url.Values, r *http.Request) {
			r.Header.Set(twilio.SignatureHeader, twilio.Sign("not-the-token", testPublicURL+twilio.Path, f))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"MessageSid": {"SMbad00000000000000000000000000001"}, "From": {"+919830000003"}, "To": {"+15005550006"}, "Body": {"REG"}}
			req := httptest.NewRequest(http.MethodPost, twilio.Path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(twilio.SignatureHeader, twilio.Sign(testTwilioToken, testPublicURL+twilio.Path, form))
			tt.mutate(form, req)
			rec := httptest.NewRecorder()
			tg.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", rec.Code)
			}
			n, _ := dialog.NormaliseMsisdn("+919830000003")
			if ld, err := tg.store.Load(context.Background(), n, ""); err != nil || ld.Conversation != nil {
				t.Fatalf("a refused request left a conversation: %+v %v", ld.Conversation, err)
			}
		})
	}
}

// A failed OTP delivery reported by Twilio shows on the OTP screen and
// lets the caller ask for a new code at once, without the cool-down.
func TestUndeliveredOTP(t *testing.T) {
	tg := newTestGateway(t, nil, "10-maharashtra-400001.json")
	c := tg.caller("9830000004")
	c.dial()
	c.send("1")
	c.send("1")
	tg.g.engine.Drain()
	var ref string
	for _, m := range tg.outbox.Messages(c.msisdn) {
		ref = m.Ref
	}
	if !strings.HasPrefix(ref, dialog.OTPRefPrefix) {
		t.Fatalf("OTP ref %q", ref)
	}
	status := url.Values{"MessageSid": {"SMstatus000000000000000000000001"}, "MessageStatus": {"undelivered"},
		"To": {"+919830000004"}, "ErrorCode": {"30003"}}
	path := twilio.StatusPath + "?ref=" + url.QueryEscape(ref)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(status.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(testTwilioToken, testPublicURL+path, status))
	rec := httptest.NewRecorder()
	tg.h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		t.Fatalf("status callback: %d %s", rec.Code, rec.Body)
	}
	if got := c.send("12"); !strings.Contains(got, "could not be delivered") {
		t.Fatalf("the OTP screen does not say the code failed:\n%s", got)
	}
	old := tg.otp(c.msisdn)
	if got := c.send("0"); !strings.Contains(got, "new code is on its way") {
		t.Fatalf("no new code within the cool-down after a failed delivery:\n%s", got)
	}
	if tg.otp(c.msisdn) == old {
		t.Fatal("the same code was resent")
	}
	if got := c.send(tg.otp(c.msisdn)); !strings.Contains(got, "registered") {
		t.Fatalf("the new code does not verify:\n%s", got)
	}
}

// exchange is one recorded request of a provider dialect and what its
// answer must be (testdata/conformance/*.json).
type exchange struct {
	Name    string `json:"name"`
	Request struct {
		Path      string            `json:"path"`
		Form      map[string]string `json:"form"`
		JSON      json.RawMessage   `json:"json"`
		Raw       string            `json:"raw"`
		Sign      bool              `json:"sign"`
		Signature string            `json:"signature"`
		Offset    int64             `json:"timestamp_offset_s"`
	} `json:"request"`
	Status      int      `json:"status"`
	ContentType string   `json:"content_type"`
	Body        []string `json:"body"` // regular expressions the body must match
}

// TestConformance replays every dialect's recorded exchanges through the
// real router, in order, so that a change that breaks a dialect fails here.
func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/conformance/*.json")
	if err != nil || len(files) != 3 {
		t.Fatalf("conformance files: %v %v", files, err)
	}
	for _, f := range files {
		var rec struct {
			Dialect   string     `json:"dialect"`
			Exchanges []exchange `json:"exchanges"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(rec.Dialect, func(t *testing.T) {
			tg := newTestGateway(t, everySeat(5), "10-maharashtra-400001.json")
			session := "conf-" + rec.Dialect
			for i, ex := range rec.Exchanges {
				req := ex.build(t, tg, session)
				rr := httptest.NewRecorder()
				tg.h.ServeHTTP(rr, req)
				body := rr.Body.String()
				if rr.Code != ex.Status {
					t.Fatalf("%d %q: status %d, want %d: %s", i, ex.Name, rr.Code, ex.Status, body)
				}
				if ex.ContentType != "" && !strings.HasPrefix(rr.Header().Get("Content-Type"), ex.ContentType) {
					t.Fatalf("%d %q: content type %q, want %s", i, ex.Name, rr.Header().Get("Content-Type"), ex.ContentType)
				}
				for _, pat := range ex.Body {
					if !regexp.MustCompile(pat).MatchString(body) {
						t.Fatalf("%d %q: body does not match %q:\n%s", i, ex.Name, pat, body)
					}
				}
			}
		})
	}
}

// build makes the recorded request, filling {session} and {otp} and
// signing it as the dialect requires.
func (ex exchange) build(t *testing.T, tg *testGateway, session string) *http.Request {
	t.Helper()
	fill := func(s string) string {
		s = strings.ReplaceAll(s, "{session}", session)
		if strings.Contains(s, "{otp}") {
			n, _ := dialog.NormaliseMsisdn(ex.Request.Form["phoneNumber"])
			s = strings.ReplaceAll(s, "{otp}", tg.otp(n))
		}
		return s
	}
	r := ex.Request
	switch {
	case r.Form != nil:
		form := url.Values{}
		for k, v := range r.Form {
			form.Set(k, fill(v))
		}
		req := httptest.NewRequest(http.MethodPost, r.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r.Sign {
			req.Header.Set(twilio.SignatureHeader, twilio.Sign(testTwilioToken, testPublicURL+r.Path, form))
		} else if r.Signature != "" {
			req.Header.Set(twilio.SignatureHeader, r.Signature)
		}
		return req
	default:
		body := []byte(fill(string(r.JSON)))
		if r.Raw != "" {
			body = []byte(r.Raw)
		}
		req := httptest.NewRequest(http.MethodPost, r.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		ts := strconv.FormatInt(time.Now().Unix()+r.Offset, 10)
		req.Header.Set(partner.TimestampHeader, ts)
		if r.Sign {
			req.Header.Set(partner.SignatureHeader, partner.Sign([]byte(testPartnerSecret), ts, body))
		} else if r.Signature != "" {
			req.Header.Set(partner.SignatureHeader, r.Signature)
		}
		return req
	}
}

// syncBuffer is a bytes.Buffer safe to write from one goroutine and read
// from another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `tikasetu serve` on a free loopback port until the test
// ends and returns its base URL and its log.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "text"}, args...), nil, &out, &errs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d: %s", code, errs.String())
		}
	})
	listening := regexp.MustCompile(`listening on (http://[^/\s]+)`)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1], &errs
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d: %s", code, errs.String())
		default:
		}
	}
	t.Fatalf("serve did not say where it listens: %s", errs.String())
	return "", nil
}

// TestAfricasTalkingRouteAccess starts the gateway and calls the Africa's
// Talking route from loopback: in production it is mounted only with an
// allow list or credentials, and refuses whoever they do not admit; in the
// embedded demo it is open to loopback.
func TestAfricasTalkingRouteAccess(t *testing.T) {
	for _, v := range []string{"REDIS_URL", "TIKASETU_SECRET", "TIKASETU_SMS_SENDER", "TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID",
		"TWILIO_FROM", "TIKASETU_PUBLIC_URL", "TIKASETU_PARTNERS_FILE", "TIKASETU_ADMIN_TOKEN",
		"TIKASETU_AT_ALLOW", "TIKASETU_TRUSTED_PROXIES", "TIKASETU_AT_BASIC_AUTH"} {
		t.Setenv(v, "")
	}
	redisURL := redistest.Start(t)
	production := []string{"--redis-url", redisURL, "--secret", strings.Repeat("s", 32), "--sms-sender", "outbox"}
	tests := []struct {
		name      string
		args      []string
		userinfo  *url.Userinfo
		code      int
		wantLog   []string
		answersOK bool
	}{
		{name: "production without settings: not mounted, and the log says why", args: production, code: http.StatusNotFound,
			wantLog: []string{"not mounted", "does not sign", "TIKASETU_AT_ALLOW", "TIKASETU_AT_BASIC_AUTH"}},
		{name: "production, loopback allowed", args: append(slices.Clone(production), "--at-allow", "127.0.0.1/32"), code: http.StatusOK},
		{name: "production, another network allowed", args: append(slices.Clone(production), "--at-allow", "192.0.2.0/24, 2001:db8::/32"),
			code: http.StatusForbidden, wantLog: []string{"client address not allowed"}},
		{name: "production, credentials missing", args: append(slices.Clone(production), "--at-basic-auth", "africastalking:pa55word"),
			code: http.StatusUnauthorized},
		{name: "production, credentials in the URL", args: append(slices.Clone(production), "--at-basic-auth", "africastalking:pa55word"),
			userinfo: url.UserPassword("africastalking", "pa55word"), code: http.StatusOK},
		{name: "embedded demo without settings: open to loopback", code: http.StatusOK, wantLog: []string{"loopback clients only"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, logs := startServe(t, tt.args...)
			u, err := url.Parse(base + "/ussd/africastalking")
			if err != nil {
				t.Fatal(err)
			}
			u.User = tt.userinfo
			form := url.Values{"sessionId": {fmt.Sprintf("ATUid_access_%d", i)}, "serviceCode": {"*123*45#"},
				"phoneNumber": {fmt.Sprintf("+91980000%04d", 9000+i)}, "networkCode": {"40401"}, "text": {""}}
			resp, err := http.PostForm(u.String(), form)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.code, body)
			}
			if tt.code == http.StatusOK && !strings.HasPrefix(string(body), "CON ") {
				t.Errorf("body %q, want a CON screen", body)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
			if strings.Contains(logs.String(), "pa55word") {
				t.Errorf("log holds the password:\n%s", logs.String())
			}
		})
	}
}

// In the embedded demo without settings the route answers loopback clients
// only: the gateway listens on every interface by default.
func TestAfricasTalkingRouteLoopbackOnlyInTheDemo(t *testing.T) {
	tg := newTestGateway(t, nil, "10-maharashtra-400001.json")
	tg.g.cfg.ATAllow = ""
	h := tg.g.router()
	tests := []struct {
		peer string
		code int
	}{
		{"127.0.0.1:40000", http.StatusOK},
		{"[::1]:40000", http.StatusOK},
		{"192.0.2.1:1234", http.StatusForbidden},
		{"[2001:db8::1]:1234", http.StatusForbidden},
	}
	for i, tt := range tests {
		t.Run(tt.peer, func(t *testing.T) {
			msisdn := fmt.Sprintf("+91980000%04d", 9100+i)
			form := url.Values{"sessionId": {fmt.Sprintf("ATUid_loop_%d", i)}, "phoneNumber": {msisdn}, "text": {""}}
			req := httptest.NewRequest(http.MethodPost, "/ussd/africastalking", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = tt.peer
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			ld, err := tg.store.Load(context.Background(), msisdn, "")
			if err != nil {
				t.Fatal(err)
			}
			if started := ld.Conversation != nil; started != (tt.code == http.StatusOK) {
				t.Errorf("conversation started: %v, with status %d", started, rec.Code)
			}
		})
	}
}

// TestReadyzWithAHungRedis stops a real redis-server (SIGSTOP) and asks
// /readyz: it answers 503 while Redis hangs, before Redis runs again, and
// 200 once it does.
func TestReadyzWithAHungRedis(t *testing.T) {
	redisURL := redistest.Start(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: redisURL, Secret: []byte("test secret test secret test secret")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pid := redisPID(t, redisURL)
	g := &gateway{store: st}
	r := gin.New()
	r.GET("/readyz", g.ready)
	ready := func() int {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("/readyz with Redis running: %d", code)
	}

	// Redis hangs for three times the readiness timeout.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var resumed atomic.Bool
	resume := func() {
		if resumed.CompareAndSwap(false, true) {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer resume()
	timer := time.AfterFunc(3*readyTimeout, resume)
	defer timer.Stop()
	start := time.Now()
	code := ready()
	took := time.Since(start)
	if resumed.Load() {
		t.Fatalf("/readyz answered %d after %v, only once Redis ran again", code, took)
	}
	if code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Redis hung: %d after %v, want 503", code, took)
	}
	t.Logf("503 after %v with Redis hung", took)

	timer.Stop()
	resume()
	for deadline := time.Now().Add(10 * time.Second); ready() != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 10 s of Redis running again")
		}
	}
}

// redisPID asks the server at url for its process id.
func redisPID(t *testing.T, url string) int {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	defer rdb.Close()
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if pid, err := strconv.Atoi(v); err == nil && pid > 0 {
				return pid
			}
		}
	}
	t.Fatalf("no process_id in INFO server:\n%s", info)
	return 0
}

// TIKASETU_MAX_JOURNEYS: with a ceiling of two journeys, a third new
// caller gets the busy screen while the two already in go on.
func TestMaxJourneys(t *testing.T) {
	tg := newTestGateway(t, everySeat(10), "01-west-bengal-743337.json")
	tg.g.cfg.MaxJourneys = 2
	tg.g.gate, tg.g.metrics = nil, newMetrics() // the router again, with the ceiling
	tg.h = tg.g.router()
	a, b, c := tg.caller("+919830000001"), tg.caller("+919830000002"), tg.caller("+919830000003")
	for _, p := range []*caller{a, b} {
		if screen := p.dial(); p.ended || !strings.Contains(screen, "1 English") {
			t.Fatalf("one of the first two callers: %q", screen)
		}
	}
	if screen := c.dial(); !c.ended || !strings.Contains(screen, "busy") {
		t.Fatalf("the third caller: %q, want the busy screen", screen)
	}
	if screen := a.send("1"); a.ended || !strings.Contains(screen, "XXXXXX0001") {
		t.Fatalf("a caller mid-journey: %q", screen)
	}
}
