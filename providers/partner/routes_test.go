package partner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	testSecret  = "test-secret-0123456789abcdefghijklmnop"
	otherSecret = "other-secret-0123456789abcdefghijklmno"
)

// epoch is the fixed "now" of the route tests: 28 April 2021, 16:00 IST.
var epoch = time.Date(2021, 4, 28, 10, 30, 0, 0, time.UTC)

func testConfig() Config {
	return Config{Partners: []Partner{
		{ID: "acme", Secret: testSecret, Unicode: true, USSDScreen: 160, USSDScreenUCS2: 70, Rate: 1000, Burst: 1000},
		{ID: "other", Secret: otherSecret, Unicode: false, Rate: 1000, Burst: 1000},
	}}
}

// harness serves the partner routes over real HTTP on a clock that moves
// only when told.
type harness struct {
	*providertest.Rig
	t       *testing.T
	clock   *dialogtest.Clock
	pending *sync.WaitGroup
}

// mount mounts the routes of cfg with opt on clk, the logger and OnTurn
// taken from the rig's Setup and its deadline given to route ("ussd" or
// "sms"; "" leaves both deadlines to opt).
func mount(cfg Config, opt Options, clk *dialogtest.Clock, route string) providertest.Mount {
	opt.Now = clk.Now
	return func(r gin.IRoutes, s providertest.Setup) {
		opt.Logger, opt.OnTurn = s.Logger, s.OnTurn
		switch route {
		case "ussd":
			opt.USSDDeadline = s.Deadline
		case "sms":
			opt.SMSDeadline = s.Deadline
		}
		Register(r, s.Handler, cfg, opt)
	}
}

func newHarness(t *testing.T, h dialog.Handler, cfg Config, opt Options) *harness {
	t.Helper()
	hs := &harness{t: t, clock: dialogtest.NewClock(epoch), pending: &sync.WaitGroup{}}
	opt.Pending = hs.pending
	hs.Rig = providertest.NewRig(t, h, 0, mount(cfg, opt, hs.clock, ""))
	t.Cleanup(hs.pending.Wait)
	return hs
}

// signedAt builds a request of body to path signed with secret at now.
func signedAt(now time.Time, path, body, secret string) *http.Request {
	ts := strconv.FormatInt(now.Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign([]byte(secret), ts, []byte(body)))
	return req
}

// signed builds a request signed with secret at the harness's current time.
func (hs *harness) signed(path, body, secret string) *http.Request {
	return signedAt(hs.clock.Now(), path, body, secret)
}

func (hs *harness) do(req *http.Request) *httptest.ResponseRecorder {
	return hs.Do(hs.t, req)
}

// post sends body to path signed with the acme partner's secret.
func (hs *harness) post(path, body string) *httptest.ResponseRecorder {
	return hs.do(hs.signed(path, body, testSecret))
}

const (
	acmeUSSD = "/partners/acme/ussd"
	acmeSMS  = "/partners/acme/sms"
	ussdBody = `{"session_id":"s-1","msisdn":"+919876543210","service_code":"*123*45#","input":"1","new_session":false}`
	smsBody  = `{"message_id":"m-1","msisdn":"9876543210","text":"REG"}`
)

// jsonBody decodes a JSON response into a map.
func jsonBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	return m
}

// A timestamp exactly MaxSkew away, either way, is still accepted.
func TestSkewEdges(t *testing.T) {
	for _, d := range []time.Duration{-MaxSkew, MaxSkew, 0} {
		t.Run(d.String(), func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, testConfig(), Options{})
			hs.clock.Advance(d) // the request is signed at now+d …
			req := hs.signed(acmeUSSD, ussdBody, testSecret)
			hs.clock.Advance(-d) // … and arrives at now
			if rec := hs.do(req); rec.Code != 200 {
				t.Fatalf("status %d (body %s)", rec.Code, rec.Body)
			}
		})
	}
}

