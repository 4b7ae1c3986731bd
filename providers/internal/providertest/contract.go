package providertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// Channel is what RunContract needs to know of one inbound channel: the
// small adapter a provider's tests write for it.
type Channel struct {
	// Provider is the dialog.Turn.Provider of the channel's turns and the
	// name it gives OnTurn; Kind is dialog.USSD or dialog.SMSChannel.
	Provider string
	Kind     dialog.Channel
	// Mount registers the channel's routes as the Setup says.
	Mount Mount
	// DefaultDeadline bounds a turn when Setup.Deadline is 0.
	DefaultDeadline time.Duration
	// BusyText is the channel's own answer to a turn that failed or was
	// too slow.
	BusyText string

	// Request builds the request that delivers m, as the aggregator or
	// partner sends it: signed, when the channel is. Called again with the
	// same m, it builds that sender's retry of the delivery (the same
	// request again, or the same message signed afresh).
	Request func(t *testing.T, m Message) *http.Request
	// Screen decodes a 200 answer into what the caller is shown. End is
	// checked on USSD channels only.
	Screen func(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply
	// Reason decodes the reason given with a refused request.
	Reason func(t *testing.T, rec *httptest.ResponseRecorder) string

	// Signature says how the channel's requests are signed; nil for a
	// channel whose requests are not.
	Signature *Signature
	// Refusals are requests the channel must refuse before they reach
	// the engine: malformed, unauthenticated, too large or too many. At
	// least one is required.
	Refusals []Refusal
}

// Message is one caller input as RunContract sends it.
type Message struct {
	// ID tells deliveries apart: the channel's session id (USSD) or
	// message id (SMS).
	ID     string
	Msisdn string // E.164
	Input  string // the caller's latest input: a USSD answer or an SMS text
}

// Signature describes a signed channel.
type Signature struct {
	// Header carries the signature.
	Header string
	// Status answers a request whose signature fails (401 or 403).
	Status int
	// Forge builds a request for m signed with a key that is not the
	// channel's.
	Forge func(t *testing.T, m Message) *http.Request
	// Keys are the channel's signing keys, which no log line may hold.
	Keys []string
}

// Refusal is one request a channel must refuse before the engine.
type Refusal struct {
	Name    string
	Request func(t *testing.T) *http.Request
	Status  int
	// Reason is part of the reason the answer must give; "" checks only
	// that there is a short one.
	Reason string
}

// The caller of the contract's messages, and the personal data a log line
// must never hold.
const (
	caller       = "+919876543210"
	callerDigits = "9876543210" // the number in any written form
	maskedCaller = "+91XXXXXX3210"
	otp          = "482913"
	idNumber     = "234123412346" // an Aadhaar number (check digit valid)
)

// Bounds of the contract.
const (
	// shortDeadline is the turn deadline of the busy and slow cases.
	shortDeadline = 50 * time.Millisecond
	// slack is how late past its deadline an answer may arrive: the
	// round trip over loopback, under the race detector.
	slack = time.Second
	// maxReason is the longest reason a refusal may give.
	maxReason = 200
)

// RunContract checks what every inbound channel must do, as subtests of t:
//
//   - reply: a caller's input reaches the engine as a Turn of the channel
//     (Provider, Kind, E.164 Msisdn, Input, a Delivery) and the engine's
//     reply comes back as the caller's screen; OnTurn reports success.
//   - busy: when the engine fails (an error, a panic, giving up at the
//     deadline), the caller gets the channel's BusyText with status 200,
//     ending a USSD session, and OnTurn reports the failure; when the
//     engine's admission control turns the caller away, the caller gets the
//     engine's busy screen and the engine's Handle is not called.
//   - deadline: a handler that ignores its context does not hold the answer
//     past the deadline, which the handler's context carries (the channel's
//     default, or the configured one).
//   - retry: the same message delivered twice reaches the engine under the
//     same Delivery, so the engine's reply cache answers the retry and
//     nothing is applied twice; another message is another Delivery.
//   - signature (signed channels): a request signed with another key,
//     without its signature, with its body changed after signing or with
//     another message's signature is refused with Signature.Status and
//     never reaches the engine.
//   - refusals: each of Refusals gets its status and a short reason and
//     never reaches the engine.
//   - logs: after answered, failed, forged and refused requests, the log
//     holds the caller's number only masked, and no code (OTP), ID number,
//     or signing key.
func RunContract(t *testing.T, c Channel) {
	t.Helper()
	t.Run("reply", func(t *testing.T) { c.checkReply(t) })
	t.Run("busy", func(t *testing.T) { c.checkBusy(t) })
	t.Run("deadline", func(t *testing.T) { c.checkDeadline(t) })
	t.Run("retry", func(t *testing.T) { c.checkRetry(t) })
	if c.Signature != nil {
		t.Run("signature", func(t *testing.T) { c.checkSignature(t) })
	}
	t.Run("refusals", func(t *testing.T) { c.checkRefusals(t) })
	t.Run("logs", func(t *testing.T) { c.checkLogs(t) })
}

// message is the contract's message with the given id and input.
func message(id, input string) Message {
	return Message{ID: id, Msisdn: caller, Input: input}
}

// answer checks a 200 answer and decodes the caller's screen.
func (c Channel) answer(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (body %q)", rec.Code, rec.Body)
	}
	return c.Screen(t, rec)
}

