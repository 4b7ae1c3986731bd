// Package deadline runs a conversation turn for a provider under the
// channel's deadline, so that every dialect answers in time however the
// turn behaves, and reports how the turn went in one log line.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// ErrDeadline reports a handler that had not answered by the deadline.
var ErrDeadline = errors.New("handler did not answer before the deadline")

// Run calls h under a deadline that starts now, whatever the client does:
// a caller who hung up still has the turn processed consistently. The
// handler runs in its own goroutine, so that one ignoring its context still
// cannot hold the answer past the deadline; its late result is dropped (the
// engine's reply cache serves it when the same delivery is retried). A
// panic in the handler is returned as an error.
func Run(parent context.Context, h dialog.Handler, t dialog.Turn, d time.Duration) (dialog.Reply, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), d)
	defer cancel()

	type result struct {
		reply dialog.Reply
		err   error
	}
	done := make(chan result, 1) // buffered: a late handler never blocks
	go func() {
		var res result
		defer func() {
			if p := recover(); p != nil {
				res = result{err: fmt.Errorf("handler panicked: %v", p)}
			}
			done <- res
		}()
		res.reply, res.err = h.Handle(ctx, t)
	}()

	select {
	case res := <-done:
		if res.err != nil {
			return dialog.Reply{}, res.err
		}
		return res.reply, nil
	case <-ctx.Done():
		return dialog.Reply{}, ErrDeadline
	}
}

// Report logs a finished turn: a failure at Error level, a success at
// Debug level. The line's attributes are built only when it will be
// written, since this is the per-request path.
func Report(ctx context.Context, l *slog.Logger, err error, failed, served string, attrs func() []slog.Attr) {
	level, msg := slog.LevelDebug, served
	if err != nil {
		level, msg = slog.LevelError, failed
	}
	if !l.Enabled(ctx, level) {
		return
	}
	a := attrs()
	if err != nil {
		a = append(a, slog.String("err", err.Error()))
	}
	l.LogAttrs(ctx, level, msg, a...)
}