func TestUSSDTurn(t *testing.T) {
	tests := []struct {
		name string
		path string
		body string
		want dialog.Turn // Delivery is checked separately
	}{
		{
			name: "first request",
			path: acmeUSSD,
			body: `{"session_id":"ATUid_1","msisdn":"+919876543210","service_code":"*123*45#","input":"","new_session":true}`,
			want: dialog.Turn{Provider: "partner:acme", Session: "ATUid_1", NewSession: true, Msisdn: "+919876543210", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "first request without input",
			path: acmeUSSD,
			body: `{"session_id":"s","msisdn":"09876543210","new_session":true}`,
			want: dialog.Turn{Provider: "partner:acme", Session: "s", NewSession: true, Msisdn: "+919876543210", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "later input, bare number, unknown fields ignored",
			path: acmeUSSD,
			body: `{"session_id":"s","msisdn":"98765 43210","input":"2","new_session":false,"network":"40445","request_id":"r-9"}`,
			want: dialog.Turn{Provider: "partner:acme", Session: "s", Msisdn: "+919876543210", Input: "2", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "non-Latin input kept verbatim",
			path: acmeUSSD,
			body: `{"session_id":"s","msisdn":"919876543210","input":"राम कुमार","new_session":false}`,
			want: dialog.Turn{Provider: "partner:acme", Session: "s", Msisdn: "+919876543210", Input: "राम कुमार", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "default screen sizes, network without UCS-2",
			path: "/partners/other/ussd",
			body: `{"session_id":"s","msisdn":"9876543210","input":"1","new_session":false}`,
			want: dialog.Turn{Provider: "partner:other", Session: "s", Msisdn: "+919876543210", Input: "1", ScreenLimit: 182, UCS2Limit: 80, GSM7Only: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "1 English\n2 हिन्दी <&>"}}
			hs := newHarness(t, h, testConfig(), Options{})
			secret := testSecret
			if strings.Contains(tc.path, "/other/") {
				secret = otherSecret
			}
			req := hs.signed(tc.path, tc.body, secret)
			rec := hs.do(req)
			got := h.Only(t, rec)
			if want := deliveryKey(req.Header.Get(TimestampHeader), []byte(tc.body)); got.Delivery != want {
				t.Errorf("delivery %q, want %q", got.Delivery, want)
			}
			got.Delivery = ""
			tc.want.Channel = dialog.USSD
			tc.want.Vouched = true // the partner signed it
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("turn\n got %#v\nwant %#v", got, tc.want)
			}
			// The reply travels verbatim, not HTML-escaped.
			if want := `{"message":"1 English\n2 हिन्दी <&>","end_session":false}`; strings.TrimSpace(rec.Body.String()) != want {
				t.Errorf("body %s, want %s", rec.Body, want)
			}
		})
	}
}

// The delivery key is the same for an exact replay, and differs for a new
// timestamp or a new body.
func TestDelivery(t *testing.T) {
	other := strings.Replace(ussdBody, `"input":"1"`, `"input":"1","request_id":"2"`, 1)
	tests := []struct {
		name    string
		advance time.Duration
		body    string
		same    bool
	}{
		{"exact replay", 0, ussdBody, true},
		{"replay a minute later", time.Minute, ussdBody, true},
		{"new timestamp", time.Second, ussdBody, false},
		{"new body", 0, other, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, testConfig(), Options{})
			first := hs.signed(acmeUSSD, ussdBody, testSecret)
			if rec := hs.do(first); rec.Code != 200 {
				t.Fatalf("first: status %d body %s", rec.Code, rec.Body)
			}
			hs.clock.Advance(tc.advance)
			second := hs.signed(acmeUSSD, tc.body, testSecret)
			if tc.same {
				// The same bytes and headers, delivered again.
				second = first.Clone(context.Background())
				second.Body = io.NopCloser(strings.NewReader(ussdBody))
			}
			if rec := hs.do(second); rec.Code != 200 {
				t.Fatalf("second: status %d body %s", rec.Code, rec.Body)
			}
			calls := h.Calls()
			if len(calls) != 2 {
				t.Fatalf("%d calls", len(calls))
			}
			if same := calls[0].Delivery == calls[1].Delivery; same != tc.same {
				t.Errorf("deliveries %q and %q: same=%v, want %v", calls[0].Delivery, calls[1].Delivery, same, tc.same)
			}
		})
	}
}

