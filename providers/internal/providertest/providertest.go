// Package providertest holds test doubles shared by the provider packages'
// tests: Handler, a recording stand-in for dialog.Handler (the engine,
// which lives in another package), and LogBuffer, a log sink safe for
// concurrent writers.
package providertest

import (
	"bytes"
	"context"
	"sync"

	"github.com/tikasetu/tikasetu/dialog"
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
