// Package deadline runs a conversation turn for a provider under the
// channel's deadline, so that every dialect answers in time however the
// turn behaves, and reports how the turn went in one log line.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// ErrDeadline reports a handler that had not answered by the deadline.
var ErrDeadline = errors.New("handler did not answer before the deadline")

// Run calls h under a deadline d from now (up to 10 ms sooner, see
// turnContext), whatever the client does: a caller who hung up still has
// the turn processed consistently. The
// handler runs on a goroutine of its own (kept between turns: see spawn),
// so that one ignoring its context still cannot hold the answer past the
// deadline; its late result is dropped (the engine's reply cache serves it
// when the same delivery is retried). A panic in the handler is returned as
// an error.
//
// A dialog.Gate is asked first, on the calling goroutine and under the same
// deadline: a turn it turns away is answered there, without a hand-off to
// another goroutine (under a surge most requests are such turns).
func Run(parent context.Context, h dialog.Handler, t dialog.Turn, d time.Duration) (dialog.Reply, error) {
	ctx, cancel := turnContext(parent, d)
	defer cancel()
	if g, ok := h.(dialog.Gate); ok {
		run, busy, ok, err := admit(ctx, g, t)
		if err != nil {
			return dialog.Reply{}, err
		}
		if !ok {
			return busy, nil
		}
		h = run
	}

	c := calls.Get().(*call)
	c.h, c.ctx, c.t = h, ctx, t
	spawn(c.run)

	select {
	case res := <-c.done:
		c.h, c.ctx, c.t = nil, nil, dialog.Turn{}
		calls.Put(c) // only once answered: a late handler still holds its call
		if res.err != nil {
			return dialog.Reply{}, res.err
		}
		return res.reply, nil
	case <-ctx.Done():
		return dialog.Reply{}, ErrDeadline
	}
}

// Turns whose deadlines fall in the same sharedGrain share one context
// (a context of its own, with its own timer, for each turn was about 2% of
// the gateway's CPU). Its deadline is the turn's rounded down to the
// grain, never later, so only deadlines of at least minShared are shared,
// where the grain is at most a hundredth of them; shorter ones get their
// own. A shared context carries none of the request's values.
const (
	sharedGrain = 10 * time.Millisecond
	minShared   = time.Second
)

type sharedContext struct {
	slot   int64 // the deadline, in grains since epoch
	ctx    context.Context
	cancel context.CancelFunc // never called: the deadline ends the context
}

var (
	shared   atomic.Pointer[sharedContext]
	sharedMu sync.Mutex
	epoch    = time.Now() // with its monotonic reading, so that slots ignore wall-clock steps
)

// turnContext returns the context a turn of deadline d runs under.
func turnContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d < minShared {
		return context.WithTimeout(context.WithoutCancel(parent), d)
	}
	slot := int64((time.Since(epoch) + d) / sharedGrain)
	if s := shared.Load(); s != nil && s.slot == slot {
		return s.ctx, func() {}
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s := shared.Load()
	if s == nil || s.slot != slot {
		s = &sharedContext{slot: slot}
		s.ctx, s.cancel = context.WithDeadline(context.Background(), epoch.Add(time.Duration(slot)*sharedGrain))
		shared.Store(s)
	}
	return s.ctx, func() {}
}

// call is one turn handed to a worker goroutine. Calls are kept in a pool,
// with their channel and run function made once, rather than allocated on
// every turn; a call whose handler missed the deadline is left to the
// collector, since its handler may still answer into it.
type call struct {
	h    dialog.Handler
	ctx  context.Context
	t    dialog.Turn
	done chan result // buffered: a late handler never blocks
	run  func()
}

type result struct {
	reply dialog.Reply
	err   error
}

var calls = sync.Pool{New: func() any {
	c := &call{done: make(chan result, 1)}
	c.run = c.handle
	return c
}}

// handle runs the handler and answers into done, a panic as an error.
func (c *call) handle() {
	var res result
	defer func() {
		if p := recover(); p != nil {
			res = result{err: fmt.Errorf("handler panicked: %v", p)}
		}
		c.done <- res
	}()
	res.reply, res.err = c.h.Handle(c.ctx, c.t)
}

// admit asks the gate, turning a panic into an error as Run does for the
// handler: the provider then answers its busy screen, never a 5xx.
func admit(ctx context.Context, g dialog.Gate, t dialog.Turn) (run dialog.Handler, busy dialog.Reply, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("gate panicked: %v", p)
		}
	}()
	run, busy, ok = g.Admit(ctx, t)
	return run, busy, ok, nil
}

// Turns run on goroutines kept between turns. A turn's calls (engine,
// state machine, Redis client) grow a goroutine's stack to tens of
// kilobytes; a new goroutine per turn copied its stack over as it grew,
// about 5% of the gateway's CPU in a profile. A kept goroutine has its
// stack grown already.
var idle = make(chan func()) // unbuffered: a send succeeds only when a worker waits

// workerIdle is how long a kept goroutine waits for a turn before it ends
// (nanoseconds; a variable for tests).
var workerIdle atomic.Int64

func init() { workerIdle.Store(int64(10 * time.Second)) }

// spawn runs f on an idle kept goroutine, or on a new one.
func spawn(f func()) {
	select {
	case idle <- f:
	default:
		go work(f)
	}
}

func work(f func()) {
	t := time.NewTimer(time.Duration(workerIdle.Load()))
	defer t.Stop()
	for {
		f()
		t.Reset(time.Duration(workerIdle.Load()))
		select {
		case f = <-idle:
		case <-t.C:
			return
		}
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