func TestSMSTurn(t *testing.T) {
	tests := []struct {
		name string
		body string
		want dialog.Turn
	}{
		{"keyword", `{"message_id":"m-1","msisdn":"+919876543210","text":"REG"}`,
			dialog.Turn{Delivery: "sms:m-1", Msisdn: "+919876543210", Input: "REG"}},
		{"empty text", `{"message_id":"m-2","msisdn":"09876543210","text":""}`,
			dialog.Turn{Delivery: "sms:m-2", Msisdn: "+919876543210"}},
		{"Bengali text", `{"message_id":"m-3","msisdn":"9876543210","text":"রহিম আলি"}`,
			dialog.Turn{Delivery: "sms:m-3", Msisdn: "+919876543210", Input: "রহিম আলি"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "1 English\n2 हिन्दी"}}
			hs := newHarness(t, h, testConfig(), Options{})
			rec := hs.post(acmeSMS, tc.body)
			got := h.Only(t, rec)
			if m := jsonBody(t, rec); m["reply"] != "1 English\n2 हिन्दी" || len(m) != 1 {
				t.Errorf("response %v", m)
			}
			tc.want.Channel = dialog.SMSChannel
			tc.want.Provider = "partner:acme"
			tc.want.Vouched = true
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("turn\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64
		burst      int
		retryAfter string
		refill     time.Duration // after which one more request passes
	}{
		{"one per second", 1, 2, "1", time.Second},
		{"fast rate still says at least 1", 50, 3, "1", 20 * time.Millisecond},
		{"slow rate rounds up", 0.1, 2, "10", 10 * time.Second},
		{"fractional wait rounds up", 0.4, 1, "3", 2500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Partners[0].Rate, cfg.Partners[0].Burst = tc.rate, tc.burst
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, cfg, Options{})

			// Refused requests before the limiter take no token.
			for range 3 {
				req := hs.signed(acmeUSSD, ussdBody, otherSecret)
				if rec := hs.do(req); rec.Code != 401 {
					t.Fatalf("bad signature: status %d", rec.Code)
				}
			}
			for i := range tc.burst {
				if rec := hs.post(acmeUSSD, ussdBody); rec.Code != 200 {
					t.Fatalf("request %d of the burst: status %d", i+1, rec.Code)
				}
			}
			for _, path := range []string{acmeUSSD, acmeSMS} { // one bucket for both routes
				body := ussdBody
				if path == acmeSMS {
					body = smsBody
				}
				rec := hs.post(path, body)
				if rec.Code != http.StatusTooManyRequests {
					t.Fatalf("%s over the burst: status %d", path, rec.Code)
				}
				if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
					t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
				}
				if msg, _ := jsonBody(t, rec)["error"].(string); !strings.Contains(msg, "rate limit") {
					t.Errorf("error %q", msg)
				}
			}
			if n := len(h.Calls()); n != tc.burst {
				t.Errorf("handler called %d times, want %d", n, tc.burst)
			}
			// Other partners have their own bucket.
			if rec := hs.do(hs.signed("/partners/other/ussd", ussdBody, otherSecret)); rec.Code != 200 {
				t.Errorf("other partner: status %d", rec.Code)
			}
			hs.clock.Advance(tc.refill)
			if rec := hs.post(acmeUSSD, ussdBody); rec.Code != 200 {
				t.Errorf("after %v: status %d", tc.refill, rec.Code)
			}
		})
	}
}

