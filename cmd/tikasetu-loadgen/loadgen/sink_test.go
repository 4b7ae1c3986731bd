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

func kindBody(to, text, kind string) []byte {
	b, _ := json.Marshal(sms{To: to, Text: text, Ref: "r1", Kind: kind, Lang: "hi"})
	return b
}

func TestSink(t *testing.T) {
	secret := []byte("sink secret")
	const to = "+919812345678"
	otp := smsBody(to, "TikaSetu code: 482913. Valid 3 minutes. Do not share it with anyone.")
	invite := kindBody(to, "TikaSetu: your turn has come. Within 15 min dial *123*45# or send REG to register or book.", KindInvite)
	plainInvite := smsBody(to, "TikaSetu: your turn has come. Within 15 min dial *123*45# or send REG to register or book.")
	coded := kindBody(to, "Code 123456 in another script", KindOTP)
	slip := kindBody(to, "TikaSetu slip: Ram, appointment 123456, security code 1234.", "slip")
	tests := []struct {
		name    string
		body    []byte
		sig     string
		expect  bool   // a journey waits for the code
		waits   bool   // a caller waits for an invitation
		marker  string // SetInviteMarker
		status  int
		code    string // delivered to the waiter
		invited bool   // an invitation delivered to the caller waiting for one
		stats   SinkStats
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
		{name: "an invitation goes to the caller waiting for one, not to the code's waiter", body: invite, sig: smshttp.Sign(secret, invite),
			expect: true, waits: true, status: http.StatusNoContent, invited: true, stats: SinkStats{Received: 1, Invited: 1}},
		{name: "an invitation with nobody waiting for one", body: invite, sig: smshttp.Sign(secret, invite),
			expect: true, status: http.StatusNoContent, stats: SinkStats{Received: 1, Unclaimed: 1}},
		{name: "no kind: an invitation by the code it names", body: plainInvite, sig: smshttp.Sign(secret, plainInvite),
			expect: true, waits: true, marker: "*123*45#", status: http.StatusNoContent, invited: true, stats: SinkStats{Received: 1, Invited: 1}},
		{name: "no kind and no marker: not an invitation", body: plainInvite, sig: smshttp.Sign(secret, plainInvite),
			expect: true, waits: true, status: http.StatusNoContent, stats: SinkStats{Received: 1, Unclaimed: 1}},
		{name: "the marker does not make an OTP an invitation", body: otp, sig: smshttp.Sign(secret, otp),
			expect: true, waits: true, marker: "*123*45#", status: http.StatusNoContent, code: "482913", stats: SinkStats{Received: 1, Delivered: 1}},
		{name: "a code of kind otp", body: coded, sig: smshttp.Sign(secret, coded), expect: true, waits: true,
			status: http.StatusNoContent, code: "123456", stats: SinkStats{Received: 1, Delivered: 1}},
		{name: "six digits in a slip are not a code", body: slip, sig: smshttp.Sign(secret, slip), expect: true,
			status: http.StatusNoContent, stats: SinkStats{Received: 1, Unclaimed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSink(secret)
			s.SetInviteMarker(tt.marker)
			var ch <-chan string
			if tt.expect {
				ch = s.Expect(to)
				defer s.Forget(to, ch)
			}
			var inv <-chan time.Time
			if tt.waits {
				inv = s.ExpectInvite(to)
				defer s.ForgetInvite(to, inv)
			}
			before := time.Now()
			if got := post(t, s, tt.body, tt.sig); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if got := s.Stats(); got != tt.stats {
				t.Fatalf("stats %+v, want %+v", got, tt.stats)
			}
			select {
			case at := <-inv:
				if !tt.invited || at.Before(before) {
					t.Fatalf("invitation at %v delivered (want one: %v)", at, tt.invited)
				}
			default:
				if tt.invited {
					t.Fatal("no invitation delivered")
				}
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

// A retried invitation post finds the first still unread: counted
// unclaimed; and forgetting a stale wait leaves a newer one.
func TestSinkInviteWaiters(t *testing.T) {
	secret := []byte("k")
	const to = "+919812345678"
	s := NewSink(secret)
	body := kindBody(to, FakeInvitation, KindInvite)
	old := s.ExpectInvite(to)
	for range 2 {
		post(t, s, body, smshttp.Sign(secret, body))
	}
	if st := s.Stats(); st.Invited != 1 || st.Unclaimed != 1 {
		t.Fatalf("stats %+v, want 1 invitation delivered and 1 unclaimed", st)
	}
	newer := s.ExpectInvite(to)
	s.ForgetInvite(to, old)
	post(t, s, body, smshttp.Sign(secret, body))
	select {
	case <-newer:
	default:
		t.Fatal("forgetting an old wait for an invitation removed the newer")
	}
	s.ForgetInvite(to, newer)
	post(t, s, body, smshttp.Sign(secret, body))
	if st := s.Stats(); st.Invited != 2 || st.Unclaimed != 2 {
		t.Fatalf("stats %+v, want 2 invitations delivered and 2 unclaimed", st)
	}
}