// sameScreen compares screens: the text, and on USSD whether the session
// ends.
func (c Channel) sameScreen(got, want dialog.Reply) bool {
	return got.Text == want.Text && (c.Kind != dialog.USSD || got.End == want.End)
}

// unreached checks that a refused request reached neither the engine nor
// OnTurn.
func unreached(t *testing.T, rig *Rig, h *Handler) {
	t.Helper()
	if n := len(h.Calls()); n != 0 {
		t.Errorf("the engine was called %d times", n)
	}
	if o := rig.Outcomes(); len(o) != 0 {
		t.Errorf("OnTurn called for a refused request: %v", o)
	}
}

func (c Channel) checkReply(t *testing.T) {
	tests := []struct {
		name  string
		reply dialog.Reply
	}{
		{"continues", dialog.Reply{Text: "1 English\n2 हिन्दी\n3 বাংলা"}},
		{"ends", dialog.Reply{Text: "Booked! Appointment A-1234.", End: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{Reply: tc.reply}
			rig := NewRig(t, h, 0, c.Mount)
			m := message("reply-1", "1")
			if got := c.answer(t, rig.Do(t, c.Request(t, m))); !c.sameScreen(got, tc.reply) {
				t.Errorf("screen %+v, want %+v", got, tc.reply)
			}
			calls := h.Calls()
			if len(calls) != 1 {
				t.Fatalf("the engine was called %d times, want 1", len(calls))
			}
			turn := calls[0]
			if turn.Channel != c.Kind || turn.Provider != c.Provider || turn.Msisdn != caller || turn.Input != m.Input || turn.Delivery == "" {
				t.Errorf("turn %#v, want channel %s, provider %s, msisdn %s, input %q and a delivery", turn, c.Kind, c.Provider, caller, m.Input)
			}
			if got, want := rig.Outcomes(), []Outcome{{c.Provider, true}}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("OnTurn %v, want %v", got, want)
			}
		})
	}
}