// Options.Busy localises the busy screen, except where the partner's
// network cannot show it.
func TestBusyOption(t *testing.T) {
	const hindi = "अभी बहुत भीड़ है।"
	tests := []struct {
		name    string
		path    string
		secret  string
		body    string
		busy    string // what Options.Busy returns
		want    string
		channel dialog.Channel
	}{
		{"USSD in Hindi", acmeUSSD, testSecret, ussdBody, hindi, hindi, dialog.USSD},
		{"SMS in Hindi", acmeSMS, testSecret, smsBody, hindi, hindi, dialog.SMSChannel},
		{"Hindi on a GSM-7 network", "/partners/other/ussd", otherSecret, ussdBody, hindi, BusyText, dialog.USSD},
		{"English on a GSM-7 network", "/partners/other/sms", otherSecret, smsBody, "Very busy.", "Very busy.", dialog.SMSChannel},
		{"empty busy text", acmeUSSD, testSecret, ussdBody, "", BusyText, dialog.USSD},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			opt := Options{Busy: func(t dialog.Turn) dialog.Reply {
				asked = append(asked, fmt.Sprintf("%s %s gsm7=%v", t.Msisdn, t.Channel, t.GSM7Only))
				return dialog.Reply{Text: tc.busy, End: true}
			}}
			hs := newHarness(t, &providertest.Handler{Err: errors.New("store down")}, testConfig(), opt)
			m := jsonBody(t, hs.do(hs.signed(tc.path, tc.body, tc.secret)))
			got := m["message"]
			if tc.channel == dialog.SMSChannel {
				got = m["reply"]
			}
			if got != tc.want {
				t.Errorf("busy text %q, want %q", got, tc.want)
			}
			gsm7 := strings.HasPrefix(tc.path, "/partners/other/")
			if want := fmt.Sprintf("+919876543210 %s gsm7=%v", tc.channel, gsm7); len(asked) != 1 || asked[0] != want {
				t.Errorf("Busy called with %v, want [%s]", asked, want)
			}
		})
	}
}

// With an sms_url the route answers 202 and the reply arrives later, signed
// with the partner's secret, through the default (http) sender.
func TestAsyncSMS(t *testing.T) {
	tests := []struct {
		name  string
		h     *providertest.Handler
		reply string
	}{
		{"reply", &providertest.Handler{Reply: dialog.Reply{Text: "1 English\n2 हिन्दी"}}, "1 English\n2 हिन्दी"},
		{"busy", &providertest.Handler{Err: errors.New("store down")}, BusyText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			centre := &providertest.SMSCentre{T: t, Secret: testSecret}
			srv := httptest.NewServer(centre)
			defer srv.Close()
			cfg := testConfig()
			cfg.Partners[0].SMSURL = srv.URL + "/replies"
			hs := newHarness(t, tc.h, cfg, Options{})

			rec := hs.post(acmeSMS, smsBody)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status %d body %s", rec.Code, rec.Body)
			}
			if m := jsonBody(t, rec); m["accepted"] != true || len(m) != 1 {
				t.Errorf("response %v", m)
			}
			hs.pending.Wait()
			want := []smshttp.Payload{{To: "+919876543210", Text: tc.reply, Ref: "reply-m-1"}}
			if got := centre.Received(); len(got) != 1 || got[0] != want[0] {
				t.Errorf("received %+v, want %+v", got, want)
			}
			if c := tc.h.Calls(); len(c) != 1 || c[0].Delivery != "sms:m-1" {
				t.Errorf("turns %+v", c)
			}
			// USSD on the same partner still answers in the response.
			if rec := hs.post(acmeUSSD, ussdBody); rec.Code != 200 {
				t.Errorf("ussd status %d", rec.Code)
			}
		})
	}
}

// captureSender is an injected asynchronous sender.
type captureSender struct {
	gate chan struct{} // when set, Send waits for it
	mu   sync.Mutex
	sent []dialog.SMS
	err  error
}

func (c *captureSender) Send(ctx context.Context, m dialog.SMS) error {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m)
	return c.err
}

