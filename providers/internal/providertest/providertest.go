// Package providertest is what the provider packages' tests share.
//
// RunContract is the contract every inbound channel (Africa's Talking
// USSD, Twilio SMS, partner USSD and SMS) must keep, run by each
// provider's tests through a small Channel adapter: the busy screen, the
// deadline, retried deliveries, signature refusals, refusals of malformed
// requests and logs without personal data. Rig serves a channel over real
// HTTP and records its logs and turn outcomes.
//
// The test doubles: Handler, a recording stand-in for dialog.Handler (the
// engine, which lives in another package); Gate, the engine's admission
// control turning callers away; Cache, the engine's reply cache;
// LogBuffer, a log sink safe for concurrent writers; and SMSCentre, a
// receiver of the signed SMS posts.
// WaitFor polls for a condition that another goroutine brings about.
package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// Handler stands in for the engine: it records every Turn and its context
// and answers with Fn's result when Fn is set, otherwise with Reply and Err.
// Its zero value answers an empty reply. Safe for concurrent use.
type Handler struct {
	Reply dialog.Reply
	Err   error
	Fn    func(ctx context.Context, t dialog.Turn) (dialog.Reply, error)

	mu    sync.Mutex
	turns []dialog.Turn
	ctxs  []context.Context
}

var _ dialog.Handler = (*Handler)(nil)

// Handle records t and ctx, then answers.
func (h *Handler) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	h.mu.Lock()
	h.turns = append(h.turns, t)
	h.ctxs = append(h.ctxs, ctx)
	fn := h.Fn
	h.mu.Unlock()
	if fn != nil {
		return fn(ctx, t)
	}
	return h.Reply, h.Err
}

// Calls returns a copy of the Turns handled so far, in order.
func (h *Handler) Calls() []dialog.Turn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]dialog.Turn(nil), h.turns...)
}

// Only checks that rec answered 200 and that exactly one Turn was handled,
// and returns that Turn.
func (h *Handler) Only(t testing.TB, rec *httptest.ResponseRecorder) dialog.Turn {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	calls := h.Calls()
	if len(calls) != 1 {
		t.Fatalf("handler called %d times, want 1", len(calls))
	}
	return calls[0]
}

// Contexts returns a copy of the contexts the Turns came with, in order.
func (h *Handler) Contexts() []context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]context.Context(nil), h.ctxs...)
}

// ErrNotAdmitted is Gate.Handle's answer: a provider must ask a dialog.Gate
// to Admit a turn, not Handle it.
var ErrNotAdmitted = errors.New("providertest: Gate.Handle called; a provider must ask Admit")

// Gate stands in for the engine's admission control (dialog.Gate) under a
// surge: Admit turns every turn away with Busy. Handle, which a provider
// must not call in Admit's place, fails with ErrNotAdmitted. It counts
// both. Safe for concurrent use.
type Gate struct {
	Busy dialog.Reply

	mu              sync.Mutex
	admits, handles int
}

var _ dialog.Gate = (*Gate)(nil)

// Admit turns t away with Busy.
func (g *Gate) Admit(context.Context, dialog.Turn) (dialog.Handler, dialog.Reply, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admits++
	return nil, g.Busy, false
}

// Handle fails with ErrNotAdmitted.
func (g *Gate) Handle(context.Context, dialog.Turn) (dialog.Reply, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handles++
	return dialog.Reply{}, ErrNotAdmitted
}

// Counts returns how many times Admit and Handle were called.
func (g *Gate) Counts() (admits, handles int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.admits, g.handles
}

// Cache stands in for the engine's reply cache in front of Handler: a turn
// whose Delivery it has answered before gets the same reply again without
// reaching Handler, so that a retried delivery advances nothing; a turn
// with an empty Delivery always reaches Handler, and a failed turn is not
// remembered. It records every turn's Delivery. Safe for concurrent use,
// though two copies of one delivery that arrive together may both reach
// Handler.
type Cache struct {
	Handler dialog.Handler

	mu         sync.Mutex
	replies    map[string]dialog.Reply
	deliveries []string
}

var _ dialog.Handler = (*Cache)(nil)

// Handle answers t from the cache, or from Handler.
func (c *Cache) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	c.mu.Lock()
	c.deliveries = append(c.deliveries, t.Delivery)
	r, ok := c.replies[t.Delivery]
	c.mu.Unlock()
	if ok && t.Delivery != "" {
		return r, nil
	}
	r, err := c.Handler.Handle(ctx, t)
	if err != nil || t.Delivery == "" {
		return r, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replies == nil {
		c.replies = map[string]dialog.Reply{}
	}
	c.replies[t.Delivery] = r
	return r, nil
}

// Deliveries returns the Delivery of every turn handled so far, in order.
func (c *Cache) Deliveries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.deliveries...)
}

// waitTimeout is how long WaitFor waits (a variable for its test).
var waitTimeout = 10 * time.Second

// WaitFor polls cond every few milliseconds until it holds, failing the
// test when it has not within a generous while (ten seconds); what names
// the awaited condition in the failure.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// LogBuffer is a bytes.Buffer safe for concurrent writers and readers, for
// slog output. Its zero value is ready to use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// SMSCentre stands in for a partner's SMS centre: it accepts the signed
// JSON posts of the http SMS sender, failing the test on a bad signature or
// body, and keeps what it received.
type SMSCentre struct {
	T      testing.TB
	Secret string

	mu  sync.Mutex
	got []smshttp.Payload
}

// ServeHTTP takes one post.
func (c *SMSCentre) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !smshttp.Verify([]byte(c.Secret), body, r.Header.Get(smshttp.SignatureHeader)) {
		c.T.Errorf("reply signature %q does not verify %s", r.Header.Get(smshttp.SignatureHeader), body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p smshttp.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		c.T.Errorf("reply %s: %v", body, err)
	}
	c.mu.Lock()
	c.got = append(c.got, p)
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// Received returns a copy of what arrived, oldest first.
func (c *SMSCentre) Received() []smshttp.Payload {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]smshttp.Payload(nil), c.got...)
}

// Echo answers a turn with its input, "echo <input>", ending the session
// when the input has an odd length: a reply the fuzz tests can predict.
func Echo(_ context.Context, t dialog.Turn) (dialog.Reply, error) {
	return dialog.Reply{Text: "echo " + t.Input, End: len(t.Input)%2 == 1}, nil
}
