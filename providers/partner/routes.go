package partner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/deadline"
	"github.com/tikasetu/tikasetu/providers/internal/reqcheck"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// Routes Register mounts; :id is the partner's id.
const (
	USSDPath = "/partners/:id/ussd"
	SMSPath  = "/partners/:id/sms"
)

// ProviderPrefix starts the dialog.Turn.Provider of a partner's turns:
// "partner:<id>".
const ProviderPrefix = "partner:"

// Defaults and limits.
const (
	DefaultUSSDDeadline = 1800 * time.Millisecond // USSD gateways drop answers slower than about 2 s
	DefaultSMSDeadline  = 5 * time.Second
	DefaultSendTimeout  = 30 * time.Second // an asynchronous SMS reply, retries included
	DefaultMaxPending   = 1000             // asynchronous SMS replies in flight

	MaxBodyBytes  = 8 << 10 // request body
	MaxInputRunes = 1000    // "input" (USSD) and "text" (SMS), in characters
	MaxIDBytes    = 128     // "session_id", "message_id", "request_id"
	maxCodeBytes  = 32      // "service_code"
)

// BusyText is the screen shown when the conversation fails or is too slow
// and Options.Busy gives none.
const BusyText = "Service busy. Please try again in a few minutes."

// Options configures Register. The zero value is usable.
type Options struct {
	// USSDDeadline and SMSDeadline bound each turn: the handler's context
	// expires after it and the caller gets the busy screen by then, even if
	// the handler has not returned. 0 means the default.
	USSDDeadline time.Duration
	SMSDeadline  time.Duration
	// AsyncSender returns the sender of SMS replies for a partner with an
	// SMSURL; it is called once per such partner by Register. nil means the
	// http sender (package smshttp) posting to SMSURL, signed with the
	// partner's secret.
	AsyncSender func(p Partner) dialog.Sender
	// SendTimeout bounds the delivery of one asynchronous reply, retries
	// included (0 means DefaultSendTimeout); MaxPending bounds the replies
	// in flight (0 means DefaultMaxPending): beyond it an SMS gets 503 with
	// Retry-After, unprocessed, for the partner to retry.
	SendTimeout time.Duration
	MaxPending  int
	// Pending, when set, counts asynchronous replies in flight: Wait on it
	// to drain them at shutdown or in a test.
	Pending *sync.WaitGroup
	// Busy, when set, gives the screen for a turn that failed or was too
	// slow, such as dialog.Engine.Busy (in the caller's language); nil
	// means BusyText. For a partner without Unicode, a busy text that needs
	// UCS-2 is replaced by BusyText.
	Busy func(dialog.Turn) dialog.Reply
	// Now is the clock for timestamps and token buckets (default time.Now).
	Now func() time.Time
	// Logger receives refusals, failures and per-turn debug lines; nil
	// means slog.Default(). Numbers are always masked; inputs and texts
	// are never logged.
	Logger *slog.Logger
	// OnTurn, when set, is called once per request that reached the
	// handler: ok is false when the caller got the busy screen.
	OnTurn func(provider string, ok bool)
}