// Asynchronous replies are bounded: beyond MaxPending an SMS gets 503 and is
// not processed; a failed delivery is logged with the masked number only.
func TestAsyncBounds(t *testing.T) {
	cs := &captureSender{gate: make(chan struct{}), err: errors.New("centre down")}
	var partners []string
	opt := Options{MaxPending: 1, AsyncSender: func(p Partner) dialog.Sender {
		partners = append(partners, p.ID)
		return cs
	}}
	cfg := testConfig()
	cfg.Partners[1].SMSURL = "https://sms.example.net/replies"
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	hs := newHarness(t, h, cfg, opt)
	if len(partners) != 1 || partners[0] != "other" {
		t.Fatalf("AsyncSender called for %v, want [other]", partners)
	}

	first := hs.do(hs.signed("/partners/other/sms", smsBody, otherSecret))
	second := hs.do(hs.signed("/partners/other/sms", strings.Replace(smsBody, "m-1", "m-2", 1), otherSecret))
	if first.Code != http.StatusAccepted {
		t.Errorf("first: status %d", first.Code)
	}
	if second.Code != http.StatusServiceUnavailable || second.Header().Get("Retry-After") != "1" {
		t.Errorf("second: status %d, Retry-After %q", second.Code, second.Header().Get("Retry-After"))
	}
	close(cs.gate)
	hs.pending.Wait()
	if c := h.Calls(); len(c) != 1 || c[0].Delivery != "sms:m-1" {
		t.Errorf("turns %+v, want only m-1", c)
	}
	if len(cs.sent) != 1 || cs.sent[0] != (dialog.SMS{To: "+919876543210", Text: "ok", Ref: "reply-m-1"}) {
		t.Errorf("sent %+v", cs.sent)
	}
	logs := hs.Logs.String()
	if !strings.Contains(logs, "sms reply not delivered") || strings.Contains(logs, "9876543210") {
		t.Errorf("logs %s", logs)
	}
	// A slot is free again.
	if rec := hs.do(hs.signed("/partners/other/sms", strings.Replace(smsBody, "m-1", "m-3", 1), otherSecret)); rec.Code != http.StatusAccepted {
		t.Errorf("after drain: status %d", rec.Code)
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name string
		h    dialog.Handler
		cfg  Config
		want string
	}{
		{"nil handler", nil, testConfig(), "nil dialog.Handler"},
		{"short secret", &providertest.Handler{}, Config{Partners: []Partner{{ID: "a", Secret: "short", Unicode: true, Rate: 1, Burst: 1}}}, "secret shorter"},
		{"duplicate id", &providertest.Handler{}, Config{Partners: []Partner{testConfig().Partners[0], testConfig().Partners[0]}}, "duplicate id"},
		{"plain http to a remote host", &providertest.Handler{}, Config{Partners: []Partner{{ID: "a", Secret: testSecret, Rate: 1, Burst: 1, SMSURL: "http://sms.example.net/"}}}, "https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(p.(string), tc.want) {
					t.Errorf("panic %v, want %q", p, tc.want)
				}
			}()
			Register(gin.New(), tc.h, tc.cfg, Options{})
		})
	}
}

// Each partner route keeps the contract of every inbound channel.
func TestContract(t *testing.T) {
	for _, route := range []string{"ussd", "sms"} {
		t.Run(route, func(t *testing.T) { providertest.RunContract(t, channel(route)) })
	}
}

