// Package twilio speaks Twilio Programmable Messaging, both ways:
//
//   - Register mounts the inbound webhook POST /sms/twilio, where Twilio
//     delivers each SMS a caller sends to our number. Every request must
//     carry a valid X-Twilio-Signature (HMAC-SHA1 of PublicURL + path + query
//     followed by the sorted POST parameters, keyed with the account's auth
//     token, checked with twilio-go's request validator); anything else gets
//     403 and never reaches the conversation. The SMS becomes a dialog.Turn
//     whose Delivery is the MessageSid, so a Twilio retry of the same message
//     gets the engine's cached reply and advances nothing. The reply goes
//     back as TwiML, <Response><Message>screen</Message></Response>, built
//     with twilio-go's twiml package. A failure or a slow turn on our side
//     gets a polite "Service busy" message with status 200, never a 5xx.
//   - Register also mounts POST /sms/twilio/status, where Twilio reports the
//     delivery status of messages the Sender sent (queued, sent, delivered,
//     undelivered, failed …). It is verified the same way and handed to
//     Options.OnStatus with the ref the Sender put on the callback URL.
//   - Sender implements dialog.Sender on twilio-go's REST client (the
//     Messages resource), with per-attempt timeouts and bounded retries.
//
// Sign computes the signature Twilio would send, for the simulator, load
// generators and tests that drive the webhook.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/deadline"
	"github.com/tikasetu/tikasetu/providers/internal/reqcheck"
)

// Name is the provider name carried in dialog.Turn.Provider and given to
// Options.OnTurn.
const Name = "twilio"

// Routes Register mounts: the inbound SMS webhook and the delivery status
// callback, as configured at Twilio under the public URL.
const (
	Path       = "/sms/twilio"
	StatusPath = "/sms/twilio/status"
)

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// Defaults and limits.
const (
	// DefaultDeadline bounds a turn: Twilio gives up on a webhook after 15 s.
	DefaultDeadline = 10 * time.Second
	// MaxBodyBytes caps a webhook request body (Twilio's SMS webhook carries
	// some 20 short fields plus the message, up to 1600 characters that
	// may take 9 bytes each once percent-encoded).
	MaxBodyBytes = 64 << 10
	// MaxBodyRunes is the longest accepted message Body: Twilio's own limit
	// for a (concatenated) SMS.
	MaxBodyRunes = 1600
	// MaxSidBytes is the longest accepted MessageSid (Twilio's are 34).
	MaxSidBytes = 64
)

// BusyText is the message sent back when the conversation fails or is too
// slow.
const BusyText = "Service busy. Please send your message again in a few minutes."

const (
	xmlContentType  = "application/xml; charset=utf-8"
	textContentType = "text/plain; charset=utf-8"
	formType        = "application/x-www-form-urlencoded"
)

// StatusEvent is one delivery status callback for a message the Sender sent.
type StatusEvent struct {
	MessageSid string
	Status     string // MessageStatus: queued, sending, sent, delivered, undelivered, failed, …
	To         string // recipient, E.164 (as Twilio gave it when it is not an Indian mobile number)
	Ref        string // the dialog.SMS Ref, from the callback URL's "ref" parameter ("" when absent)
	ErrorCode  string // Twilio error code on failure ("30003" …), "" when none
}

// Options configures Register.
type Options struct {
	// AuthToken is the Twilio account's auth token, the key of every
	// request signature. Required.
	AuthToken string
	// PublicURL is the external base URL Twilio is configured with, without
	// the route (https://sms.example.in, or https://example.in/gateway behind
	// a path prefix). The URL checked is PublicURL + request path + "?" +
	// raw query when there is one. Required: the request's own Host and
	// scheme cannot be trusted behind a proxy.
	PublicURL string
	// Deadline bounds each turn: the context given to the handler expires
	// after it, and the response is sent by then even if the handler has not
	// returned. 0 means DefaultDeadline.
	Deadline time.Duration
	// Logger receives failures and per-turn debug lines; nil means
	// slog.Default(). Numbers are always masked; message bodies are never
	// logged.
	Logger *slog.Logger
	// OnTurn, when set, is called once per verified request that reached the
	// handler: ok is false when the caller got the busy message.
	OnTurn func(provider string, ok bool)
	// OnStatus, when set, receives every verified delivery status callback.
	// It runs on the request goroutine and should be quick.
	OnStatus func(StatusEvent)
}

// Validate reports whether the options can serve: an auth token and an
// absolute http(s) PublicURL without query or fragment.
func (o Options) Validate() error {
	if o.AuthToken == "" {
		return errors.New("twilio: empty auth token")
	}
	if !baseURL(o.PublicURL) {
		return fmt.Errorf("twilio: public URL %q must be an absolute http(s) URL without query", o.PublicURL)
	}
	return nil
}

