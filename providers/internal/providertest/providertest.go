// Package providertest holds test doubles shared by the provider packages'
// tests: Handler, a recording stand-in for dialog.Handler (the engine,
// which lives in another package), LogBuffer, a log sink safe for
// concurrent writers, and SMSCentre, a receiver of the signed SMS posts.
package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

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

// Contexts returns a copy of the contexts the Turns came with, in order.
func (h *Handler) Contexts() []context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]context.Context(nil), h.ctxs...)
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
