package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/outbox"
	"github.com/tikasetu/tikasetu/providers/partner"
	"github.com/tikasetu/tikasetu/providers/smpp/smpptest"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// testClock is a settable clock shared by the store, the engine and the outbox.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mayDay is the tests' "now": before every date in the shared Co-WIN files.
var mayDay = time.Date(2021, 5, 1, 10, 0, 0, 0, dialog.IST)

// The Twilio account the test gateway verifies webhooks for.
const (
	testTwilioToken = "twilio-test-auth-token"
	testPublicURL   = "https://sms.tikasetu.test"

	testPartnerID     = "conformance"
	testPartnerSecret = "conformance-partner-secret-0123456789"
)

// testGateway is the whole gateway on a real redis-server, with a fixed
// clock and the outbox as SMS sender.
type testGateway struct {
	t     testing.TB
	g     *gateway
	h     http.Handler
	clock *testClock
	store *store.Store
	// redisURL is the test's redis-server, for checks the store's API
	// does not offer (a key's expiry).
	redisURL string
	outbox   *outbox.Outbox
	smsc     *smpptest.Server // where SMS go instead of the outbox, when set
	centres  []dialog.Centre
}

// newTestGateway loads the named shared Co-WIN files, lets seats adjust
// capacities (the 2021 files show most sessions full), and starts a gateway.
func newTestGateway(t testing.TB, seats func(c *dialog.Centre, s *dialog.Session), files ...string) *testGateway {
	t.Helper()
	return newTestGatewayWith(t, nil, seats, files...)
}

// newTestGatewayWith is newTestGateway with the SMS sender sender builds
// (nil: the in-process outbox).
func newTestGatewayWith(t testing.TB, sender func(*gateway) dialog.Sender, seats func(c *dialog.Centre, s *dialog.Session), files ...string) *testGateway {
	t.Helper()
	clock := &testClock{t: mayDay}
	var centres []dialog.Centre
	for _, f := range files {
		cs, err := cowin.ParseFile(cowintest.File(t, f))
		if err != nil {
			t.Fatal(err)
		}
		centres = append(centres, cs...)
	}
	for i := range centres {
		for j := range centres[i].Sessions {
			if seats != nil {
				seats(&centres[i], &centres[i].Sessions[j])
			}
		}
	}
	ctx := context.Background()
	redisURL := redistest.Start(t)
	st, err := store.Open(ctx, store.Config{URL: redisURL, Secret: []byte("test secret test secret test secret"), Clock: clock, Batch: true}) // batched, as serve by default
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.ImportCentres(ctx, centres); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config{MaxPeople: 4, USSDLimit: 182, USSDUCS2: 80, AdminToken: "admin-token",
		TwilioToken: testTwilioToken, PublicURL: testPublicURL, MaxInflight: 64, TargetInflight: 32,
		ATAllow: "192.0.2.1"} // the client address of httptest.NewRequest: the tests' aggregator
	g := &gateway{cfg: cfg, store: st, metrics: newMetrics(), log: log, clock: clock,
		outbox: outbox.New(outbox.Options{Logger: log, Now: clock.Now})}
	g.partners = &partner.Config{Partners: []partner.Partner{{ID: testPartnerID, Secret: partner.Secret(testPartnerSecret),
		Unicode: true, Rate: 1000, Burst: 1000}}}
	var s dialog.Sender = g.outbox
	if sender != nil {
		s = sender(g)
	}
	if err := g.start(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.dispatch.Close)
	t.Cleanup(g.engine.Drain)
	return &testGateway{t: t, g: g, h: g.router(), clock: clock, store: st, redisURL: redisURL, outbox: g.outbox, centres: centres}
}

// everySeat gives every session the same capacity per dose.
func everySeat(n int) func(*dialog.Centre, *dialog.Session) {
	return func(_ *dialog.Centre, s *dialog.Session) { s.Capacity = [2]int{n, n} }
}

// caller is a phone dialling the USSD route.
type caller struct {
	tg      *testGateway
	msisdn  string
	session string
	inputs  []string
	n       int
	last    string // last screen
	lastReq string // last request text, for duplicate deliveries
	ended   bool
}

