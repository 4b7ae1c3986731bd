// Package africastalking speaks the Africa's Talking USSD dialect: the
// aggregator POSTs a form (sessionId, serviceCode, phoneNumber, networkCode,
// text) to /ussd/africastalking for every step of a USSD session and expects a
// text/plain body, "CON <screen>" to keep the session open or "END <screen>"
// to close it.
//
// The handler decodes each request into a dialog.Turn, runs it through a
// dialog.Handler under a deadline (USSD gateways drop answers slower than about
// 2 s) and encodes the dialog.Reply. Malformed requests get a 400 and never
// reach the conversation; a failure or a slow turn on our side gets a polite
// "END Service busy…" screen with status 200, never a 5xx.
//
// Africa's Talking does not sign its callbacks, and a request names the
// caller it acts for, so the route must be closed to everyone but the
// aggregator: Options.Allow restricts it to the aggregator's networks and
// Options.BasicAuth to requests that carry the credentials the operator put
// in the callback URL (https://user:password@host/ussd/africastalking). A
// refused request is answered 403 (401 for credentials) before its body is
// read and never reaches the conversation.
package africastalking

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/deadline"
	"github.com/tikasetu/tikasetu/providers/internal/reqcheck"
)

// Name is the provider name carried in dialog.Turn.Provider and given to
// Options.OnTurn.
const Name = "africastalking"

// Path is the route Register mounts: the callback URL configured at
// Africa's Talking ends with it.
const Path = "/ussd/africastalking"

// Defaults and limits.
const (
	DefaultDeadline = 1800 * time.Millisecond
	MaxTextRunes    = 1000 // longest accepted "text" field, in characters
	// MaxBodyBytes caps the request body. It leaves room for a text of
	// MaxTextRunes characters in any script, percent-encoded (up to 9
	// bytes each), plus the other fields.
	MaxBodyBytes    = 16 << 10
	MaxSessionBytes = 128 // longest accepted "sessionId"
)

// BusyText is the screen shown when the conversation fails or is too slow.
const BusyText = "Service busy. Please try again in a few minutes."

const contentType = "text/plain; charset=utf-8"

// Options configures Register. The zero value is usable.
type Options struct {
	// ScreenLimit and UCS2Limit are copied into every Turn (0 keeps the
	// channel's default screen size).
	ScreenLimit int
	UCS2Limit   int
	// Deadline bounds each turn: the context given to the handler expires
	// after it, and the response is sent by then even if the handler has not
	// returned. 0 means DefaultDeadline.
	Deadline time.Duration
	// Logger receives failures and per-turn debug lines; nil means
	// slog.Default(). Numbers are always masked; inputs are never logged.
	Logger *slog.Logger
	// OnTurn, when set, is called once per request that reached the handler:
	// ok is false when the caller got the busy screen.
	OnTurn func(provider string, ok bool)

	// Allow, when not empty, lists the networks whose clients may call the
	// route (ParseNetworks reads the comma-separated form); a request from
	// elsewhere gets 403. Empty leaves the address unchecked.
	Allow []netip.Prefix
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// finding the client's address: the right-most address in it that is
	// not itself a trusted proxy. From any other peer the header is ignored
	// and the client is the peer.
	TrustedProxies []netip.Prefix
	// BasicAuth, when set, is "user:password" (see CheckBasicAuth): a
	// request must carry these HTTP Basic credentials or gets 401. With
	// Allow as well, a request must pass both.
	BasicAuth string
}