// Register mounts POST /partners/:id/ussd and POST /partners/:id/sms on r,
// answering with h for the partners of cfg. It panics when h is nil or cfg
// is invalid (LoadConfig returns only valid configurations).
func Register(r gin.IRoutes, h dialog.Handler, cfg Config, opt Options) {
	if h == nil {
		panic("partner: nil dialog.Handler")
	}
	if err := cfg.Validate(); err != nil {
		panic("partner: " + err.Error())
	}
	if opt.USSDDeadline <= 0 {
		opt.USSDDeadline = DefaultUSSDDeadline
	}
	if opt.SMSDeadline <= 0 {
		opt.SMSDeadline = DefaultSMSDeadline
	}
	if opt.SendTimeout <= 0 {
		opt.SendTimeout = DefaultSendTimeout
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = DefaultMaxPending
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.AsyncSender == nil {
		log := opt.Logger
		opt.AsyncSender = func(p Partner) dialog.Sender {
			s, err := smshttp.New(p.SMSURL, []byte(p.Secret), smshttp.WithLogger(log))
			if err != nil {
				panic(fmt.Sprintf("partner %q: %v", p.ID, err))
			}
			return s
		}
	}
	s := &server{h: h, opt: opt, partners: map[string]*account{}, slots: make(chan struct{}, opt.MaxPending)}
	for _, p := range cfg.Partners {
		p = p.withDefaults()
		a := &account{Partner: p, name: ProviderPrefix + p.ID, limiter: rate.NewLimiter(rate.Limit(p.Rate), p.Burst)}
		if p.SMSURL != "" {
			if a.sender = opt.AsyncSender(p); a.sender == nil {
				panic(fmt.Sprintf("partner %q: Options.AsyncSender returned nil", p.ID))
			}
		}
		s.partners[p.ID] = a
	}
	r.POST(USSDPath, s.ussd)
	r.POST(SMSPath, s.sms)
}

type server struct {
	h        dialog.Handler
	opt      Options
	partners map[string]*account
	slots    chan struct{} // one per asynchronous reply in flight
}

// account is a partner with its token bucket and reply sender.
type account struct {
	Partner
	name    string // dialog.Turn.Provider
	limiter *rate.Limiter
	sender  dialog.Sender // nil: SMS replies in the response
}

// request is an admitted request: size, partner, signature and rate checked.
type request struct {
	a         *account
	timestamp string
	body      []byte
}

// USSD and SMS bodies. Pointers tell a missing field from an empty one.
type ussdRequest struct {
	SessionID   *string `json:"session_id"`
	Msisdn      *string `json:"msisdn"`
	ServiceCode *string `json:"service_code"`
	Input       *string `json:"input"`
	NewSession  *bool   `json:"new_session"`
	RequestID   *string `json:"request_id"`
}

type ussdResponse struct {
	Message    string `json:"message"`
	EndSession bool   `json:"end_session"`
}

type smsRequest struct {
	MessageID *string `json:"message_id"`
	Msisdn    *string `json:"msisdn"`
	Text      *string `json:"text"`
}

type smsResponse struct {
	Reply string `json:"reply"`
}

func (s *server) ussd(c *gin.Context) {
	req, ok := s.admit(c)
	if !ok {
		return
	}
	var in ussdRequest
	if !decode(c, req.body, &in) {
		return
	}
	var msisdn string
	var err error
	switch {
	case in.SessionID == nil || *in.SessionID == "":
		err = errors.New("missing session_id")
	case !validID(*in.SessionID):
		err = fmt.Errorf("session_id must be 1 to %d printable characters", MaxIDBytes)
	case in.NewSession == nil:
		err = errors.New("missing new_session")
	case in.Input == nil && !*in.NewSession:
		err = errors.New("missing input")
	case in.Input != nil && utf8.RuneCountInString(*in.Input) > MaxInputRunes:
		err = fmt.Errorf("input longer than %d characters", MaxInputRunes)
	case in.ServiceCode != nil && (len(*in.ServiceCode) > maxCodeBytes || !reqcheck.Printable(*in.ServiceCode)):
		err = errors.New("bad service_code")
	case in.RequestID != nil && !validID(*in.RequestID):
		err = fmt.Errorf("request_id must be 1 to %d printable characters", MaxIDBytes)
	default:
		msisdn, err = number(in.Msisdn)
	}
	if err != nil {
		refuse(c, http.StatusBadRequest, err.Error())
		return
	}
	input := ""
	if in.Input != nil {
		input = *in.Input
	}
	a := req.a
	t := dialog.Turn{
		Channel:     dialog.USSD,
		Provider:    a.name,
		Session:     *in.SessionID,
		Delivery:    deliveryKey(req.timestamp, req.body),
		NewSession:  *in.NewSession,
		Msisdn:      msisdn,
		Input:       input,
		ScreenLimit: a.USSDScreen,
		UCS2Limit:   a.USSDScreenUCS2,
		GSM7Only:    !a.Unicode,
		Languages:   a.Languages,
		Vouched:     true, // the partner signed the request
	}
	start := time.Now()
	reply, err := deadline.Run(c.Request.Context(), s.h, t, s.opt.USSDDeadline)
	if s.opt.OnTurn != nil {
		s.opt.OnTurn(a.name, err == nil)
	}
	deadline.Report(c.Request.Context(), s.opt.Logger, err, "ussd turn failed; answered busy", "ussd turn", func() []slog.Attr {
		return []slog.Attr{slog.String("provider", a.name), slog.String("msisdn", dialog.MaskMsisdn(msisdn)),
			slog.String("session", t.Session), slog.Duration("took", time.Since(start)), slog.Bool("end", reply.End)}
	})
	if err != nil {
		c.PureJSON(http.StatusOK, ussdResponse{Message: s.busy(a, t), EndSession: true})
		return
	}
	c.PureJSON(http.StatusOK, ussdResponse{Message: reply.Text, EndSession: reply.End})
}

func (s *server) sms(c *gin.Context) {
	req, ok := s.admit(c)
	if !ok {
		return
	}
	var in smsRequest
	if !decode(c, req.body, &in) {
		return
	}
	var msisdn string
	var err error
	switch {
	case in.MessageID == nil || *in.MessageID == "":
		err = errors.New("missing message_id")
	case !validID(*in.MessageID):
		err = fmt.Errorf("message_id must be 1 to %d printable characters", MaxIDBytes)
	case in.Text == nil:
		err = errors.New("missing text")
	case utf8.RuneCountInString(*in.Text) > MaxInputRunes:
		err = fmt.Errorf("text longer than %d characters", MaxInputRunes)
	default:
		msisdn, err = number(in.Msisdn)
	}
	if err != nil {
		refuse(c, http.StatusBadRequest, err.Error())
		return
	}
	a := req.a
	t := dialog.Turn{
		Channel:   dialog.SMSChannel,
		Provider:  a.name,
		Delivery:  "sms:" + *in.MessageID,
		Msisdn:    msisdn,
		Input:     *in.Text,
		GSM7Only:  !a.Unicode,
		Languages: a.Languages,
		Vouched:   true,
	}
	if a.sender == nil {
		text := s.smsTurn(c.Request.Context(), a, t)
		c.PureJSON(http.StatusOK, smsResponse{Reply: text})
		return
	}

	// Asynchronous reply: bounded, then out of the request's hands.
	select {
	case s.slots <- struct{}{}:
	default:
		s.opt.Logger.Warn("partner sms refused: too many replies pending", slog.String("provider", a.name))
		c.Header("Retry-After", "1")
		refuse(c, http.StatusServiceUnavailable, "too many replies pending; retry later")
		return
	}
	if s.opt.Pending != nil {
		s.opt.Pending.Add(1)
	}
	ctx := context.WithoutCancel(c.Request.Context())
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.opt.Logger.Error("sms reply panicked", slog.String("provider", a.name), slog.String("panic", fmt.Sprint(p)))
			}
			<-s.slots
			if s.opt.Pending != nil {
				s.opt.Pending.Done()
			}
		}()
		text := s.smsTurn(ctx, a, t)
		sctx, cancel := context.WithTimeout(ctx, s.opt.SendTimeout)
		defer cancel()
		m := dialog.SMS{To: msisdn, Text: text, Ref: "reply-" + *in.MessageID}
		if err := a.sender.Send(sctx, m); err != nil {
			s.opt.Logger.Warn("sms reply not delivered", slog.String("provider", a.name),
				slog.String("to", dialog.MaskMsisdn(msisdn)), slog.String("ref", m.Ref), slog.String("err", err.Error()))
		}
	}()
	c.PureJSON(http.StatusAccepted, gin.H{"accepted": true})
}