func (tg *testGateway) caller(msisdn string) *caller { return &caller{tg: tg, msisdn: msisdn} }

// dial starts a new USSD session.
func (c *caller) dial() string {
	c.n++
	c.session = "ATUid_" + strings.TrimPrefix(c.msisdn, "+") + "_" + string(rune('a'+c.n))
	c.inputs = nil
	return c.post("")
}

// send enters one input in the current session.
func (c *caller) send(in string) string {
	c.inputs = append(c.inputs, in)
	return c.post(strings.Join(c.inputs, "*"))
}

// post makes one request as Africa's Talking would, and checks the contract:
// 200, text/plain, CON or END, and a screen within its budget.
func (c *caller) post(text string) string {
	t := c.tg.t
	t.Helper()
	form := url.Values{"sessionId": {c.session}, "serviceCode": {"*123*45#"}, "phoneNumber": {c.msisdn},
		"networkCode": {"40401"}, "text": {text}}
	req := httptest.NewRequest(http.MethodPost, "/ussd/africastalking", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	c.tg.h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("text %q: status %d, type %q, body %q", text, rec.Code, rec.Header().Get("Content-Type"), body)
	}
	switch {
	case strings.HasPrefix(body, "CON "):
		c.ended = false
	case strings.HasPrefix(body, "END "):
		c.ended = true
	default:
		t.Fatalf("text %q: not CON/END: %q", text, body)
	}
	screen := body[4:]
	if limit := dialog.USSDBudget.For(screen); dialog.Units(screen) > limit {
		t.Fatalf("text %q: screen of %d units over the %d limit:\n%s", text, dialog.Units(screen), limit, screen)
	}
	if strings.Contains(screen, "Service busy") {
		t.Fatalf("text %q: busy screen", text)
	}
	c.last, c.lastReq = screen, text
	return screen
}

var otpPattern = regexp.MustCompile(`\b(\d{6})\b`)

// otp returns the latest code sent to number.
func (tg *testGateway) otp(number string) string {
	tg.t.Helper()
	msgs := tg.sms(number)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := otpPattern.FindStringSubmatch(msgs[i]); m != nil && strings.Contains(msgs[i], "code") {
			return m[1]
		}
	}
	tg.t.Fatalf("no OTP sent to %s", dialog.MaskMsisdn(number))
	return ""
}

// awaitOTP returns the latest code sent to number, waiting for the outbox
// to send one. Unlike otp it does not drain the outbox, so callers running
// at once do not wait for each other's SMS.
func (tg *testGateway) awaitOTP(number string) string {
	tg.t.Helper()
	n, err := dialog.NormaliseMsisdn(number)
	if err != nil {
		tg.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		msgs := tg.outbox.Messages(n)
		for i := len(msgs) - 1; i >= 0; i-- {
			if m := otpPattern.FindStringSubmatch(msgs[i].Text); m != nil && strings.Contains(msgs[i].Text, "code") {
				return m[1]
			}
		}
	}
	tg.t.Fatalf("no OTP sent to %s", dialog.MaskMsisdn(number))
	return ""
}

// sms returns the texts sent to number.
func (tg *testGateway) sms(number string) []string {
	tg.t.Helper()
	tg.g.engine.Drain()
	n, err := dialog.NormaliseMsisdn(number)
	if err != nil {
		tg.t.Fatal(err)
	}
	var out []string
	if tg.smsc != nil {
		var mine []smpptest.Received
		for _, r := range tg.smsc.Received() {
			if "+"+r.SM.DestAddr.Address() == n && r.ID != "" {
				mine = append(mine, r)
			}
		}
		texts, err := smpptest.Texts(mine)
		if err != nil {
			tg.t.Fatal(err)
		}
		return texts
	}
	for _, m := range tg.outbox.Messages(n) {
		out = append(out, m.Text)
	}
	return out
}

// aadhaar makes a valid Aadhaar number from an 11-digit stem.
func aadhaar(stem string) string { return stem + string(dialog.VerhoeffDigit(stem)) }