// Register mounts POST /ussd/africastalking on r, answering with h.
func Register(r gin.IRoutes, h dialog.Handler, opt Options) {
	if h == nil {
		panic("africastalking: nil dialog.Handler")
	}
	if opt.Deadline <= 0 {
		opt.Deadline = DefaultDeadline
	}
	if opt.ScreenLimit < 0 {
		opt.ScreenLimit = 0
	}
	if opt.UCS2Limit < 0 {
		opt.UCS2Limit = 0
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &server{h: h, opt: opt, vouched: len(opt.Allow) > 0 || opt.BasicAuth != ""}
	if !s.vouched {
		r.POST(Path, s.serve)
		return
	}
	g, err := newGuard(opt)
	if err != nil {
		panic("africastalking: " + err.Error())
	}
	r.POST(Path, g.check, s.serve)
}

type server struct {
	h   dialog.Handler
	opt Options
	// vouched: the route answers only the aggregator (its networks or
	// its credentials), so the caller's number is the network's word.
	vouched bool
}

// request is the decoded form.
type request struct {
	session, service, phone, network, text string
	msisdn                                 string // phone in E.164
}

func (s *server) serve(c *gin.Context) {
	req, err := decode(c.Request)
	if err != nil {
		c.Data(http.StatusBadRequest, contentType, []byte(err.Error()+"\n"))
		return
	}
	t := dialog.Turn{
		Channel:     dialog.USSD,
		Provider:    Name,
		Session:     req.session,
		Delivery:    req.session + "\x00" + req.text,
		NewSession:  req.text == "",
		Msisdn:      req.msisdn,
		Input:       lastInput(req.text),
		ScreenLimit: s.opt.ScreenLimit,
		UCS2Limit:   s.opt.UCS2Limit,
		Vouched:     s.vouched,
	}

	start := time.Now()
	reply, err := deadline.Run(c.Request.Context(), s.h, t, s.opt.Deadline)
	if s.opt.OnTurn != nil {
		s.opt.OnTurn(Name, err == nil)
	}
	deadline.Report(c.Request.Context(), s.opt.Logger, err, "ussd turn failed; answered busy", "ussd turn", func() []slog.Attr {
		return []slog.Attr{slog.String("provider", Name), slog.String("msisdn", dialog.MaskMsisdn(req.msisdn)),
			slog.String("session", req.session), slog.Duration("took", time.Since(start)), slog.Bool("end", reply.End)}
	})
	if err != nil {
		c.Data(http.StatusOK, contentType, []byte("END "+BusyText))
		return
	}
	c.Data(http.StatusOK, contentType, []byte(encode(reply)))
}

// decode validates the request and extracts the form fields.
func decode(r *http.Request) (request, error) {
	if ct := r.Header.Get("Content-Type"); ct != formType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formType {
			return request{}, errors.New("body must be application/x-www-form-urlencoded")
		}
	}
	body, err := readBody(r.Body)
	if err != nil {
		return request{}, err
	}
	var req request
	if err := parseForm(body, &req); err != nil {
		return request{}, errors.New("body is not a valid form")
	}
	switch {
	case req.session == "":
		return request{}, errors.New("missing sessionId")
	case len(req.session) > MaxSessionBytes || !reqcheck.Printable(req.session):
		return request{}, errors.New("bad sessionId")
	case req.phone == "":
		return request{}, errors.New("missing phoneNumber")
	case !utf8.ValidString(req.text):
		return request{}, errors.New("text is not valid UTF-8")
	case utf8.RuneCountInString(req.text) > MaxTextRunes:
		return request{}, fmt.Errorf("text longer than %d characters", MaxTextRunes)
	}
	req.msisdn, err = dialog.NormaliseMsisdn(req.phone)
	if err != nil {
		return request{}, errors.New("phoneNumber is not an Indian mobile number")
	}
	return req, nil
}

const formType = "application/x-www-form-urlencoded"

// bodyBufs holds the buffers request bodies are read into: a form is a
// few hundred bytes.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// readBody reads a body of at most MaxBodyBytes, as io.ReadAll under
// http.MaxBytesReader would, into a pooled buffer, and returns it as one
// string the form's fields share.
func readBody(body io.Reader) (string, error) {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > MaxBodyBytes {
			return "", fmt.Errorf("body larger than %d bytes", MaxBodyBytes)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", errors.New("body is not a valid form")
		}
	}
	if cap(b) <= 4096 { // a rare larger one is left to the collector
		*bp = b[:0]
	}
	return string(b), nil
}

// parseForm reads the fields of an x-www-form-urlencoded body into req as
// url.ParseQuery followed by Values.Get would (the first value of a field
// counts; a bad escape or a semicolon anywhere is an error), without
// building the map: a value that needs no unescaping is a substring of
// body.
func parseForm(body string, req *request) error {
	var seen [5]bool
	fields := [5]*string{&req.session, &req.service, &req.phone, &req.network, &req.text}
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if strings.Contains(pair, ";") {
			return errors.New("semicolon in form")
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return err
		}
		i := -1
		switch k {
		case "sessionId":
			i = 0
		case "serviceCode":
			i = 1
		case "phoneNumber":
			i = 2
		case "networkCode":
			i = 3
		case "text":
			i = 4
		}
		if i >= 0 && !seen[i] {
			seen[i], *fields[i] = true, v
		}
	}
	return nil
}

// lastInput returns the caller's newest input: the last "*"-separated
// segment of the session text ("" on the first request).
func lastInput(text string) string {
	return text[strings.LastIndexByte(text, '*')+1:]
}

// encode renders a reply in the dialect.
func encode(r dialog.Reply) string {
	if r.End {
		return "END " + r.Text
	}
	return "CON " + r.Text
}
