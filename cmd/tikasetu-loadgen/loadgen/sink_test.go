package loadgen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/providers/smshttp"
)

func post(t *testing.T, h http.Handler, body []byte, sig string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, SinkPath, bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(smshttp.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func smsBody(to, text string) []byte {
	b, _ := json.Marshal(smshttp.Payload{To: to, Text: text, Ref: "r1"})
	return b
}

func TestSink(t *testing.T) {
	secret := []byte("sink secret")
	const to = "+919812345678"
	otp := smsBody(to, "TikaSetu code: 482913. Valid 3 minutes. Do not share it with anyone.")
	tests := []struct {
		name     string
		body     []byte
		sig      string
		expect   bool // a journey waits for the code
		status   int
		code     string // delivered to the waiter
		received int64
		stats    SinkStats
	}{
		{name: "signed OTP to a waiting journey", body: otp, sig: smshttp.Sign(secret, otp), expect: true,
			status: http.StatusNoContent, code: "482913", stats: SinkStats{Received: 1, Delivered: 1}},
		{name: "bad signature is refused and delivers nothing", body: otp, sig: smshttp.Sign([]byte("other"), otp), expect: true,
			status: http.StatusUnauthorized, stats: SinkStats{BadSignature: 1}},
		{name: "no signature is refused", body: otp, expect: true, status: http.StatusUnauthorized, stats: SinkStats{BadSignature: 1}},
		{name: "body altered after signing is refused", body: smsBody(to, "TikaSetu code: 111111."), sig: smshttp.Sign(secret, otp), expect: true,
			status: http.StatusUnauthorized, stats: SinkStats{BadSignature: 1}},
		{name: "nobody waiting", body: otp, sig: smshttp.Sign(secret, otp),
			status: http.StatusNoContent, stats: SinkStats{Received: 1, Unclaimed: 1}},
		{name: "a slip has no 6-digit code", body: smsBody(to, "TikaSetu slip: Ram, appointment A1, security code 1234."),
			sig: smshttp.Sign(secret, smsBody(to, "TikaSetu slip: Ram, appointment A1, security code 1234.")), expect: true,
			status: http.StatusNoContent, stats: SinkStats{Received: 1, Unclaimed: 1}},
		{name: "signed but not JSON", body: []byte("hello"), sig: smshttp.Sign(secret, []byte("hello")),
			status: http.StatusBadRequest, stats: SinkStats{BadRequest: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSink(secret)
			var ch <-chan string
			if tt.expect {
				ch = s.Expect(to)
				defer s.Forget(to, ch)
			}
			if got := post(t, s, tt.body, tt.sig); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if got := s.Stats(); got != tt.stats {
				t.Fatalf("stats %+v, want %+v", got, tt.stats)
			}
			if ch == nil {
				return
			}
			select {
			case c := <-ch:
				if c != tt.code {
					t.Fatalf("code %q, want %q", c, tt.code)
				}
			default:
				if tt.code != "" {
					t.Fatalf("no code delivered, want %q", tt.code)
				}
			}
		})
	}
}

func TestSinkServesOverHTTP(t *testing.T) {
	secret := []byte("k")
	s := NewSink(secret)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := s.Expect("+919812345678")
	body := smsBody("+919812345678", "TikaSetu code: 000042.")
	req, _ := http.NewRequest(http.MethodPost, s.URL(), bytes.NewReader(body))
	req.Header.Set(smshttp.SignatureHeader, smshttp.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case c := <-ch:
		if c != "000042" {
			t.Fatalf("code %q", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no code")
	}
	// Forgetting a stale channel does not remove a newer waiter.
	newer := s.Expect("+919812345678")
	s.Forget("+919812345678", ch)
	s.mu.Lock()
	still := s.waiting["+919812345678"] == newer
	s.mu.Unlock()
	if !still {
		t.Fatal("Forget of an old channel removed the newer waiter")
	}
}