// baseURL reports whether s is an absolute http(s) URL without user,
// query or fragment, fit to have a route appended.
func baseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == ""
}

// Register mounts POST /sms/twilio (answered with h) and POST
// /sms/twilio/status on r. It panics when h is nil or opt fails Validate:
// the caller checks configuration first.
func Register(r gin.IRoutes, h dialog.Handler, opt Options) {
	if h == nil {
		panic("twilio: nil dialog.Handler")
	}
	if err := opt.Validate(); err != nil {
		panic(err.Error())
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	if opt.Deadline <= 0 {
		opt.Deadline = DefaultDeadline
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &server{h: h, opt: opt}
	r.POST(Path, s.verify, s.serveSMS)
	r.POST(StatusPath, s.verify, s.serveStatus)
}

type server struct {
	h   dialog.Handler
	opt Options
}

// httpError is a request refused before it reached the conversation.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// verify is the middleware in front of both routes: it parses the form
// (leaving it in Request.PostForm) and checks the signature, and aborts the
// request with 400, 413 or 403 when either fails.
func (s *server) verify(c *gin.Context) {
	if err := s.verified(c.Request); err != nil {
		s.refuse(c, err)
		c.Abort()
		return
	}
	c.Next()
}

// verified parses the form and checks the signature. The error, when not
// nil, is an *httpError to answer with.
func (s *server) verified(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != formType {
		return badRequest("body must be %s", formType)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxBodyBytes)}
		}
		return badRequest("body is not a valid form")
	}
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return &httpError{http.StatusForbidden, "missing " + SignatureHeader}
	}
	if !ValidSignature(s.opt.AuthToken, s.signedURL(r), r.PostForm, sig) {
		return &httpError{http.StatusForbidden, "bad " + SignatureHeader}
	}
	return nil
}

// signedURL is the URL Twilio signed: the public base URL, the path as it
// arrived (escaped as sent) and the raw query string.
func (s *server) signedURL(r *http.Request) string {
	u := s.opt.PublicURL + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// refuse answers a request that does not reach the conversation with a
// short reason.
func (s *server) refuse(c *gin.Context, err error) {
	he, ok := err.(*httpError)
	if !ok {
		he = &httpError{http.StatusBadRequest, err.Error()}
	}
	if he.code == http.StatusForbidden {
		s.opt.Logger.Warn("twilio request refused", slog.String("path", c.Request.URL.Path),
			slog.String("reason", he.msg), slog.String("remote", c.ClientIP()))
	}
	c.Data(he.code, textContentType, []byte(he.msg+"\n"))
}

// inbound is a decoded SMS webhook.
type inbound struct {
	sid, msisdn, body string
}

func decodeSMS(f url.Values) (inbound, error) {
	in := inbound{sid: f.Get("MessageSid"), body: f.Get("Body")}
	from := f.Get("From")
	switch {
	case in.sid == "":
		return inbound{}, badRequest("missing MessageSid")
	case len(in.sid) > MaxSidBytes || !reqcheck.Printable(in.sid):
		return inbound{}, badRequest("bad MessageSid")
	case from == "":
		return inbound{}, badRequest("missing From")
	case !utf8.ValidString(in.body):
		return inbound{}, badRequest("Body is not valid UTF-8")
	case utf8.RuneCountInString(in.body) > MaxBodyRunes:
		return inbound{}, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("Body longer than %d characters", MaxBodyRunes)}
	}
	var err error
	if in.msisdn, err = dialog.NormaliseMsisdn(from); err != nil {
		return inbound{}, badRequest("From is not an Indian mobile number")
	}
	return in, nil
}

func (s *server) serveSMS(c *gin.Context) {
	in, err := decodeSMS(c.Request.PostForm)
	if err != nil {
		s.refuse(c, err)
		return
	}
	t := dialog.Turn{
		Channel:  dialog.SMSChannel,
		Provider: Name,
		Delivery: in.sid,
		Msisdn:   in.msisdn,
		Input:    in.body,
		Vouched:  true, // the request is signed by Twilio, the number by the network
	}

	start := time.Now()
	reply, err := deadline.Run(c.Request.Context(), s.h, t, s.opt.Deadline)
	var doc string
	if err == nil {
		doc, err = encode(reply.Text)
	}
	if s.opt.OnTurn != nil {
		s.opt.OnTurn(Name, err == nil)
	}
	deadline.Report(c.Request.Context(), s.opt.Logger, err, "sms turn failed; answered busy", "sms turn", func() []slog.Attr {
		return []slog.Attr{slog.String("provider", Name), slog.String("msisdn", dialog.MaskMsisdn(in.msisdn)),
			slog.String("message_sid", in.sid), slog.Duration("took", time.Since(start)),
			slog.Bool("end", reply.End), slog.Int("segments", dialog.SMSSegments(reply.Text))}
	})
	if err != nil {
		c.Data(http.StatusOK, xmlContentType, []byte(busyTwiML))
		return
	}
	c.Data(http.StatusOK, xmlContentType, []byte(doc))
}