// smsTurn runs an SMS turn and returns the text to send back: the reply, or
// the busy text when the turn failed.
func (s *server) smsTurn(ctx context.Context, a *account, t dialog.Turn) string {
	start := time.Now()
	reply, err := deadline.Run(ctx, s.h, t, s.opt.SMSDeadline)
	if s.opt.OnTurn != nil {
		s.opt.OnTurn(a.name, err == nil)
	}
	deadline.Report(ctx, s.opt.Logger, err, "sms turn failed; answered busy", "sms turn", func() []slog.Attr {
		return []slog.Attr{slog.String("provider", a.name), slog.String("msisdn", dialog.MaskMsisdn(t.Msisdn)),
			slog.String("delivery", t.Delivery), slog.Duration("took", time.Since(start)), slog.Bool("end", reply.End)}
	})
	if err != nil {
		return s.busy(a, t)
	}
	return reply.Text
}

// busy is the text for a turn that failed or was too slow.
func (s *server) busy(a *account, t dialog.Turn) string {
	if s.opt.Busy == nil {
		return BusyText
	}
	text := s.opt.Busy(t).Text
	if text == "" || !a.Unicode && dialog.NeedsUCS2(text) {
		return BusyText
	}
	return text
}

// admit applies the checks that come before the body is read as JSON, in
// the documented order: size, partner, signature, rate. It answers the
// request itself when it refuses it.
func (s *server) admit(c *gin.Context) (request, bool) {
	body, err := readBody(c)
	if err != nil {
		refuse(c, http.StatusRequestEntityTooLarge, err.Error())
		return request{}, false
	}
	id := c.Param("id")
	a, ok := s.partners[id]
	if !ok {
		s.opt.Logger.Debug("partner request refused: unknown partner", slog.Int("id_bytes", len(id)))
		refuse(c, http.StatusNotFound, "unknown partner")
		return request{}, false
	}
	now := s.opt.Now()
	ts, err := authenticate(c.Request.Header, []byte(a.Secret), body, now)
	if err != nil {
		s.opt.Logger.Warn("partner request refused", slog.String("provider", a.name), slog.String("reason", err.Error()))
		refuse(c, http.StatusUnauthorized, err.Error())
		return request{}, false
	}
	if wait := a.wait(now); wait > 0 {
		s.opt.Logger.Debug("partner request refused: rate limit", slog.String("provider", a.name))
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
		refuse(c, http.StatusTooManyRequests, fmt.Sprintf("rate limit of %g requests per second exceeded", a.Rate))
		return request{}, false
	}
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			refuse(c, http.StatusUnsupportedMediaType, "body must be application/json")
			return request{}, false
		}
	}
	return request{a: a, timestamp: ts, body: body}, true
}

