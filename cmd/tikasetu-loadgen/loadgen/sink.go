package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
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
// hands it to the journey waiting for that number. An invitation of the
// surge queue (kind "invite", or, from a sender that posts no kind, a text
// naming the service code: SetInviteMarker) goes instead to the caller
// waiting for one on that number (ExpectInvite), apart from codes. Texts
// without a waiter (the booking slip, a late or repeated code or
// invitation) are counted and dropped.
type Sink struct {
	secret []byte

	mu      sync.Mutex
	waiting map[string]chan string    // E.164 number → its journey waiting for a code
	invites map[string]chan time.Time // E.164 number → its caller waiting for an invitation
	marker  string                    // a text with it and no kind is an invitation

	received, badSignature, badRequest, delivered, unclaimed, invited atomic.Int64

	srv *http.Server
	ln  net.Listener
}

// SinkStats counts what the sink saw.
type SinkStats struct {
	Received     int64 `json:"received"`                   // well-formed, signed posts
	BadSignature int64 `json:"bad_signature"`              // refused with 401
	BadRequest   int64 `json:"bad_request"`                // refused with 400
	Delivered    int64 `json:"otp_delivered"`              // codes handed to a waiting journey
	Invited      int64 `json:"invite_delivered,omitempty"` // invitations handed to a waiting caller
	Unclaimed    int64 `json:"unclaimed"`                  // texts nobody was waiting for (slips, repeats)
}

// KindInvite is the kind of the surge queue's invitation SMS (the
// gateway's dialog.SMSKindInvite); KindOTP, of a code.
const (
	KindInvite = "invite"
	KindOTP    = "otp"
)

// sms is the body the gateway's "http" sender posts: smshttp.Payload, and
// the message's kind and language where the sender says them.
type sms struct {
	To   string `json:"to"`
	Text string `json:"text"`
	Ref  string `json:"ref"`
	Kind string `json:"kind,omitempty"`
	Lang string `json:"lang,omitempty"`
}

// NewSink returns a sink verifying posts with secret. Serve it with
// Handler, or Start it on an address.
func NewSink(secret []byte) *Sink {
	return &Sink{secret: secret, waiting: map[string]chan string{}, invites: map[string]chan time.Time{}}
}

// SetInviteMarker makes a text that carries no kind and contains marker
// (the USSD code the invitation asks to dial) an invitation; "" (the
// default) takes only texts of kind "invite" as invitations.
func (s *Sink) SetInviteMarker(marker string) {
	s.mu.Lock()
	s.marker = marker
	s.mu.Unlock()
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
		Delivered: s.delivered.Load(), Invited: s.invited.Load(), Unclaimed: s.unclaimed.Load(),
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

// ExpectInvite registers interest in the next invitation sent to msisdn
// (E.164): the channel receives the moment it came. Call it before the dial
// that may queue the caller; ForgetInvite when done.
func (s *Sink) ExpectInvite(msisdn string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.invites[msisdn] = ch
	s.mu.Unlock()
	return ch
}

// ForgetInvite withdraws an ExpectInvite.
func (s *Sink) ForgetInvite(msisdn string, ch <-chan time.Time) {
	s.mu.Lock()
	if s.invites[msisdn] == ch {
		delete(s.invites, msisdn)
	}
	s.mu.Unlock()
}

// isInvite tells an invitation by its kind, or, without one, by the marker.
func (s *Sink) isInvite(p sms) bool {
	if p.Kind != "" {
		return p.Kind == KindInvite
	}
	s.mu.Lock()
	marker := s.marker
	s.mu.Unlock()
	return marker != "" && strings.Contains(p.Text, marker)
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
	var p sms
	if err := json.Unmarshal(body, &p); err != nil || p.To == "" {
		s.badRequest.Add(1)
		http.Error(w, `want JSON {"to","text","ref"}`, http.StatusBadRequest)
		return
	}
	s.received.Add(1)
	w.WriteHeader(http.StatusNoContent)

	if s.isInvite(p) {
		s.invite(p.To)
		return
	}
	var m []string
	if p.Kind == "" || p.Kind == KindOTP {
		m = otpCode.FindStringSubmatch(p.Text)
	}
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

// invite hands an invitation to the caller waiting for one on to.
func (s *Sink) invite(to string) {
	s.mu.Lock()
	ch := s.invites[to]
	s.mu.Unlock()
	if ch == nil {
		s.unclaimed.Add(1)
		return
	}
	select {
	case ch <- time.Now():
		s.invited.Add(1)
	default: // one is already waiting to be read: a retried post
		s.unclaimed.Add(1)
	}
}
