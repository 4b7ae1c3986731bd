package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// Sink is the SMS centre of a scenario: the receiver of the gateway's
// "http" SMS sender. It checks each post's X-TikaSetu-Signature, counts
// deliveries by ref, hands OTP codes to the scenario, and can misbehave on
// request: answer 503 to everything for a while (RefuseUntil), or hold
// its answer to some posts (Hold), so that the sender is still waiting when
// it dies.
//
// A post counts as delivered when the sink answers it 204; a refused post
// (503) or a held one whose sender hung up before the answer is not.
//
// (loadgen.Sink, which the redis-stall scenario uses, hands codes to
// journeys but neither refuses, holds nor counts by ref.)
type Sink struct {
	secret []byte
	now    func() time.Time

	mu          sync.Mutex
	refuseUntil time.Time
	hold        holdRule
	deliveries  []Delivery
	byRef       map[string]int
	codes       map[string][]string // E.164 number → codes, in order of first delivery
	refused     int                 // posts answered 503
	cutOff      int                 // held posts whose sender hung up
	badSig      int
	badRequest  int
	changed     chan struct{} // closed and replaced on every delivery
	next        http.Handler  // also given every delivered post (Forward)

	srv *http.Server
	ln  net.Listener
}

// holdRule delays the answer to posts whose ref starts with prefix by d,
// for posts that arrive before until.
type holdRule struct {
	prefix string
	d      time.Duration
	until  time.Time
}

// Delivery is one post the sink answered 204. The text is not kept: it
// may hold a code.
type Delivery struct {
	At  time.Time
	To  string
	Ref string
}

// sinkPath is where the sink takes posts.
const sinkPath = "/sms"

// maxSMSBytes bounds one post.
const maxSMSBytes = 16 << 10

// otpCode finds the 6-digit code in an OTP text.
var otpCode = regexp.MustCompile(`(?:^|\D)(\d{6})(?:\D|$)`)

// NewSink returns a sink that verifies posts with secret.
func NewSink(secret []byte) *Sink {
	return &Sink{secret: secret, now: time.Now, byRef: map[string]int{}, codes: map[string][]string{}, changed: make(chan struct{})}
}

// Start serves the sink on a free loopback port until Close.
func (s *Sink) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+sinkPath, s)
	s.ln = ln
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// URL is the gateway's TIKASETU_SMS_HTTP_URL.
func (s *Sink) URL() string { return "http://" + s.ln.Addr().String() + sinkPath }

