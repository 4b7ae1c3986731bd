package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// SinkPath is where the sink receives the gateway's SMS.
const SinkPath = "/sms"

// maxSMSBytes bounds one posted SMS.
const maxSMSBytes = 16 << 10

// otpCode finds the 6-digit code in an OTP text ("TikaSetu code: 123456. …").
var otpCode = regexp.MustCompile(`(?:^|\D)(\d{6})(?:\D|$)`)

// Sink is the SMS centre the gateway's "http" sender posts to: it checks each
// post's X-TikaSetu-Signature, takes the 6-digit code out of OTP texts and
// hands it to the journey waiting for that number. Texts without a waiter
// (the booking slip, a late or repeated code) are counted and dropped.
type Sink struct {
	secret []byte

	mu      sync.Mutex
	waiting map[string]chan string // E.164 number → its journey

	received, badSignature, badRequest, delivered, unclaimed atomic.Int64

	srv *http.Server
	ln  net.Listener
}

// SinkStats counts what the sink saw.
type SinkStats struct {
	Received     int64 `json:"received"`      // well-formed, signed posts
	BadSignature int64 `json:"bad_signature"` // refused with 401
	BadRequest   int64 `json:"bad_request"`   // refused with 400
	Delivered    int64 `json:"otp_delivered"` // codes handed to a waiting journey
	Unclaimed    int64 `json:"unclaimed"`     // texts nobody was waiting for (slips, repeats)
}

// NewSink returns a sink verifying posts with secret. Serve it with
// Handler, or Start it on an address.
func NewSink(secret []byte) *Sink {
	return &Sink{secret: secret, waiting: map[string]chan string{}}
}

// Start listens on addr (host:port; port 0 picks one) and serves the sink
// until Close.
func (s *Sink) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+SinkPath, s)
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
	go s.srv.Serve(ln)
	return nil
}

// URL is the address the gateway should post to (TIKASETU_SMS_HTTP_URL).
func (s *Sink) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String() + SinkPath
}

// Close stops a started sink.
func (s *Sink) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Stats returns the counts so far.
func (s *Sink) Stats() SinkStats {
	return SinkStats{
		Received: s.received.Load(), BadSignature: s.badSignature.Load(), BadRequest: s.badRequest.Load(),
		Delivered: s.delivered.Load(), Unclaimed: s.unclaimed.Load(),
	}
}

// Expect registers interest in the next code sent to msisdn (E.164). Call it
// before the request that makes the gateway send the code, then wait on the
// channel; Forget when done.
func (s *Sink) Expect(msisdn string) <-chan string {
	ch := make(chan string, 1)
	s.mu.Lock()
	s.waiting[msisdn] = ch
	s.mu.Unlock()
	return ch
}

// Forget withdraws an Expect.
func (s *Sink) Forget(msisdn string, ch <-chan string) {
	s.mu.Lock()
	if s.waiting[msisdn] == ch {
		delete(s.waiting, msisdn)
	}
	s.mu.Unlock()
}

// ServeHTTP receives one SMS post.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSMSBytes))
	if err != nil {
		s.badRequest.Add(1)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if !smshttp.Verify(s.secret, body, r.Header.Get(smshttp.SignatureHeader)) {
		s.badSignature.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p smshttp.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.To == "" {
		s.badRequest.Add(1)
		http.Error(w, `want JSON {"to","text","ref"}`, http.StatusBadRequest)
		return
	}
	s.received.Add(1)
	w.WriteHeader(http.StatusNoContent)

	m := otpCode.FindStringSubmatch(p.Text)
	s.mu.Lock()
	ch := s.waiting[p.To]
	s.mu.Unlock()
	if m == nil || ch == nil {
		s.unclaimed.Add(1)
		return
	}
	select {
	case ch <- m[1]:
		s.delivered.Add(1)
	default: // a code is already waiting to be read: a retried post
		s.unclaimed.Add(1)
	}
}
