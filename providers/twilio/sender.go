package twilio

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/lazylog"
	"github.com/tikasetu/tikasetu/providers/internal/outbound"
)

// Sender defaults.
const (
	DefaultSendTimeout = 5 * time.Second
	DefaultAttempts    = 3
	DefaultBackoff     = 250 * time.Millisecond // before the second attempt; doubles after
	DefaultMaxBackoff  = 4 * time.Second        // cap on any wait, Retry-After included
)

// SenderOptions configures NewSender.
type SenderOptions struct {
	// AccountSID and AuthToken authenticate to Twilio's REST API (HTTP
	// Basic). Both required, letters and digits only.
	AccountSID string
	AuthToken  string
	// Exactly one of From (a Twilio number in E.164, or an alphanumeric
	// sender ID) and MessagingServiceSID (MG…) is required.
	From                string
	MessagingServiceSID string
	// StatusCallbackBase is the public base URL of this gateway (the
	// webhook's PublicURL). When set, every message asks Twilio to report
	// its delivery status to StatusCallbackBase + StatusPath + "?ref=<ref>".
	// Empty: no status callbacks.
	StatusCallbackBase string
	// Timeout bounds each attempt (default DefaultSendTimeout).
	Timeout time.Duration
	// Attempts is how many attempts a message gets in all (default
	// DefaultAttempts; 1 disables retries).
	Attempts int
	// Backoff is the wait before the second attempt, doubling after, with
	// jitter (default DefaultBackoff); MaxBackoff caps any wait, a
	// Retry-After from Twilio included (default DefaultMaxBackoff).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// HTTPClient carries the requests (default: a client of its own, with a
	// pool of outbound.IdlePerHost idle connections, that does not follow
	// redirects). Per-attempt
	// timeouts and cancellation are applied through the request context.
	HTTPClient *http.Client
	// Edge and Region select a Twilio edge location and region
	// (twilio-go's RestClient.SetEdge / SetRegion). They are taken from
	// here only: twilio-go's TWILIO_EDGE / TWILIO_REGION environment
	// variables are ignored.
	Edge   string
	Region string
	// APIBaseURL, when set, replaces the scheme and host (and prefixes the
	// path) of every API request: a Twilio mock or a test server.
	// Production leaves it empty.
	APIBaseURL string
	// Logger receives retries (default slog.Default()). Numbers are
	// masked; texts are never logged.
	Logger *slog.Logger
}

// Sender sends SMS through Twilio's Messages API. It implements
// dialog.Sender and is safe for concurrent use.
type Sender struct {
	opt   SenderOptions
	base  *url.URL // parsed APIBaseURL, nil when unset
	httpc *http.Client
	retry outbound.Retry // tests replace its Sleep
}

var _ dialog.Sender = (*Sender)(nil)

