package providertest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/deadline"
)

func init() { gin.SetMode(gin.TestMode) }

// The toy channel: a USSD dialect just big enough to keep the contract.
// A form (id, msisdn, input) is POSTed to toyPath, signed with the hex
// HMAC-SHA256 of the body in toyHeader; the answer is the screen, with
// toyEndHeader set when the session ends.
const (
	toyPath            = "/toy"
	toyProvider        = "toy"
	toyKey             = "toy-signing-key-0123456789abcdef"
	toyHeader          = "X-Toy-Signature"
	toyEndHeader       = "X-Toy-End"
	toyBusy            = "Toy is busy."
	toyDefaultDeadline = 1500 * time.Millisecond
)

// toyBug is the fault the toy channel is built with, set in the
// environment of the subprocesses of TestContractCatchesBrokenChannels; ""
// is a channel that keeps the contract.
var toyBug = os.Getenv("PROVIDERTEST_TOY_BUG")

func toySign(key, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// toyMount serves the toy channel, with bug.
func toyMount(bug string) Mount {
	return func(r gin.IRoutes, s Setup) {
		d := s.Deadline
		if d <= 0 || bug == "ignores-deadline" {
			d = toyDefaultDeadline
		}
		r.POST(toyPath, func(c *gin.Context) {
			body, err := io.ReadAll(c.Request.Body)
			if err != nil {
				c.String(http.StatusBadRequest, "unreadable body\n")
				return
			}
			if bug != "unsigned" && !hmac.Equal([]byte(c.GetHeader(toyHeader)), []byte(toySign(toyKey, string(body)))) {
				s.Logger.Warn("toy request refused: bad signature")
				c.String(http.StatusForbidden, "bad signature\n")
				return
			}
			f, ferr := url.ParseQuery(string(body))
			msisdn, nerr := dialog.NormaliseMsisdn(f.Get("msisdn"))
			if bug == "lax" {
				msisdn, nerr = f.Get("msisdn"), nil
			}
			if ferr != nil || nerr != nil || f.Get("id") == "" {
				c.String(http.StatusBadRequest, "bad request\n")
				return
			}
			t := dialog.Turn{Channel: dialog.USSD, Provider: toyProvider, Session: f.Get("id"),
				Delivery: f.Get("id") + "\x00" + f.Get("input"), Msisdn: msisdn, Input: f.Get("input")}
			if bug == "fresh-delivery" {
				t.Delivery = rand.Text()
			}
			reply, err := deadline.Run(c.Request.Context(), s.Handler, t, d)
			s.OnTurn(toyProvider, err == nil)
			logged := dialog.MaskMsisdn(msisdn)
			if bug == "logs-number" {
				logged = msisdn
			}
			deadline.Report(c.Request.Context(), s.Logger, err, "toy turn failed", "toy turn", func() []slog.Attr {
				return []slog.Attr{slog.String("msisdn", logged)}
			})
			if err != nil {
				if bug == "busy-5xx" {
					c.String(http.StatusInternalServerError, "internal error\n")
					return
				}
				reply = dialog.Reply{Text: toyBusy, End: true}
			}
			if reply.End {
				c.Header(toyEndHeader, "1")
			}
			c.String(http.StatusOK, reply.Text)
		})
	}
}

func toyPost(body, key string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, toyPath, strings.NewReader(body))
	req.Header.Set(toyHeader, toySign(key, body))
	return req
}

func toyForm(m Message) string {
	return url.Values{"id": {m.ID}, "msisdn": {m.Msisdn}, "input": {m.Input}}.Encode()
}

// toyChannel is the toy channel's adapter.
func toyChannel(bug string) Channel {
	return Channel{
		Provider:        toyProvider,
		Kind:            dialog.USSD,
		Mount:           toyMount(bug),
		DefaultDeadline: toyDefaultDeadline,
		BusyText:        toyBusy,
		Request:         func(_ *testing.T, m Message) *http.Request { return toyPost(toyForm(m), toyKey) },
		Screen: func(_ *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
			return dialog.Reply{Text: rec.Body.String(), End: rec.Header().Get(toyEndHeader) == "1"}
		},
		Reason: func(_ *testing.T, rec *httptest.ResponseRecorder) string { return strings.TrimSpace(rec.Body.String()) },
		Signature: &Signature{
			Header: toyHeader,
			Status: http.StatusForbidden,
			Forge:  func(_ *testing.T, m Message) *http.Request { return toyPost(toyForm(m), "another-key") },
			Keys:   []string{toyKey},
		},
		Refusals: []Refusal{
			{Name: "no id", Status: http.StatusBadRequest, Reason: "bad request",
				Request: func(*testing.T) *http.Request { return toyPost("msisdn=%2B919876543210&input=1", toyKey) }},
			{Name: "number not Indian", Status: http.StatusBadRequest, Reason: "bad request",
				Request: func(*testing.T) *http.Request { return toyPost("id=x&msisdn=%2B254712345678&input=1", toyKey) }},
		},
	}
}

// The toy channel keeps the contract (with a bug only in the subprocesses
// below).
func TestToyChannel(t *testing.T) {
	RunContract(t, toyChannel(toyBug))
}

// The contract fails a channel that breaks it: each bug fails the check
// that names it. Each bug runs in a subprocess, so that its failures stay
// there.
func TestContractCatchesBrokenChannels(t *testing.T) {
	if toyBug != "" {
		t.Skip("a subprocess runs only TestToyChannel")
	}
	tests := []struct {
		bug   string
		fails string // the check that must fail
	}{
		{"busy-5xx", "busy"},               // a failed turn answered 500
		{"ignores-deadline", "deadline"},   // the configured deadline not applied
		{"fresh-delivery", "retry"},        // a retry is a new delivery to the engine
		{"unsigned", "signature"},          // the signature not checked
		{"lax", "refusals"},                // a malformed number reaches the engine
		{"logs-number", "logs"},            // the full number logged
		{"", "(the contract holds, none)"}, // control: no bug, no failure
	}
	for _, tc := range tests {
		name := tc.bug
		if name == "" {
			name = "no bug"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestToyChannel$", "-test.v")
			cmd.Env = append(os.Environ(), "PROVIDERTEST_TOY_BUG="+tc.bug)
			out, err := cmd.CombinedOutput()
			if tc.bug == "" {
				if err != nil {
					t.Fatalf("the contract fails the toy channel without a bug: %v\n%s", err, out)
				}
				return
			}
			if _, ok := errors.AsType[*exec.ExitError](err); !ok {
				t.Fatalf("the contract passed the toy channel with bug %q (%v):\n%s", tc.bug, err, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestToyChannel/"+tc.fails+" (") {
				t.Errorf("with bug %q the %s check did not fail:\n%s", tc.bug, tc.fails, out)
			}
			if !strings.Contains(string(out), "--- PASS: TestToyChannel/reply (") {
				t.Errorf("with bug %q the reply check failed too, so the bug is not what failed:\n%s", tc.bug, out)
			}
		})
	}
}
