// Package smshttp is the "http" outbound SMS sender: it implements
// dialog.Sender by POSTing each message as JSON
//
//	{"to":"+91XXXXXXXXXX","text":"…","ref":"<unique id>"}
//
// to a partner's SMS centre (TIKASETU_SMS_HTTP_URL), signed with
//
//	X-TikaSetu-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>
//
// keyed with TIKASETU_SMS_HTTP_SECRET. Each attempt has its own timeout;
// 429, 5xx and network errors are retried a bounded number of times with
// jittered exponential back-off (honouring Retry-After, capped: see
// outbound.Retry), other responses outside 2xx are final. Every attempt sends the same bytes and
// ref, so the receiver can de-duplicate.
//
// Sign and Verify are exported for receivers: the load generator, a partner
// stub, tests.
package smshttp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/lazylog"
	"github.com/tikasetu/tikasetu/providers/internal/outbound"
	"github.com/tikasetu/tikasetu/providers/internal/reqcheck"
)

// SignatureHeader carries the body signature.
const SignatureHeader = "X-TikaSetu-Signature"

// Defaults.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultAttempts    = 3
	DefaultBackoff     = 250 * time.Millisecond // before the second attempt; doubles after
	DefaultMaxBackoff  = 5 * time.Second        // cap on any wait, Retry-After included
	maxResponseDrained = 4 << 10
)

// Sign returns the signature header value for body: "sha256=" followed by the
// lower-case hex HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string { return reqcheck.Sign(secret, body) }

// Verify reports whether header is a valid signature of body under secret,
// comparing in constant time. An empty secret verifies nothing.
func Verify(secret, body []byte, header string) bool { return reqcheck.Verify(secret, header, body) }

// Payload is the JSON body the sender posts.
type Payload struct {
	To   string `json:"to"` // E.164
	Text string `json:"text"`
	Ref  string `json:"ref"`
	// What the message is (otp, slip, invite, …) and its language, for a
	// receiver that routes or counts by them.
	Kind string `json:"kind,omitempty"`
	Lang string `json:"lang,omitempty"`
	// The message's DLT registration, when a DLT file is set.
	EntityID   string `json:"entity_id,omitempty"`
	TemplateID string `json:"template_id,omitempty"`
}

// StatusError is an attempt answered with a status outside 2xx.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Permanent reports whether the receiver refused the message itself (400,
// 413, 422), which no retry changes. A refused credential (401, 403) is not:
// it is the operator's to fix, and the message waits for it.
func (e *StatusError) Permanent() bool { return outbound.Refused(e.StatusCode) }

// Sender posts SMS to one URL. It is safe for concurrent use.
type Sender struct {
	url     string
	secret  []byte
	client  *http.Client
	timeout time.Duration
	retry   outbound.Retry
	log     *slog.Logger
}

var _ dialog.Sender = (*Sender)(nil)

// Option configures New.
type Option func(*Sender)

// WithClient sets the HTTP client (default: a client of its own on a
// transport that keeps outbound.IdlePerHost idle connections). Per-attempt
// timeouts are applied through the request context, on top of any client
// timeout.
func WithClient(c *http.Client) Option { return func(s *Sender) { s.client = c } }

// WithTimeout bounds each attempt (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(s *Sender) { s.timeout = d } }

// WithAttempts sets how many attempts a message gets in all (default
// DefaultAttempts; 1 disables retries).
func WithAttempts(n int) Option { return func(s *Sender) { s.retry.Attempts = n } }

// WithBackoff sets the wait before the second attempt (doubling after, with
// jitter) and the cap on any wait, Retry-After included.
func WithBackoff(first, max time.Duration) Option {
	return func(s *Sender) { s.retry.Backoff, s.retry.MaxBackoff = first, max }
}

// WithLogger sets the logger for retries (default slog.Default()). Numbers
// are masked; texts are never logged.
func WithLogger(l *slog.Logger) Option { return func(s *Sender) { s.log = l } }

// New returns a sender posting to rawURL, an absolute http or https URL,
// signing with secret, which must not be empty.
func New(rawURL string, secret []byte, opts ...Option) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("smshttp: URL must be an absolute http(s) URL")
	}
	if len(secret) == 0 {
		return nil, errors.New("smshttp: empty signing secret")
	}
	s := &Sender{
		url:     rawURL,
		secret:  bytes.Clone(secret),
		client:  &http.Client{Transport: outbound.Transport()},
		timeout: DefaultTimeout,
		retry:   outbound.Retry{Attempts: DefaultAttempts, Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff},
		log:     slog.Default(),
	}
	for _, o := range opts {
		o(s)
	}
	if s.client == nil {
		s.client = &http.Client{Transport: outbound.Transport()}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.retry.Attempts = max(s.retry.Attempts, 1)
	s.retry.Backoff = max(s.retry.Backoff, 0)
	s.retry.MaxBackoff = max(s.retry.MaxBackoff, s.retry.Backoff)
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Send posts m. The number is normalised to E.164; an empty Ref is replaced
// by a random one, kept across retries. It returns nil once the receiver
// answers 2xx, and otherwise the last attempt's error, wrapped (a
// *StatusError for an HTTP status, the context's error when ctx ends).
func (s *Sender) Send(ctx context.Context, m dialog.SMS) error {
	to, err := dialog.NormaliseMsisdn(m.To)
	if err != nil {
		return fmt.Errorf("smshttp: recipient %s: %w", dialog.MaskMsisdn(m.To), err)
	}
	if m.Ref == "" {
		m.Ref = rand.Text()
	}
	body, err := json.Marshal(Payload{To: to, Text: m.Text, Ref: m.Ref, Kind: m.Kind, Lang: m.Lang, EntityID: m.EntityID, TemplateID: m.TemplateID})
	if err != nil {
		return fmt.Errorf("smshttp: encode: %w", err)
	}
	sig := Sign(s.secret, body)
	masked := dialog.MaskMsisdn(to)
	log := lazylog.With(s.log, slog.String("to", masked), slog.String("ref", m.Ref))
	_, err = s.retry.Do(ctx, fmt.Sprintf("smshttp: send %s to %s", m.Ref, masked), log,
		func(ctx context.Context) (bool, time.Duration, error) { return s.attempt(ctx, body, sig) })
	return err
}

// attempt makes one POST. It reports whether a failure may be retried and
// any wait the receiver asked for with Retry-After.
func (s *Sender) attempt(ctx context.Context, body []byte, sig string) (retry bool, wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return true, 0, err // network error or attempt timeout
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrained))
	resp.Body.Close()

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return false, 0, nil
	case outbound.Retryable(code):
		return true, outbound.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), &StatusError{code}
	default:
		return false, 0, &StatusError{code}
	}
}