// busyTwiML is the busy message, rendered once.
var busyTwiML = func() string {
	doc, err := encode(BusyText)
	if err != nil {
		panic(err)
	}
	return doc
}()

// encode renders text as a TwiML messaging response with one <Message>, or
// none when text is empty (Twilio then sends nothing back).
func encode(text string) (string, error) {
	text = xmlSafe(text)
	var verbs []twiml.Element
	if text != "" {
		verbs = []twiml.Element{&twiml.MessagingMessage{Body: text}}
	}
	return twiml.Messages(verbs)
}

// xmlSafe drops what XML 1.0 cannot carry (invalid UTF-8, control
// characters other than tab, newline and carriage return, U+FFFE, U+FFFF),
// which the TwiML writer would otherwise pass through and make the document
// unparseable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

func (s *server) serveStatus(c *gin.Context) {
	f := c.Request.PostForm
	ev := StatusEvent{
		MessageSid: f.Get("MessageSid"),
		Status:     f.Get("MessageStatus"),
		To:         f.Get("To"),
		Ref:        c.Request.URL.Query().Get("ref"),
		ErrorCode:  f.Get("ErrorCode"),
	}
	if ev.Status == "" {
		ev.Status = f.Get("SmsStatus") // older callbacks
	}
	switch {
	case ev.MessageSid == "":
		s.refuse(c, badRequest("missing MessageSid"))
		return
	case ev.Status == "":
		s.refuse(c, badRequest("missing MessageStatus"))
		return
	}
	if e164, err := dialog.NormaliseMsisdn(ev.To); err == nil {
		ev.To = e164
	}
	s.opt.Logger.Debug("sms status",
		slog.String("provider", Name),
		slog.String("message_sid", ev.MessageSid),
		slog.String("status", ev.Status),
		slog.String("to", dialog.MaskMsisdn(ev.To)),
		slog.String("ref", ev.Ref),
		slog.String("error_code", ev.ErrorCode))
	if s.opt.OnStatus != nil {
		s.opt.OnStatus(ev)
	}
	c.Status(http.StatusNoContent)
}

// ValidSignature reports whether sig is Twilio's X-Twilio-Signature for a
// POST of form to fullURL (the URL exactly as configured at Twilio, query
// string included), under authToken. It uses twilio-go's RequestValidator,
// which also accepts the URL with or without its default port.
//
// That validator takes the parameters as map[string]string and so cannot
// carry a repeated key, which Twilio signs as one name+value pair per
// distinct value, values sorted (as twilio-node and twilio-python compute
// it). A repeated key is therefore given to the validator as a single entry
// whose value is its sorted values joined by the key itself: the validator
// appends key+value, which yields exactly k v1 k v2 … at the key's sorted
// place. When a key repeats an identical value, the signature is also
// tried with every copy counted, in case Twilio signed them all.
func ValidSignature(authToken, fullURL string, form url.Values, sig string) bool {
	if authToken == "" || sig == "" {
		return false
	}
	rv := client.NewRequestValidator(authToken)
	if rv.Validate(fullURL, signingParams(form, true), sig) {
		return true
	}
	return hasRepeatedValue(form) && rv.Validate(fullURL, signingParams(form, false), sig)
}

// Sign returns the X-Twilio-Signature Twilio sends with a POST of form to
// fullURL, for clients that stand in for Twilio (simulator, load
// generator, tests): base64 HMAC-SHA1, keyed with authToken, of fullURL
// followed by name+value for every parameter, names sorted, a repeated
// name once per distinct value, values sorted.
func Sign(authToken, fullURL string, form url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	for _, k := range slices.Sorted(maps.Keys(form)) {
		for _, v := range sortedValues(form[k], true) {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signingParams flattens form for client.RequestValidator.Validate (see
// ValidSignature). With dedup, identical values of a key count once.
func signingParams(form url.Values, dedup bool) map[string]string {
	p := make(map[string]string, len(form))
	for k, vs := range form {
		switch len(vs) {
		case 0:
		case 1:
			p[k] = vs[0]
		default:
			p[k] = strings.Join(sortedValues(vs, dedup), k)
		}
	}
	return p
}

func sortedValues(vs []string, dedup bool) []string {
	vs = slices.Sorted(slices.Values(vs))
	if dedup {
		vs = slices.Compact(vs)
	}
	return vs
}

func hasRepeatedValue(form url.Values) bool {
	for _, vs := range form {
		if len(vs) > 1 && len(slices.Compact(slices.Sorted(slices.Values(vs)))) != len(vs) {
			return true
		}
	}
	return false
}