// readBody reads at most MaxBodyBytes of the request body.
func readBody(c *gin.Context) ([]byte, error) {
	tooLarge := fmt.Errorf("body larger than %d bytes", MaxBodyBytes)
	if c.Request.ContentLength > MaxBodyBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, errors.New("body could not be read")
	}
	return body, nil
}

// authenticate checks the timestamp and signature headers of a request and
// returns the timestamp as sent.
func authenticate(h http.Header, secret, body []byte, now time.Time) (string, error) {
	ts := h.Get(TimestampHeader)
	if ts == "" {
		return "", errors.New("missing " + TimestampHeader + " header")
	}
	sec, ok := parseTimestamp(ts)
	if !ok {
		return "", errors.New(TimestampHeader + " must be Unix time in seconds")
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > MaxSkew || skew < -MaxSkew {
		return "", fmt.Errorf("%s %s is more than %v from server time %d", TimestampHeader, ts, MaxSkew, now.Unix())
	}
	sig := h.Get(SignatureHeader)
	if sig == "" {
		return "", errors.New("missing " + SignatureHeader + " header")
	}
	if !Verify(secret, ts, body, sig) {
		return "", errors.New("bad signature")
	}
	return ts, nil
}

// parseTimestamp accepts 1 to 12 ASCII digits.
func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 12 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// wait takes a token from the partner's bucket: 0 when one was free, else
// how long until one will be (no token is taken then).
func (a *account) wait(now time.Time) time.Duration {
	r := a.limiter.ReserveN(now, 1)
	if !r.OK() {
		return time.Second
	}
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// decode reads a JSON object into v, answering 400 when it cannot.
func decode(c *gin.Context, body []byte, v any) bool {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		refuse(c, http.StatusBadRequest, "body must be a JSON object")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			refuse(c, http.StatusBadRequest, fmt.Sprintf("field %s must be a JSON %s", te.Field, jsonKind(te.Field)))
			return false
		}
		refuse(c, http.StatusBadRequest, "body is not valid JSON")
		return false
	}
	return true
}

func jsonKind(field string) string {
	if field == "new_session" {
		return "boolean"
	}
	return "string"
}

// number checks and normalises the msisdn field.
func number(s *string) (string, error) {
	if s == nil || *s == "" {
		return "", errors.New("missing msisdn")
	}
	n, err := dialog.NormaliseMsisdn(*s)
	if err != nil {
		return "", errors.New("msisdn is not an Indian mobile number")
	}
	return n, nil
}

// deliveryKey identifies a USSD delivery: the same signed request sent again
// (a retry) has the same key.
func deliveryKey(timestamp string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// validID accepts an identifier of 1 to MaxIDBytes printable characters.
func validID(s string) bool {
	return s != "" && len(s) <= MaxIDBytes && reqcheck.Printable(s)
}

// refuse answers a refused request with {"error": msg}.
func refuse(c *gin.Context, status int, msg string) {
	c.Abort()
	c.PureJSON(status, gin.H{"error": msg})
}