// Close stops a started sink, cutting off held posts.
func (s *Sink) Close() {
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

// RefuseUntil makes the sink answer 503 to every post until t.
func (s *Sink) RefuseUntil(t time.Time) {
	s.mu.Lock()
	s.refuseUntil = t
	s.mu.Unlock()
}

// Hold delays the answer to posts whose ref starts with prefix by d, for
// posts arriving before until.
func (s *Sink) Hold(prefix string, d time.Duration, until time.Time) {
	s.mu.Lock()
	s.hold = holdRule{prefix: prefix, d: d, until: until}
	s.mu.Unlock()
}

// Forward also hands every delivered post to h (whose answer is
// discarded): the redis-stall scenario puts the sink in front of
// loadgen's, which gives its journeys their codes.
func (s *Sink) Forward(h http.Handler) {
	s.mu.Lock()
	s.next = h
	s.mu.Unlock()
}

// ServeHTTP takes one post.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSMSBytes))
	if err != nil {
		s.count(&s.badRequest)
		http.Error(w, "unreadable or too large body", http.StatusBadRequest)
		return
	}
	if !smshttp.Verify(s.secret, body, r.Header.Get(smshttp.SignatureHeader)) {
		s.count(&s.badSig)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p smshttp.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.To == "" || p.Ref == "" {
		s.count(&s.badRequest)
		http.Error(w, `want JSON {"to","text","ref"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	now := s.now()
	refuse := now.Before(s.refuseUntil)
	hold := s.hold
	if refuse {
		s.refused++
	}
	s.mu.Unlock()
	if refuse {
		http.Error(w, "sms centre unavailable", http.StatusServiceUnavailable)
		return
	}
	if hold.prefix != "" && strings.HasPrefix(p.Ref, hold.prefix) && now.Before(hold.until) {
		t := time.NewTimer(hold.d)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the sender hung up (or died) first
			t.Stop()
			s.count(&s.cutOff)
			return
		}
	}
	s.record(p)
	s.mu.Lock()
	next := s.next
	s.mu.Unlock()
	if next != nil {
		fwd := r.Clone(r.Context())
		fwd.Body = io.NopCloser(bytes.NewReader(body))
		fwd.ContentLength = int64(len(body))
		next.ServeHTTP(discard{h: http.Header{}}, fwd)
	}
	w.WriteHeader(http.StatusNoContent)
}

// discard is a ResponseWriter that drops the answer.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

func (s *Sink) count(n *int) {
	s.mu.Lock()
	*n++
	s.mu.Unlock()
}

// record counts a delivered post and takes the code out of an OTP text
// delivered for the first time.
func (s *Sink) record(p smshttp.Payload) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, Delivery{At: s.now(), To: p.To, Ref: p.Ref})
	s.byRef[p.Ref]++
	if s.byRef[p.Ref] == 1 && strings.HasPrefix(p.Ref, dialog.OTPRefPrefix) {
		if m := otpCode.FindStringSubmatch(p.Text); m != nil {
			s.codes[p.To] = append(s.codes[p.To], m[1])
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// Code waits up to timeout for the n-th code (from 0) delivered to to
// (E.164) and returns it.
func (s *Sink) Code(ctx context.Context, to string, n int, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s.mu.Lock()
		codes, changed := s.codes[to], s.changed
		s.mu.Unlock()
		if len(codes) > n {
			return codes[n], nil
		}
		select {
		case <-ctx.Done():
			return "", errors.New("no code for " + dialog.MaskMsisdn(to) + " within " + timeout.String())
		case <-changed:
		}
	}
}

// Quiet waits until no post has been delivered for quiet, or until most
// has passed.
func (s *Sink) Quiet(ctx context.Context, quiet, most time.Duration) {
	end := time.Now().Add(most)
	for time.Now().Before(end) && ctx.Err() == nil {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(min(quiet, time.Until(end))):
			return
		}
	}
}

// Deliveries returns the delivered posts accepted by keep (nil: all).
func (s *Sink) Deliveries(keep func(Delivery) bool) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.deliveries {
		if keep == nil || keep(d) {
			out = append(out, d)
		}
	}
	return out
}

// SinkCounts are what the sink saw.
type SinkCounts struct {
	Delivered    int `json:"delivered"`     // posts answered 204
	Distinct     int `json:"distinct_refs"` // of them, distinct refs
	Refused      int `json:"refused_503"`
	CutOff       int `json:"held_cut_off"` // held posts whose sender hung up
	BadSignature int `json:"bad_signature"`
	BadRequest   int `json:"bad_request"`
}

// Counts returns the counts so far.
func (s *Sink) Counts() SinkCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SinkCounts{Delivered: len(s.deliveries), Distinct: len(s.byRef), Refused: s.refused,
		CutOff: s.cutOff, BadSignature: s.badSig, BadRequest: s.badRequest}
}

// refCounts counts deliveries (raw) and their distinct refs.
func refCounts(ds []Delivery) (raw, distinct int) {
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.Ref] = true
	}
	return len(ds), len(seen)
}

// refPrefix keeps deliveries whose ref starts with prefix.
func refPrefix(prefix string) func(Delivery) bool {
	return func(d Delivery) bool { return strings.HasPrefix(d.Ref, prefix) }
}

// WaitFor waits up to timeout until at least n delivered posts pass keep,
// and returns those delivered by then.
func (s *Sink) WaitFor(ctx context.Context, keep func(Delivery) bool, n int, timeout time.Duration) []Delivery {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		ds := s.Deliveries(keep)
		if len(ds) >= n {
			return ds
		}
		select {
		case <-ctx.Done():
			return ds
		case <-changed:
		}
	}
}
