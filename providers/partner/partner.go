// Package partner is the signed JSON API for telecom partners: a partner's
// USSD gateway or SMS centre POSTs each caller input as JSON to
// /partners/{id}/ussd or /partners/{id}/sms and gets the next screen back
// as JSON. docs/partners.md is the contract for the partner's engineers.
//
// Every request carries X-TikaSetu-Timestamp (Unix seconds) and
// X-TikaSetu-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
// body)>, keyed with the partner's own secret. A request is checked in this
// order, and refused before anything is processed: body size (413), partner
// id (404), timestamp within MaxSkew of now and signature (401), the
// partner's token bucket (429 with Retry-After), then the JSON itself (415,
// 400). A failure or a slow turn on our side gets a polite busy screen with
// status 200, never a 5xx; the one 5xx is 503 with Retry-After, unprocessed,
// when too many asynchronous SMS replies are already pending.
//
// A USSD delivery is identified by its timestamp and body, so a partner that
// resends the exact same signed request (a retry) gets the reply it got the
// first time and the conversation does not advance; an SMS delivery is
// identified by the partner's message id. A partner with an sms_url gets 202
// at once for each SMS and the reply later, POSTed to that URL in the
// format of the http SMS sender (package smshttp), signed with the same
// secret.
//
// Partners are read from a YAML or JSON file (LoadConfig), checked at load
// with errors that name the file and line at fault. A partner whose network
// cannot show UCS-2 (unicode: false) gets GSM-7 screens (dialog.Turn.GSM7Only).
package partner

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/reqcheck"
)

// Request headers of the signing scheme (docs/partners.md).
const (
	TimestampHeader = "X-TikaSetu-Timestamp"
	SignatureHeader = "X-TikaSetu-Signature"
)

// MaxSkew is how far a request's timestamp may be from our clock, either way.
const MaxSkew = 5 * time.Minute

// Partner settings: defaults and accepted ranges.
const (
	DefaultUSSDScreen     = 182 // GSM-7 characters on one USSD screen
	DefaultUSSDScreenUCS2 = 80  // characters when the text needs UCS-2
	MinUSSDScreen         = 60
	MinUSSDScreenUCS2     = 30
	MinSecretLen          = 32
	MaxRate               = 100000 // requests per second
	MaxBurst              = 100000
	maxIDLen              = 64
)

// idPattern is what a partner id may look like: it is a URL path segment.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Secret is a partner's signing key. It prints as [redacted] so that a
// Partner or Config can be logged or formatted without leaking it.
type Secret string

// String redacts the secret.
func (Secret) String() string { return "[redacted]" }

// GoString redacts the secret in %#v.
func (Secret) GoString() string { return `"[redacted]"` }

// Partner is one telecom partner allowed to call the partner routes.
type Partner struct {
	// ID names the partner in its URLs (/partners/{id}/…): lower-case
	// letters, digits, '-' and '_', at most 64 characters.
	ID string
	// Secret keys the HMAC of its requests and of the SMS replies sent to
	// SMSURL; at least MinSecretLen characters.
	Secret Secret
	// Unicode tells whether the partner's network can show UCS-2 text
	// (Indic scripts). When false, its turns carry dialog.Turn.GSM7Only:
	// the language menu offers English and Roman Hindi, and a caller who
	// chose an Indic language elsewhere is shown Roman Hindi.
	Unicode bool
	// Languages orders the language menu (catalogue codes, such as bn, en,
	// hi): the languages offered, in option order. Empty offers every
	// language in the default order (dialog.MenuLanguages).
	Languages []string
	// USSDScreen and USSDScreenUCS2 are the partner's USSD screen sizes for
	// GSM-7 text and for text that needs UCS-2; 0 means the default.
	USSDScreen     int
	USSDScreenUCS2 int
	// Rate (requests per second, may be fractional) and Burst size the
	// partner's token bucket, shared by its USSD and SMS routes.
	Rate  float64
	Burst int
	// SMSURL, when set, makes SMS replies asynchronous: the route answers
	// 202 at once and POSTs the reply to this URL (https, or http to a
	// loopback address for testing).
	SMSURL string
}

// Config is the set of partners.
type Config struct {
	Partners []Partner
}