func (c Channel) checkBusy(t *testing.T) {
	busy := dialog.Reply{Text: c.BusyText, End: true}
	engineBusy := dialog.Reply{Text: "The engine is busy (providertest).", End: true}
	tests := []struct {
		name string
		h    dialog.Handler
		want dialog.Reply
		ok   bool // what OnTurn reports
	}{
		{"engine error", &Handler{Reply: dialog.Reply{Text: "half a screen"}, Err: errors.New("store down")}, busy, false},
		{"engine panic", &Handler{Fn: func(context.Context, dialog.Turn) (dialog.Reply, error) { panic("boom") }}, busy, false},
		{"engine gives up at the deadline", &Handler{Fn: func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
			<-ctx.Done()
			return dialog.Reply{Text: "half a screen"}, ctx.Err()
		}}, busy, false},
		{"engine turns the caller away", &Gate{Busy: engineBusy}, engineBusy, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := NewRig(t, tc.h, shortDeadline, c.Mount)
			if got := c.answer(t, rig.Do(t, c.Request(t, message("busy-1", "1")))); !c.sameScreen(got, tc.want) {
				t.Errorf("screen %+v, want %+v", got, tc.want)
			}
			if got, want := rig.Outcomes(), []Outcome{{c.Provider, tc.ok}}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("OnTurn %v, want %v", got, want)
			}
			if g, ok := tc.h.(*Gate); ok {
				if admits, handles := g.Counts(); admits != 1 || handles != 0 {
					t.Errorf("the gate was asked %d times and its Handle called %d times, want 1 and 0", admits, handles)
				}
			}
		})
	}
}

func (c Channel) checkDeadline(t *testing.T) {
	t.Run("slow engine", func(t *testing.T) {
		release, finished := make(chan struct{}), make(chan struct{})
		h := &Handler{Fn: func(context.Context, dialog.Turn) (dialog.Reply, error) {
			defer close(finished)
			<-release // ignores its context
			return dialog.Reply{Text: "too late"}, nil
		}}
		rig := NewRig(t, h, shortDeadline, c.Mount)
		start := time.Now()
		rec := rig.Do(t, c.Request(t, message("slow-1", "1")))
		took := time.Since(start)
		select {
		case <-finished:
			t.Error("the engine finished before the answer was sent")
		default:
		}
		close(release)
		<-finished
		if got, want := c.answer(t, rec), (dialog.Reply{Text: c.BusyText, End: true}); !c.sameScreen(got, want) {
			t.Errorf("screen %+v, want %+v", got, want)
		}
		if took < shortDeadline || took > shortDeadline+slack {
			t.Errorf("answered after %v, want after the %v deadline and within %v of it", took, shortDeadline, slack)
		}
	})

	tests := []struct {
		name     string
		deadline time.Duration
		want     time.Duration
	}{
		{"default", 0, c.DefaultDeadline},
		{"configured", 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lefts := make(chan time.Duration, 1)
			h := &Handler{Fn: func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
				d, ok := ctx.Deadline()
				if !ok {
					return dialog.Reply{}, errors.New("no deadline")
				}
				lefts <- time.Until(d)
				return dialog.Reply{Text: "ok"}, nil
			}}
			rig := NewRig(t, h, tc.deadline, c.Mount)
			if got := c.answer(t, rig.Do(t, c.Request(t, message("ctx-1", "1")))); got.Text != "ok" {
				t.Fatalf("screen %+v, want the engine's", got)
			}
			if left := <-lefts; left <= 0 || left > tc.want {
				t.Errorf("the engine's context had %v left, want in (0, %v]", left, tc.want)
			}
		})
	}
}

func (c Channel) checkRetry(t *testing.T) {
	engine := &Handler{}
	engine.Fn = func(context.Context, dialog.Turn) (dialog.Reply, error) {
		return dialog.Reply{Text: fmt.Sprintf("screen %d", len(engine.Calls()))}, nil
	}
	cache := &Cache{Handler: engine}
	rig := NewRig(t, cache, 0, c.Mount)
	first, other := message("retry-1", "1"), message("retry-2", "1")
	var screens []string
	for _, m := range []Message{first, first, other} {
		screens = append(screens, c.answer(t, rig.Do(t, c.Request(t, m))).Text)
	}
	if want := []string{"screen 1", "screen 1", "screen 2"}; fmt.Sprint(screens) != fmt.Sprint(want) {
		t.Errorf("screens %q, want %q: a retry must get the first answer", screens, want)
	}
	if n := len(engine.Calls()); n != 2 {
		t.Errorf("the engine applied %d turns, want 2 (the retry answered from the cache)", n)
	}
	d := cache.Deliveries()
	if len(d) != 3 || d[0] == "" || d[1] != d[0] || d[2] == d[0] {
		t.Errorf("deliveries %q: want the retry's the same as the first, and another message's different", d)
	}
}

