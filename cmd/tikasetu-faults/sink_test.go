package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/providers/smshttp"
)

var testSecret = []byte("sink-test-secret")

// postSMS hands the sink one signed post (signature: "" signs it
// properly) and returns the status.
func postSMS(t *testing.T, s *Sink, ctx context.Context, to, text, ref, signature string) int {
	t.Helper()
	body, err := json.Marshal(smshttp.Payload{To: to, Text: text, Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	if signature == "" {
		signature = smshttp.Sign(testSecret, body)
	}
	req := httptest.NewRequest(http.MethodPost, sinkPath, strings.NewReader(string(body))).WithContext(ctx)
	req.Header.Set(smshttp.SignatureHeader, signature)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w.Code
}

func TestSinkCountsByRef(t *testing.T) {
	s := NewSink(testSecret)
	ctx := context.Background()
	for _, ref := range []string{"slip-a", "slip-a", "slip-b", "otp-3210-x"} {
		if code := postSMS(t, s, ctx, "+919876543210", "TikaSetu code: 123456. Valid", ref, ""); code != http.StatusNoContent {
			t.Fatalf("%s: status %d", ref, code)
		}
	}
	c := s.Counts()
	if c.Delivered != 4 || c.Distinct != 3 {
		t.Errorf("counts %+v, want 4 delivered, 3 distinct", c)
	}
	raw, distinct := refCounts(s.Deliveries(refPrefix("slip-")))
	if raw != 3 || distinct != 2 {
		t.Errorf("slips raw %d distinct %d, want 3, 2", raw, distinct)
	}
}

func TestSinkRefusesBadPosts(t *testing.T) {
	s := NewSink(testSecret)
	ctx := context.Background()
	if code := postSMS(t, s, ctx, "+919876543210", "x", "slip-a", "sha256=00"); code != http.StatusUnauthorized {
		t.Errorf("bad signature: status %d", code)
	}
	if code := postSMS(t, s, ctx, "+919876543210", "x", "", ""); code != http.StatusBadRequest {
		t.Errorf("no ref: status %d", code)
	}
	if c := s.Counts(); c.Delivered != 0 || c.BadSignature != 1 || c.BadRequest != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestSinkRefuseWindow(t *testing.T) {
	s := NewSink(testSecret)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	s.RefuseUntil(now.Add(20 * time.Second))
	ctx := context.Background()
	if code := postSMS(t, s, ctx, "+919876543210", "slip", "slip-a", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("during the outage: status %d", code)
	}
	now = now.Add(20 * time.Second)
	if code := postSMS(t, s, ctx, "+919876543210", "slip", "slip-a", ""); code != http.StatusNoContent {
		t.Fatalf("after the outage: status %d", code)
	}
	if c := s.Counts(); c.Refused != 1 || c.Delivered != 1 {
		t.Errorf("counts %+v, want 1 refused, 1 delivered", c)
	}
}

func TestSinkHoldCutOff(t *testing.T) {
	s := NewSink(testSecret)
	s.Hold("slip-", time.Hour, time.Now().Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the sender is gone
	postSMS(t, s, ctx, "+919876543210", "slip", "slip-a", "")
	if c := s.Counts(); c.CutOff != 1 || c.Delivered != 0 {
		t.Errorf("counts %+v, want 1 cut off, 0 delivered", c)
	}
	// Other refs are not held.
	if code := postSMS(t, s, context.Background(), "+919876543210", "code 123456", "otp-3210-a", ""); code != http.StatusNoContent {
		t.Errorf("otp: status %d", code)
	}
}

func TestSinkHoldThenDeliver(t *testing.T) {
	s := NewSink(testSecret)
	s.Hold("slip-", 10*time.Millisecond, time.Now().Add(time.Hour))
	if code := postSMS(t, s, context.Background(), "+919876543210", "slip", "slip-a", ""); code != http.StatusNoContent {
		t.Fatalf("status %d", code)
	}
	if c := s.Counts(); c.Delivered != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestSinkCodes(t *testing.T) {
	s := NewSink(testSecret)
	ctx := context.Background()
	to := "+919876543210"
	postSMS(t, s, ctx, to, "TikaSetu code: 111111. Valid 3 minutes.", "otp-3210-a", "")
	postSMS(t, s, ctx, to, "TikaSetu code: 111111. Valid 3 minutes.", "otp-3210-a", "") // a retry
	postSMS(t, s, ctx, to, "TikaSetu slip: appointment 123456", "slip-x", "")           // not a code
	go func() {
		time.Sleep(5 * time.Millisecond)
		postSMS(t, s, ctx, to, "TikaSetu code: 222222. Valid 3 minutes.", "otp-3210-b", "")
	}()
	for n, want := range []string{"111111", "222222"} {
		got, err := s.Code(ctx, to, n, 5*time.Second)
		if err != nil || got != want {
			t.Fatalf("code %d: %q, %v; want %s", n, got, err, want)
		}
	}
	_, err := s.Code(ctx, to, 2, 10*time.Millisecond)
	if err == nil {
		t.Fatal("a third code, want none")
	}
	if strings.Contains(err.Error(), "9876543210") {
		t.Errorf("error shows the full number: %v", err)
	}
}

func TestSinkWaitFor(t *testing.T) {
	s := NewSink(testSecret)
	ctx := context.Background()
	go func() {
		time.Sleep(5 * time.Millisecond)
		postSMS(t, s, ctx, "+919876543210", "slip", "slip-a", "")
	}()
	if ds := s.WaitFor(ctx, refPrefix("slip-"), 1, 5*time.Second); len(ds) != 1 {
		t.Fatalf("got %d slips, want 1", len(ds))
	}
	if ds := s.WaitFor(ctx, refPrefix("slip-"), 2, 10*time.Millisecond); len(ds) != 1 {
		t.Fatalf("got %d slips after the timeout, want 1", len(ds))
	}
}