// Validate checks every partner and that ids are unique; it applies no
// defaults (a zero screen size means the default).
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, p := range c.Partners {
		if fe := p.check(); fe != nil {
			return fmt.Errorf("partner %s: %s", label(p.ID, i), fe.msg)
		}
		if seen[p.ID] {
			return fmt.Errorf("partner %q: duplicate id", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// fieldError is a problem with one field of a partner (its file key).
type fieldError struct {
	field string // "" for the entry as a whole
	msg   string
}

// check validates one partner's values.
func (p Partner) check() *fieldError {
	switch {
	case p.ID == "":
		return &fieldError{"id", "missing id"}
	case len(p.ID) > maxIDLen || !idPattern.MatchString(p.ID):
		return &fieldError{"id", fmt.Sprintf("id must be 1 to %d lower-case letters, digits, '-' or '_', starting with a letter or digit", maxIDLen)}
	case p.Secret == "":
		return &fieldError{"secret", "missing secret"}
	case len(p.Secret) < MinSecretLen:
		return &fieldError{"secret", fmt.Sprintf("secret shorter than %d characters", MinSecretLen)}
	case p.USSDScreen != 0 && (p.USSDScreen < MinUSSDScreen || p.USSDScreen > DefaultUSSDScreen):
		return &fieldError{"ussd_screen", fmt.Sprintf("ussd_screen must be from %d to %d", MinUSSDScreen, DefaultUSSDScreen)}
	case p.USSDScreenUCS2 != 0 && (p.USSDScreenUCS2 < MinUSSDScreenUCS2 || p.USSDScreenUCS2 > DefaultUSSDScreenUCS2):
		return &fieldError{"ussd_screen_ucs2", fmt.Sprintf("ussd_screen_ucs2 must be from %d to %d", MinUSSDScreenUCS2, DefaultUSSDScreenUCS2)}
	case math.IsNaN(p.Rate) || p.Rate <= 0 || p.Rate > MaxRate:
		return &fieldError{"rate", fmt.Sprintf("rate must be a number of requests per second above 0 and at most %d", MaxRate)}
	case p.Burst < 1 || p.Burst > MaxBurst:
		return &fieldError{"burst", fmt.Sprintf("burst must be a whole number from 1 to %d", MaxBurst)}
	}
	seen := map[string]bool{}
	for _, code := range p.Languages {
		if _, ok := dialog.LanguageByCode(code); !ok {
			return &fieldError{"languages", fmt.Sprintf("unknown language %q in languages (languages are %s)", code, strings.Join(dialog.Languages, ", "))}
		}
		if seen[code] {
			return &fieldError{"languages", fmt.Sprintf("language %q listed twice in languages", code)}
		}
		seen[code] = true
	}
	if p.SMSURL != "" {
		if err := checkSMSURL(p.SMSURL); err != nil {
			return &fieldError{"sms_url", err.Error()}
		}
	}
	return nil
}

// checkSMSURL accepts an absolute https URL, or http to a loopback host
// (a partner stub on the same machine).
func checkSMSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("sms_url must be an absolute https URL")
	}
	if u.User != nil {
		return errors.New("sms_url must not carry credentials")
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return errors.New("sms_url must use https (plain http only to a loopback address)")
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// label names a partner in messages: its id, or its position when it has none.
func label(id string, i int) string {
	if id != "" {
		return fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("#%d", i+1)
}

// withDefaults fills in the default screen sizes.
func (p Partner) withDefaults() Partner {
	if p.USSDScreen == 0 {
		p.USSDScreen = DefaultUSSDScreen
	}
	if p.USSDScreenUCS2 == 0 {
		p.USSDScreenUCS2 = DefaultUSSDScreenUCS2
	}
	return p
}

// Sign returns the X-TikaSetu-Signature value of a request: "sha256="
// followed by the lower-case hex HMAC-SHA256, keyed with secret, of the
// timestamp header value, a full stop and the exact body bytes.
func Sign(secret []byte, timestamp string, body []byte) string {
	return reqcheck.Sign(secret, []byte(timestamp), []byte{'.'}, body)
}

// Verify reports whether header is a valid signature of timestamp and body
// under secret, comparing in constant time. Upper-case hex is accepted; an
// empty secret verifies nothing. Verify does not check the timestamp's age.
func Verify(secret []byte, timestamp string, body []byte, header string) bool {
	return reqcheck.Verify(secret, header, []byte(timestamp), []byte{'.'}, body)
}