func (c Channel) checkSignature(t *testing.T) {
	sig := c.Signature
	m := message("signed-1", otp)
	tests := []struct {
		name string
		req  func(t *testing.T) *http.Request
	}{
		{"signed with another key", func(t *testing.T) *http.Request { return sig.Forge(t, m) }},
		{"without its signature", func(t *testing.T) *http.Request {
			req := c.Request(t, m)
			req.Header.Del(sig.Header)
			return req
		}},
		{"body changed after signing", func(t *testing.T) *http.Request {
			req := c.Request(t, m)
			body, err := io.ReadAll(req.Body)
			if err != nil || !bytes.Contains(body, []byte(callerDigits)) {
				t.Fatalf("the request body %q (%v) does not hold the caller's number", body, err)
			}
			req.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte(callerDigits), []byte("9876543211"), 1)))
			return req
		}},
		{"another message's signature", func(t *testing.T) *http.Request {
			req := c.Request(t, m)
			req.Header.Set(sig.Header, c.Request(t, message("signed-2", "2")).Header.Get(sig.Header))
			return req
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{Reply: dialog.Reply{Text: "ok"}}
			rig := NewRig(t, h, 0, c.Mount)
			rec := rig.Do(t, tc.req(t))
			if rec.Code != sig.Status {
				t.Errorf("status %d, want %d (body %q)", rec.Code, sig.Status, rec.Body)
			}
			unreached(t, rig, h)
		})
	}
}

func (c Channel) checkRefusals(t *testing.T) {
	if len(c.Refusals) == 0 {
		t.Fatal("the adapter lists no refusals")
	}
	for _, rf := range c.Refusals {
		t.Run(rf.Name, func(t *testing.T) {
			h := &Handler{Reply: dialog.Reply{Text: "ok"}}
			rig := NewRig(t, h, 0, c.Mount)
			rec := rig.Do(t, rf.Request(t))
			if rec.Code != rf.Status {
				t.Errorf("status %d, want %d (body %q)", rec.Code, rf.Status, rec.Body)
			}
			if reason := c.Reason(t, rec); reason == "" || len(reason) > maxReason || !strings.Contains(reason, rf.Reason) {
				t.Errorf("reason %q, want a short one containing %q", reason, rf.Reason)
			}
			unreached(t, rig, h)
		})
	}
}

func (c Channel) checkLogs(t *testing.T) {
	h := &Handler{Fn: func(_ context.Context, turn dialog.Turn) (dialog.Reply, error) {
		if turn.Input == idNumber {
			return dialog.Reply{}, errors.New("store down")
		}
		return dialog.Reply{Text: "Code " + otp + " checked. ID " + idNumber + " registered."}, nil
	}}
	rig := NewRig(t, h, 0, c.Mount)
	c.answer(t, rig.Do(t, c.Request(t, message("logs-1", otp))))      // answered
	c.answer(t, rig.Do(t, c.Request(t, message("logs-2", idNumber)))) // failed: busy
	if c.Signature != nil {
		rig.Do(t, c.Signature.Forge(t, message("logs-3", otp)))
	}
	for _, rf := range c.Refusals {
		rig.Do(t, rf.Request(t))
	}
	logs := rig.Logs.String()
	secrets := append([]string{callerDigits, otp, idNumber}, c.Signature.keys()...)
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q:\n%s", s, logs)
		}
	}
	if !strings.Contains(logs, maskedCaller) {
		t.Errorf("the log lacks the masked number %s, so the turns were not logged:\n%s", maskedCaller, logs)
	}
}

// keys returns the signing keys, none for an unsigned channel.
func (s *Signature) keys() []string {
	if s == nil {
		return nil
	}
	return s.Keys
}