// channel is the contract's adapter for acme's route ("ussd" or "sms").
func channel(route string) providertest.Channel {
	clk := dialogtest.NewClock(epoch)
	path := "/partners/acme/" + route
	c := providertest.Channel{
		Provider: ProviderPrefix + "acme",
		Mount:    mount(testConfig(), Options{}, clk, route),
		BusyText: BusyText,
		Reason: func(t *testing.T, rec *httptest.ResponseRecorder) string {
			msg, _ := jsonBody(t, rec)["error"].(string)
			return msg
		},
		Signature: &providertest.Signature{
			Header: SignatureHeader,
			Status: http.StatusUnauthorized,
			Forge: func(t *testing.T, m providertest.Message) *http.Request {
				return signedAt(clk.Now(), path, messageJSON(t, route, m), "forged-secret-0123456789abcdefghijkl")
			},
			Keys: []string{testSecret, otherSecret},
		},
		Refusals: refusals(clk, route),
	}
	switch route {
	case "ussd":
		c.Kind, c.DefaultDeadline = dialog.USSD, DefaultUSSDDeadline
		c.Request = func(t *testing.T, m providertest.Message) *http.Request {
			// A partner retries a USSD request as it sent it: the same
			// bytes and headers (the clock of this adapter stands still).
			return signedAt(clk.Now(), path, messageJSON(t, route, m), testSecret)
		}
		c.Screen = func(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
			m := jsonBody(t, rec)
			text, _ := m["message"].(string)
			end, _ := m["end_session"].(bool)
			return dialog.Reply{Text: text, End: end}
		}
	case "sms":
		c.Kind, c.DefaultDeadline = dialog.SMSChannel, DefaultSMSDeadline
		c.Request = func(t *testing.T, m providertest.Message) *http.Request {
			// A partner retries an SMS under its message_id, signed
			// afresh: every request here is a minute and a half later.
			clk.Advance(90 * time.Second)
			return signedAt(clk.Now(), path, messageJSON(t, route, m), testSecret)
		}
		c.Screen = func(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
			text, _ := jsonBody(t, rec)["reply"].(string)
			return dialog.Reply{Text: text}
		}
	}
	return c
}