var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// NewSender checks opt and returns a Sender.
func NewSender(opt SenderOptions) (*Sender, error) {
	switch {
	case !alphanumeric.MatchString(opt.AccountSID):
		return nil, errors.New("twilio: account SID must be letters and digits (AC…)")
	case !alphanumeric.MatchString(opt.AuthToken):
		return nil, errors.New("twilio: auth token must be letters and digits")
	case (opt.From == "") == (opt.MessagingServiceSID == ""):
		return nil, errors.New("twilio: set exactly one of From and MessagingServiceSID")
	}
	if opt.StatusCallbackBase != "" {
		if !baseURL(opt.StatusCallbackBase) {
			return nil, fmt.Errorf("twilio: status callback base %q must be an absolute http(s) URL without query", opt.StatusCallbackBase)
		}
		opt.StatusCallbackBase = strings.TrimRight(opt.StatusCallbackBase, "/")
	}
	s := &Sender{opt: opt, httpc: opt.HTTPClient}
	if opt.APIBaseURL != "" {
		u, err := url.Parse(opt.APIBaseURL)
		if err != nil || !baseURL(opt.APIBaseURL) {
			return nil, fmt.Errorf("twilio: API base URL %q must be an absolute http(s) URL without query", opt.APIBaseURL)
		}
		u.Path = strings.TrimRight(u.Path, "/")
		u.RawPath = ""
		s.base = u
	}
	if s.httpc == nil {
		s.httpc = &http.Client{Transport: outbound.Transport(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.opt.Timeout <= 0 {
		s.opt.Timeout = DefaultSendTimeout
	}
	if s.opt.Attempts < 1 {
		s.opt.Attempts = DefaultAttempts
	}
	if s.opt.Backoff <= 0 {
		s.opt.Backoff = DefaultBackoff
	}
	if s.opt.MaxBackoff <= 0 {
		s.opt.MaxBackoff = DefaultMaxBackoff
	}
	s.opt.MaxBackoff = max(s.opt.MaxBackoff, s.opt.Backoff)
	if s.opt.Logger == nil {
		s.opt.Logger = slog.Default()
	}
	s.retry = outbound.Retry{Attempts: s.opt.Attempts, Backoff: s.opt.Backoff, MaxBackoff: s.opt.MaxBackoff}
	return s, nil
}

// StatusCallbackURL is the status callback URL for a message with ref, ""
// when the sender has no StatusCallbackBase.
func (s *Sender) StatusCallbackURL(ref string) string {
	if s.opt.StatusCallbackBase == "" {
		return ""
	}
	return s.opt.StatusCallbackBase + StatusPath + "?ref=" + url.QueryEscape(ref)
}

// Send creates m as a Twilio message. The number is normalised to E.164;
// an empty Ref is replaced by a random one (it travels only on the status
// callback URL). 429, 5xx and network errors are retried up to Attempts in
// all, after a jittered exponential back-off or the Retry-After Twilio
// asked for, capped; any other refusal is final. Send returns nil once
// Twilio accepted the message, and otherwise the last attempt's error,
// wrapped: a *client.TwilioRestError when Twilio explained, the context's
// error when ctx ended. The error's text never holds the full number.
//
// A retry after a timeout or a 5xx may duplicate a message Twilio had in
// fact accepted: the Messages API has no idempotency key.
func (s *Sender) Send(ctx context.Context, m dialog.SMS) error {
	to, err := dialog.NormaliseMsisdn(m.To)
	if err != nil {
		return fmt.Errorf("twilio: recipient %s: %w", dialog.MaskMsisdn(m.To), err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("twilio: send to %s: %w", dialog.MaskMsisdn(to), err)
	}
	if m.Ref == "" {
		m.Ref = rand.Text()
	}
	params := &api.CreateMessageParams{}
	params.SetTo(to)
	params.SetBody(m.Text)
	if s.opt.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(s.opt.MessagingServiceSID)
	} else {
		params.SetFrom(s.opt.From)
	}
	if cb := s.StatusCallbackURL(m.Ref); cb != "" {
		params.SetStatusCallback(cb)
	}
	masked := dialog.MaskMsisdn(to)
	log := lazylog.With(s.opt.Logger, slog.String("provider", Name), slog.String("to", masked), slog.String("ref", m.Ref))

	var sid string
	attempt, err := s.retry.Do(ctx, fmt.Sprintf("twilio: send %s to %s", m.Ref, masked), log,
		func(ctx context.Context) (retry bool, wait time.Duration, err error) {
			sid, retry, wait, err = s.attempt(ctx, params)
			if err != nil {
				err = &redacted{err: err, number: to[len("+91"):]}
			}
			return retry, wait, err
		})
	if err != nil {
		return err
	}
	log.Debug("sms sent", slog.String("message_sid", sid), slog.Int("attempt", attempt))
	return nil
}

// attempt makes one CreateMessage call under its own timeout. It reports
// whether a failure may be retried and any wait Twilio asked for.
//
// twilio-go builds its requests without a context, so each attempt gets a
// RestClient of its own whose transport binds the attempt's context to
// every request (cancellation and timeout reach the connection) and
// records the HTTP status and Retry-After, which twilio-go's errors do not
// carry.
func (s *Sender) attempt(ctx context.Context, params *api.CreateMessageParams) (sid string, retry bool, wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()

	rt := &attemptTransport{ctx: ctx, base: s.httpc.Transport, rewrite: s.base}
	if rt.base == nil {
		rt.base = http.DefaultTransport
	}
	hc := *s.httpc // shallow copy: same redirect policy and jar, our transport
	hc.Transport = rt
	c := &client.Client{Credentials: client.NewCredentials(s.opt.AccountSID, s.opt.AuthToken), HTTPClient: &hc}
	c.SetAccountSid(s.opt.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	rc.SetEdge(s.opt.Edge)
	rc.SetRegion(s.opt.Region)

	msg, err := rc.Api.CreateMessage(params)
	code := rt.status
	switch {
	case code >= 200 && code < 300:
		// Accepted, even if the body did not decode: retrying would send
		// the message twice.
		if msg != nil && msg.Sid != nil {
			sid = *msg.Sid
		}
		return sid, false, 0, nil
	case err == nil:
		return "", false, 0, fmt.Errorf("unexpected status %d", code)
	case outbound.Retryable(code):
		return "", true, outbound.RetryAfter(rt.retryAfter, time.Now()), withStatus(err, code)
	case code != 0 && outbound.Refused(code):
		return "", false, 0, refused{withStatus(err, code)}
	case code != 0:
		return "", false, 0, withStatus(err, code)
	}
	if _, ok := errors.AsType[*client.TwilioRestError](err); ok {
		return "", false, 0, err // refused before any request (bad credentials)
	}
	return "", true, 0, err // network error or attempt timeout
}

// redacted masks a number in an error's text (Twilio's messages quote the
// recipient: "The 'To' number +91… is not a valid phone number"), so that
// the error can be logged; errors.As still reaches the original.
type redacted struct {
	err    error
	number string // national 10 digits
}

func (e *redacted) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.number, dialog.MaskMsisdn(e.number))
}

func (e *redacted) Unwrap() error { return e.err }

// refused is Twilio's refusal of the message itself (an invalid number,
// say): the queue does not try it again.
type refused struct{ error }

func (refused) Permanent() bool { return true }
func (r refused) Unwrap() error { return r.error }

// withStatus adds the HTTP status to an error that does not say it.
func withStatus(err error, code int) error {
	if _, ok := errors.AsType[*client.TwilioRestError](err); ok {
		return err
	}
	return fmt.Errorf("status %d: %w", code, err)
}

// attemptTransport binds one attempt's context to its requests, optionally
// redirects them to APIBaseURL, and records the last response's status and
// Retry-After. One per attempt, used by one goroutine.
type attemptTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	rewrite *url.URL

	status     int
	retryAfter string
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	if t.rewrite != nil {
		req.URL.Scheme = t.rewrite.Scheme
		req.URL.Host = t.rewrite.Host
		req.URL.Path = t.rewrite.Path + req.URL.Path
		req.URL.RawPath = ""
		req.Host = ""
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.status = resp.StatusCode
	t.retryAfter = resp.Header.Get("Retry-After")
	return resp, nil
}
