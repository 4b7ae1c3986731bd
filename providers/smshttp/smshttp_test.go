package smshttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

var secret = []byte("s3cret-for-tests")

// receiver is a partner SMS centre: it verifies each request like a real
// receiver would and answers with the next scripted status.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	bodies [][]byte
	script []func(w http.ResponseWriter, r *http.Request) // one per attempt; the last repeats
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.bodies)
	rc.bodies = append(rc.bodies, body)
	step := rc.script[min(n, len(rc.script)-1)]
	rc.mu.Unlock()

	if r.Method != http.MethodPost {
		rc.t.Errorf("method %s", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		rc.t.Errorf("content type %q", ct)
	}
	if !Verify(secret, body, r.Header.Get(SignatureHeader)) {
		rc.t.Errorf("signature %q does not verify body %s", r.Header.Get(SignatureHeader), body)
	}
	step(w, r)
}

func (rc *receiver) attempts() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

func status(code int, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

// hang blocks until the client gives up on the request.
func hang(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// drop closes the connection without an answer: a network error.
func drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func newSender(t *testing.T, srv *httptest.Server, opts ...Option) *Sender {
	t.Helper()
	opts = append([]Option{WithClient(srv.Client()), WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)
	s, err := New(srv.URL, secret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPayloadAndSignature(t *testing.T) {
	tests := []struct {
		name string
		in   dialog.SMS
		want Payload // Ref "" means: any non-empty generated ref
	}{
		{"E.164 kept", dialog.SMS{To: "+919876543210", Text: "Your code is 123456", Ref: "otp-1"},
			Payload{To: "+919876543210", Text: "Your code is 123456", Ref: "otp-1"}},
		{"trunk zero normalised", dialog.SMS{To: "09876543210", Text: "x", Ref: "r"},
			Payload{To: "+919876543210", Text: "x", Ref: "r"}},
		{"Unicode and markup text", dialog.SMS{To: "9876543210", Text: "आपका कोड <123456> & স্লিপ", Ref: "r"},
			Payload{To: "+919876543210", Text: "आपका कोड <123456> & স্লিপ", Ref: "r"}},
		{"empty ref generated", dialog.SMS{To: "9876543210", Text: "x"},
			Payload{To: "+919876543210", Text: "x"}},
		{"DLT registration", dialog.SMS{To: "9876543210", Text: "x", Ref: "r", Kind: dialog.SMSKindOTP, Lang: "en",
			EntityID: "1201160000000012345", TemplateID: "1207161234567890123"},
			Payload{To: "+919876543210", Text: "x", Ref: "r", Kind: dialog.SMSKindOTP, Lang: "en", EntityID: "1201160000000012345", TemplateID: "1207161234567890123"}},
		{"an invitation in Hindi", dialog.SMS{To: "9876543210", Text: "x", Ref: "invite-1", Kind: dialog.SMSKindInvite, Lang: "hi"},
			Payload{To: "+919876543210", Text: "x", Ref: "invite-1", Kind: dialog.SMSKindInvite, Lang: "hi"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := &receiver{t: t, script: []func(http.ResponseWriter, *http.Request){status(202)}}
			srv := httptest.NewTLSServer(rc) // https, trusted through WithClient
			defer srv.Close()
			if err := newSender(t, srv).Send(context.Background(), tc.in); err != nil {
				t.Fatal(err)
			}
			if rc.attempts() != 1 {
				t.Fatalf("%d attempts", rc.attempts())
			}
			var got Payload
			dec := json.NewDecoder(bytes.NewReader(rc.bodies[0]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if tc.want.Ref == "" {
				if got.Ref == "" {
					t.Error("no ref generated")
				}
				tc.want.Ref = got.Ref
			}
			if got != tc.want {
				t.Errorf("payload %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	type step = func(http.ResponseWriter, *http.Request)
	tests := []struct {
		name     string
		opts     []Option
		script   []step
		attempts int
		wantErr  int // expected *StatusError code; -1 any non-status error; 0 success
	}{
		{name: "200 first time", script: []step{status(200)}, attempts: 1},
		{name: "429 then 200", script: []step{status(429), status(200)}, attempts: 2},
		{name: "429 with Retry-After, capped", script: []step{status(429, "Retry-After", "120"), status(200)}, attempts: 2},
		{name: "503 then 204", script: []step{status(503), status(204)}, attempts: 2},
		{name: "500 three times gives up", script: []step{status(500)}, attempts: 3, wantErr: 500},
		{name: "attempts option", opts: []Option{WithAttempts(5)}, script: []step{status(502)}, attempts: 5, wantErr: 502},
		{name: "single attempt", opts: []Option{WithAttempts(1)}, script: []step{status(500)}, attempts: 1, wantErr: 500},
		{name: "400 not retried", script: []step{status(400)}, attempts: 1, wantErr: 400},
		{name: "401 not retried", script: []step{status(401)}, attempts: 1, wantErr: 401},
		{name: "404 not retried", script: []step{status(404), status(200)}, attempts: 1, wantErr: 404},
		{name: "network error then 200", script: []step{drop, status(200)}, attempts: 2},
		{name: "network error three times", script: []step{drop}, attempts: 3, wantErr: -1},
		{name: "attempt timeout then 200", opts: []Option{WithTimeout(20 * time.Millisecond)}, script: []step{hang, status(200)}, attempts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := &receiver{t: t, script: tc.script}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			s := newSender(t, srv, tc.opts...)
			err := s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "Your code is 123456"})

			if got := rc.attempts(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
			var se *StatusError
			switch {
			case tc.wantErr == 0 && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr > 0 && (!errors.As(err, &se) || se.StatusCode != tc.wantErr):
				t.Errorf("error %v, want status %d", err, tc.wantErr)
			case tc.wantErr < 0 && (err == nil || errors.As(err, &se)):
				t.Errorf("error %v, want a network error", err)
			}
			if err != nil && strings.Contains(err.Error(), "9876543210") {
				t.Errorf("error holds the full number: %v", err)
			}
			// Every attempt sends the same bytes (same ref, same signature).
			for i, b := range rc.bodies[1:] {
				if !bytes.Equal(b, rc.bodies[0]) {
					t.Errorf("attempt %d body %s differs from %s", i+2, b, rc.bodies[0])
				}
			}
		})
	}
}

func TestCancellationStopsRetries(t *testing.T) {
	tests := []struct {
		name string
		step func(cancel context.CancelFunc) func(http.ResponseWriter, *http.Request)
	}{
		{"canceled while waiting to retry", func(cancel context.CancelFunc) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, _ *http.Request) {
				cancel()
				w.WriteHeader(500)
			}
		}},
		{"canceled during an attempt", func(cancel context.CancelFunc) func(http.ResponseWriter, *http.Request) {
			return func(_ http.ResponseWriter, r *http.Request) {
				cancel()
				<-r.Context().Done()
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rc := &receiver{t: t, script: []func(http.ResponseWriter, *http.Request){tc.step(cancel)}}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			// A back-off this long would hang the test if cancellation were ignored.
			s, err := New(srv.URL, secret, WithClient(srv.Client()), WithBackoff(time.Hour, time.Hour), WithTimeout(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(ctx, dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if rc.attempts() != 1 {
				t.Errorf("%d attempts, want 1", rc.attempts())
			}
		})
	}
}

func TestSendRejectsBadNumber(t *testing.T) {
	rc := &receiver{t: t, script: []func(http.ResponseWriter, *http.Request){status(200)}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	err := newSender(t, srv).Send(context.Background(), dialog.SMS{To: "+254712345678", Text: "x"})
	if !errors.Is(err, dialog.ErrBadMsisdn) {
		t.Errorf("error %v, want ErrBadMsisdn", err)
	}
	if rc.attempts() != 0 {
		t.Errorf("%d attempts, want 0", rc.attempts())
	}
}

func TestRetryLogHoldsNoTextOrNumber(t *testing.T) {
	rc := &receiver{t: t, script: []func(http.ResponseWriter, *http.Request){status(503), status(200)}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var logs bytes.Buffer
	s := newSender(t, srv, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err := s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "Your code is 482913", Ref: "r"}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "+91XXXXXX3210") || !strings.Contains(out, "503") {
		t.Errorf("retry log lacks masked number or status: %s", out)
	}
	for _, secret := range []string{"482913", "9876543210"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q: %s", secret, out)
		}
	}
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"to":"+919876543210","text":"hi","ref":"r"}`)
	good := Sign(secret, body)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   bool
	}{
		{"valid", secret, body, good, true},
		{"upper-case hex", secret, body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"wrong secret", []byte("other"), body, good, false},
		{"tampered body", secret, append(bytes.Clone(body), ' '), good, false},
		{"no prefix", secret, body, strings.TrimPrefix(good, "sha256="), false},
		{"other algorithm", secret, body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"not hex", secret, body, "sha256=zz" + good[9:], false},
		{"empty header", secret, body, "", false},
		{"empty secret", nil, body, Sign(nil, body), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.secret, tc.body, tc.header); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
	// Known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	const want = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		secret []byte
		ok     bool
	}{
		{"https", "https://sms.example.net/v1/send", secret, true},
		{"http with port", "http://127.0.0.1:9000/sms", secret, true},
		{"empty secret", "https://sms.example.net/", nil, false},
		{"relative", "/sms", secret, false},
		{"no scheme", "sms.example.net/send", secret, false},
		{"ftp", "ftp://sms.example.net/", secret, false},
		{"empty", "", secret, false},
		{"unparsable", "http://[::1", secret, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.url, tc.secret)
			if (err == nil) != tc.ok {
				t.Errorf("New error %v, want ok=%v", err, tc.ok)
			}
			want := policy{DefaultAttempts, DefaultBackoff, DefaultMaxBackoff}
			if tc.ok && (s.timeout != DefaultTimeout || policyOf(s) != want) {
				t.Errorf("defaults: timeout %v, retry %+v", s.timeout, policyOf(s))
			}
		})
	}
}

// policy is the comparable part of a sender's outbound.Retry.
type policy struct {
	attempts            int
	backoff, maxBackoff time.Duration
}

func policyOf(s *Sender) policy {
	return policy{s.retry.Attempts, s.retry.Backoff, s.retry.MaxBackoff}
}

// Options out of range are brought back into it.
func TestOptionsNormalised(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want policy
	}{
		{"attempts below one", []Option{WithAttempts(0)}, policy{1, DefaultBackoff, DefaultMaxBackoff}},
		{"negative back-off", []Option{WithBackoff(-time.Second, time.Second)}, policy{DefaultAttempts, 0, time.Second}},
		{"cap below the back-off", []Option{WithBackoff(2*time.Second, time.Second)}, policy{DefaultAttempts, 2 * time.Second, 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New("https://sms.example.net/", secret, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := policyOf(s); got != tc.want {
				t.Errorf("retry %+v, want %+v", got, tc.want)
			}
		})
	}
}