// messageJSON is the body of a route's request for m.
func messageJSON(t *testing.T, route string, m providertest.Message) string {
	t.Helper()
	v := map[string]any{"message_id": m.ID, "msisdn": m.Msisdn, "text": m.Input}
	if route == "ussd" {
		v = map[string]any{"session_id": m.ID, "msisdn": m.Msisdn, "service_code": "*123*45#", "input": m.Input, "new_session": false}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refusals are the requests a route ("ussd" or "sms") refuses with its
// documented status and a JSON error before the conversation: size,
// partner, timestamp and signature, content type, then the JSON itself
// (the rate limit has TestRateLimit). Timestamps are taken from clk when
// each request is built.
func refusals(clk *dialogtest.Clock, route string) []providertest.Refusal {
	stamp := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	// sign signs body anew with secret under the timestamp ts gives.
	sign := func(secret string, ts func(now time.Time) string, body string) func(*http.Request, time.Time) {
		return func(r *http.Request, now time.Time) {
			r.Header.Set(TimestampHeader, ts(now))
			r.Header.Set(SignatureHeader, Sign([]byte(secret), ts(now), []byte(body)))
		}
	}
	skewed := func(d time.Duration) func(time.Time) string {
		return func(now time.Time) string { return stamp(now.Add(d)) }
	}
	big := `{"session_id":"s","msisdn":"9876543210","input":"` + strings.Repeat("1", MaxBodyBytes) + `","new_session":false}`

	tests := []struct {
		name   string
		path   string
		body   string
		mutate func(r *http.Request, now time.Time) // after signing with the acme secret at now
		status int
		want   string // part of the error
	}{
		{name: "unknown partner", path: "/partners/nobody/ussd", body: ussdBody, status: 404, want: "unknown partner"},
		{name: "unknown partner sms", path: "/partners/nobody/sms", body: smsBody, status: 404, want: "unknown partner"},
		{name: "missing timestamp", path: acmeUSSD, body: ussdBody, status: 401, want: "missing X-TikaSetu-Timestamp",
			mutate: func(r *http.Request, _ time.Time) { r.Header.Del(TimestampHeader) }},
		{name: "timestamp not a number", path: acmeUSSD, body: ussdBody, status: 401, want: "Unix time in seconds",
			mutate: sign(testSecret, func(time.Time) string { return "2021-04-28T10:30:00Z" }, ussdBody)},
		{name: "timestamp with sign", path: acmeUSSD, body: ussdBody, status: 401, want: "Unix time in seconds",
			mutate: sign(testSecret, func(now time.Time) string { return "+" + stamp(now) }, ussdBody)},
		{name: "timestamp in milliseconds", path: acmeUSSD, body: ussdBody, status: 401, want: "Unix time in seconds",
			mutate: sign(testSecret, func(now time.Time) string { return stamp(now) + "000" }, ussdBody)},
		{name: "stale timestamp", path: acmeUSSD, body: ussdBody, status: 401, want: "more than 5m0s from server time",
			mutate: sign(testSecret, skewed(-MaxSkew-time.Second), ussdBody)},
		{name: "future timestamp", path: acmeUSSD, body: ussdBody, status: 401, want: "more than 5m0s from server time",
			mutate: sign(testSecret, skewed(MaxSkew+time.Second), ussdBody)},
		{name: "stale timestamp sms", path: acmeSMS, body: smsBody, status: 401, want: "from server time",
			mutate: sign(testSecret, skewed(-MaxSkew-time.Second), smsBody)},
		{name: "missing signature", path: acmeUSSD, body: ussdBody, status: 401, want: "missing X-TikaSetu-Signature",
			mutate: func(r *http.Request, _ time.Time) { r.Header.Del(SignatureHeader) }},
		{name: "wrong secret", path: acmeUSSD, body: ussdBody, status: 401, want: "bad signature",
			mutate: sign(otherSecret, skewed(0), ussdBody)},
		{name: "another partner's secret on sms", path: acmeSMS, body: smsBody, status: 401, want: "bad signature",
			mutate: sign(otherSecret, skewed(0), smsBody)},
		{name: "signature of another body", path: acmeUSSD, body: ussdBody, status: 401, want: "bad signature",
			mutate: sign(testSecret, skewed(0), strings.Replace(ussdBody, `"1"`, `"2"`, 1))},
		{name: "signature of another timestamp", path: acmeUSSD, body: ussdBody, status: 401, want: "bad signature",
			mutate: func(r *http.Request, now time.Time) {
				r.Header.Set(SignatureHeader, Sign([]byte(testSecret), stamp(now.Add(-time.Second)), []byte(ussdBody)))
			}},
		{name: "signature without prefix", path: acmeUSSD, body: ussdBody, status: 401, want: "bad signature",
			mutate: func(r *http.Request, _ time.Time) {
				r.Header.Set(SignatureHeader, strings.TrimPrefix(r.Header.Get(SignatureHeader), "sha256="))
			}},
		{name: "signature not hex", path: acmeUSSD, body: ussdBody, status: 401, want: "bad signature",
			mutate: func(r *http.Request, _ time.Time) { r.Header.Set(SignatureHeader, "sha256=zz") }},
		{name: "oversize body", path: acmeUSSD, body: big, status: 413, want: "larger than 8192 bytes"},
		{name: "oversize body without length", path: acmeUSSD, body: big, status: 413, want: "larger than 8192 bytes",
			mutate: func(r *http.Request, _ time.Time) { r.ContentLength = -1 }},
		{name: "oversize before unknown partner", path: "/partners/nobody/sms", body: big, status: 413, want: "larger"},
		{name: "wrong content type", path: acmeUSSD, body: ussdBody, status: 415, want: "application/json",
			mutate: func(r *http.Request, _ time.Time) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }},
		{name: "malformed JSON", path: acmeUSSD, body: `{"session_id":"s-1",`, status: 400, want: "not valid JSON"},
		{name: "trailing data", path: acmeUSSD, body: ussdBody + `{}`, status: 400, want: "not valid JSON"},
		{name: "JSON array", path: acmeUSSD, body: `[]`, status: 400, want: "JSON object"},
		{name: "JSON null", path: acmeSMS, body: `null`, status: 400, want: "JSON object"},
		{name: "empty body", path: acmeSMS, body: ``, status: 400, want: "JSON object"},
		{name: "missing session_id", path: acmeUSSD, body: `{"msisdn":"9876543210","input":"1","new_session":false}`, status: 400, want: "missing session_id"},
		{name: "empty session_id", path: acmeUSSD, body: `{"session_id":"","msisdn":"9876543210","input":"1","new_session":false}`, status: 400, want: "missing session_id"},
		{name: "session_id with control character", path: acmeUSSD, body: `{"session_id":"a\u0000b","msisdn":"9876543210","input":"1","new_session":false}`, status: 400, want: "session_id"},
		{name: "missing msisdn", path: acmeUSSD, body: `{"session_id":"s","input":"1","new_session":false}`, status: 400, want: "missing msisdn"},
		{name: "missing new_session", path: acmeUSSD, body: `{"session_id":"s","msisdn":"9876543210","input":"1"}`, status: 400, want: "missing new_session"},
		{name: "missing input mid-session", path: acmeUSSD, body: `{"session_id":"s","msisdn":"9876543210","new_session":false}`, status: 400, want: "missing input"},
		{name: "new_session as string", path: acmeUSSD, body: `{"session_id":"s","msisdn":"9876543210","input":"1","new_session":"false"}`, status: 400, want: "new_session must be a JSON boolean"},
		{name: "msisdn as number", path: acmeUSSD, body: `{"session_id":"s","msisdn":9876543210,"input":"1","new_session":false}`, status: 400, want: "msisdn must be a JSON string"},
		{name: "msisdn not Indian", path: acmeUSSD, body: `{"session_id":"s","msisdn":"+254712345678","input":"1","new_session":false}`, status: 400, want: "not an Indian mobile number"},
		{name: "input too long", path: acmeUSSD, body: `{"session_id":"s","msisdn":"9876543210","input":"` + strings.Repeat("क", MaxInputRunes+1) + `","new_session":false}`, status: 400, want: "input longer"},
		{name: "bad request_id", path: acmeUSSD, body: `{"session_id":"s","msisdn":"9876543210","input":"1","new_session":false,"request_id":""}`, status: 400, want: "request_id"},
		{name: "missing message_id", path: acmeSMS, body: `{"msisdn":"9876543210","text":"REG"}`, status: 400, want: "missing message_id"},
		{name: "message_id too long", path: acmeSMS, body: `{"message_id":"` + strings.Repeat("m", MaxIDBytes+1) + `","msisdn":"9876543210","text":"REG"}`, status: 400, want: "message_id"},
		{name: "missing text", path: acmeSMS, body: `{"message_id":"m","msisdn":"9876543210"}`, status: 400, want: "missing text"},
		{name: "sms msisdn missing", path: acmeSMS, body: `{"message_id":"m","text":"REG"}`, status: 400, want: "missing msisdn"},
		{name: "sms text too long", path: acmeSMS, body: `{"message_id":"m","msisdn":"9876543210","text":"` + strings.Repeat("x", MaxInputRunes+1) + `"}`, status: 400, want: "text longer"},
	}
	var out []providertest.Refusal
	for _, tc := range tests {
		if !strings.HasSuffix(tc.path, "/"+route) {
			continue
		}
		out = append(out, providertest.Refusal{
			Name:   tc.name,
			Status: tc.status,
			Reason: tc.want,
			Request: func(*testing.T) *http.Request {
				now := clk.Now()
				req := signedAt(now, tc.path, tc.body, testSecret)
				if tc.mutate != nil {
					tc.mutate(req, now)
				}
				return req
			},
		})
	}
	return out
}

// A refused request is logged with its reason and the partner, for the
// operator; an unknown partner is not named.
func TestRefusalsLogged(t *testing.T) {
	tests := []struct {
		name string
		path string
		sign string // the secret the request is signed with
		want string // a log line
	}{
		{"bad signature", acmeUSSD, otherSecret, `level=WARN msg="partner request refused" provider=partner:acme reason="bad signature"`},
		{"unknown partner", "/partners/nobody-known/ussd", testSecret, `level=DEBUG msg="partner request refused: unknown partner" id_bytes=12`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, &providertest.Handler{}, testConfig(), Options{})
			if rec := hs.do(hs.signed(tc.path, ussdBody, tc.sign)); rec.Code < 400 || rec.Code > 499 {
				t.Fatalf("status %d", rec.Code)
			}
			if logs := hs.Logs.String(); !strings.Contains(logs, tc.want) || strings.Contains(logs, "nobody-known") {
				t.Errorf("logs\n%s\nwant the line\n%s", logs, tc.want)
			}
		})
	}
}
