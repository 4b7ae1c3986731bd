package africastalking

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

func init() { gin.SetMode(gin.TestMode) }

type outcome struct {
	provider string
	ok       bool
}

type harness struct {
	engine   *gin.Engine
	h        *providertest.Handler
	logs     *providertest.LogBuffer
	mu       sync.Mutex
	outcomes []outcome
}

func newHarness(t *testing.T, h *providertest.Handler, opt Options) *harness {
	t.Helper()
	hs := &harness{engine: gin.New(), h: h, logs: &providertest.LogBuffer{}}
	opt.Logger = slog.New(slog.NewTextHandler(hs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.OnTurn = func(p string, ok bool) {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		hs.outcomes = append(hs.outcomes, outcome{p, ok})
	}
	Register(hs.engine, h, opt)
	return hs
}

func (hs *harness) post(body, ctype string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	hs.engine.ServeHTTP(rec, req)
	return rec
}

func (hs *harness) postForm(v url.Values) *httptest.ResponseRecorder {
	return hs.post(v.Encode(), "application/x-www-form-urlencoded")
}

func form(session, phone, text string) url.Values {
	return url.Values{
		"sessionId":   {session},
		"serviceCode": {"*123*45#"},
		"phoneNumber": {phone},
		"networkCode": {"40445"},
		"text":        {text},
	}
}

func TestTurnDecoding(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		form url.Values
		want dialog.Turn
	}{
		{
			name: "first request",
			form: form("ATUid_1", "+919876543210", ""),
			want: dialog.Turn{Session: "ATUid_1", Delivery: "ATUid_1\x00", NewSession: true, Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "text field absent is a first request",
			form: url.Values{"sessionId": {"s"}, "phoneNumber": {"9876543210"}},
			want: dialog.Turn{Session: "s", Delivery: "s\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "second request",
			form: form("s2", "+919876543210", "1"),
			want: dialog.Turn{Session: "s2", Delivery: "s2\x001", Msisdn: "+919876543210", Input: "1"},
		},
		{
			name: "later request carries only the last input",
			form: form("s3", "+919876543210", "1*2*3"),
			want: dialog.Turn{Session: "s3", Delivery: "s3\x001*2*3", Msisdn: "+919876543210", Input: "3"},
		},
		{
			name: "empty last segment",
			form: form("s4", "+919876543210", "1*"),
			want: dialog.Turn{Session: "s4", Delivery: "s4\x001*", Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "lone star",
			form: form("s5", "+919876543210", "*"),
			want: dialog.Turn{Session: "s5", Delivery: "s5\x00*", Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "non-Latin input kept verbatim",
			form: form("s6", "+919876543210", "2*राम कुमार"),
			want: dialog.Turn{Session: "s6", Delivery: "s6\x002*राम कुमार", Msisdn: "+919876543210", Input: "राम कुमार"},
		},
		{
			name: "phone without plus",
			form: form("p1", "919876543210", ""),
			want: dialog.Turn{Session: "p1", Delivery: "p1\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "phone with trunk zero",
			form: form("p2", "09876543210", ""),
			want: dialog.Turn{Session: "p2", Delivery: "p2\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "bare phone with spaces and hyphen",
			form: form("p3", "98765 43-210", ""),
			want: dialog.Turn{Session: "p3", Delivery: "p3\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "screen limits from options",
			opt:  Options{ScreenLimit: 160, UCS2Limit: 70},
			form: form("l1", "+916000000001", "5"),
			want: dialog.Turn{Session: "l1", Delivery: "l1\x005", Msisdn: "+916000000001", Input: "5", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "a route restricted to the aggregator vouches for the number",
			opt:  Options{Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, // httptest's peer
			form: form("v1", "+919876543210", ""),
			want: dialog.Turn{Session: "v1", Delivery: "v1\x00", NewSession: true, Msisdn: "+919876543210", Vouched: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, tc.opt)
			rec := hs.postForm(tc.form)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, body %q", rec.Code, rec.Body)
			}
			calls := h.Calls()
			if len(calls) != 1 {
				t.Fatalf("handler called %d times, want 1", len(calls))
			}
			want := tc.want
			want.Channel = dialog.USSD
			want.Provider = Name
			if calls[0] != want {
				t.Errorf("turn\n got %#v\nwant %#v", calls[0], want)
			}
		})
	}
}

// An unencoded "+" in a hand-written form decodes as a space; the number is
// still accepted.
func TestUnencodedPlus(t *testing.T) {
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	hs := newHarness(t, h, Options{})
	rec := hs.post("sessionId=x&phoneNumber=+919876543210&text=", "application/x-www-form-urlencoded")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	if got := h.Calls()[0].Msisdn; got != "+919876543210" {
		t.Errorf("msisdn %q", got)
	}
}

func TestReplyEncoding(t *testing.T) {
	tests := []struct {
		name  string
		reply dialog.Reply
		want  string
	}{
		{"continue", dialog.Reply{Text: "1 English\n2 हिन्दी\n3 বাংলা"}, "CON 1 English\n2 हिन्दी\n3 বাংলা"},
		{"end", dialog.Reply{Text: "Appointment 1234", End: true}, "END Appointment 1234"},
		{"empty continue", dialog.Reply{}, "CON "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, &providertest.Handler{Reply: tc.reply}, Options{})
			rec := hs.postForm(form("s", "9876543210", ""))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("content type %q", got)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	const ctype = "application/x-www-form-urlencoded"
	long := form("s", "9876543210", strings.Repeat("1*", MaxTextRunes/2)+"1").Encode()
	tests := []struct {
		name   string
		body   string
		ctype  string
		method string
	}{
		{name: "missing sessionId", body: "phoneNumber=9876543210&text=", ctype: ctype},
		{name: "missing phoneNumber", body: "sessionId=s&text=", ctype: ctype},
		{name: "phone not Indian mobile", body: form("s", "+254712345678", "").Encode(), ctype: ctype},
		{name: "phone starting 5", body: form("s", "5876543210", "").Encode(), ctype: ctype},
		{name: "phone with letters", body: form("s", "98765abcde", "").Encode(), ctype: ctype},
		{name: "JSON body", body: `{"sessionId":"s","phoneNumber":"9876543210"}`, ctype: "application/json"},
		{name: "no content type", body: form("s", "9876543210", "").Encode()},
		{name: "broken encoding", body: "sessionId=%zz&phoneNumber=9876543210", ctype: ctype},
		{name: "oversized body", body: form("s", "9876543210", "").Encode() + "&pad=" + strings.Repeat("x", MaxBodyBytes), ctype: ctype},
		{name: "text too long", body: long, ctype: ctype},
		{name: "text not UTF-8", body: "sessionId=s&phoneNumber=9876543210&text=1*%ff", ctype: ctype},
		{name: "sessionId with NUL", body: "sessionId=a%00b&phoneNumber=9876543210", ctype: ctype},
		{name: "sessionId too long", body: form(strings.Repeat("s", MaxSessionBytes+1), "9876543210", "").Encode(), ctype: ctype},
		{name: "fields only in query string", body: "", ctype: ctype},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, Options{})
			path := Path
			if tc.name == "fields only in query string" {
				path += "?sessionId=s&phoneNumber=9876543210"
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			hs.engine.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400 (body %q)", rec.Code, rec.Body)
			}
			if rec.Body.Len() == 0 || rec.Body.Len() > 100 {
				t.Errorf("want a short reason, got %q", rec.Body)
			}
			if n := len(h.Calls()); n != 0 {
				t.Errorf("handler called %d times", n)
			}
			if len(hs.outcomes) != 0 {
				t.Errorf("OnTurn called for a bad request: %v", hs.outcomes)
			}
		})
	}
}

// The longest accepted text still reaches the handler.
func TestTextAtLimit(t *testing.T) {
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	hs := newHarness(t, h, Options{})
	text := strings.Repeat("क", MaxTextRunes)
	if rec := hs.postForm(form("s", "9876543210", text)); rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	if got := h.Calls()[0].Input; got != text {
		t.Errorf("input has %d bytes, want %d", len(got), len(text))
	}
}

func TestBusy(t *testing.T) {
	tests := []struct {
		name string
		fn   func(ctx context.Context, t dialog.Turn) (dialog.Reply, error)
	}{
		{"handler error", func(context.Context, dialog.Turn) (dialog.Reply, error) {
			return dialog.Reply{Text: "half a screen"}, errors.New("store down")
		}},
		{"handler panic", func(context.Context, dialog.Turn) (dialog.Reply, error) {
			panic("boom")
		}},
		{"handler returns ctx error", func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
			<-ctx.Done()
			return dialog.Reply{}, ctx.Err()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Fn: tc.fn}
			hs := newHarness(t, h, Options{Deadline: 20 * time.Millisecond})
			rec := hs.postForm(form("s", "+919876543210", "1"))
			assertBusy(t, rec)
			logs := hs.logs.String()
			if strings.Contains(logs, "9876543210") {
				t.Errorf("log holds the full number: %s", logs)
			}
			if !strings.Contains(logs, "+91XXXXXX3210") {
				t.Errorf("log lacks the masked number: %s", logs)
			}
			if want := []outcome{{Name, false}}; len(hs.outcomes) != 1 || hs.outcomes[0] != want[0] {
				t.Errorf("OnTurn %v, want %v", hs.outcomes, want)
			}
		})
	}
}

func assertBusy(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Errorf("status %d, want 200", rec.Code)
	}
	if got, want := rec.Body.String(), "END "+BusyText; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("content type %q", got)
	}
}

// A handler that ignores its context does not hold the response past the
// deadline.
func TestSlowHandlerAnsweredByDeadline(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan struct{})
	h := &providertest.Handler{Fn: func(context.Context, dialog.Turn) (dialog.Reply, error) {
		defer close(finished)
		<-release // ignores ctx
		return dialog.Reply{Text: "too late"}, nil
	}}
	hs := newHarness(t, h, Options{Deadline: 10 * time.Millisecond})
	rec := hs.postForm(form("s", "9876543210", ""))

	select {
	case <-finished:
		t.Fatal("handler finished before the response was sent")
	default:
	}
	assertBusy(t, rec)
	close(release)
	<-finished
}

// The handler's context carries the configured deadline.
func TestHandlerContextDeadline(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration
		want     time.Duration
	}{
		{"default", 0, DefaultDeadline},
		{"configured", 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var left time.Duration
			h := &providertest.Handler{Fn: func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
				d, ok := ctx.Deadline()
				if !ok {
					return dialog.Reply{}, errors.New("no deadline")
				}
				left = time.Until(d)
				return dialog.Reply{Text: "ok"}, nil
			}}
			hs := newHarness(t, h, Options{Deadline: tc.deadline})
			if rec := hs.postForm(form("s", "9876543210", "")); rec.Body.String() != "CON ok" {
				t.Fatalf("body %q", rec.Body)
			}
			if left <= 0 || left > tc.want {
				t.Errorf("time left %v, want in (0, %v]", left, tc.want)
			}
			if len(hs.outcomes) != 1 || !hs.outcomes[0].ok {
				t.Errorf("OnTurn %v", hs.outcomes)
			}
		})
	}
}

// Neither the caller's input nor the full number appear in logs on success.
func TestLogsHoldNoInputOrNumber(t *testing.T) {
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	hs := newHarness(t, h, Options{})
	hs.postForm(form("s", "9876543210", "1*482913"))
	logs := hs.logs.String()
	for _, secret := range []string{"482913", "9876543210"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q: %s", secret, logs)
		}
	}
	if !strings.Contains(logs, "+91XXXXXX3210") {
		t.Errorf("debug log lacks the masked number: %s", logs)
	}
}
