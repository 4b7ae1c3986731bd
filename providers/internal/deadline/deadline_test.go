package deadline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

type handlerFunc func(context.Context, dialog.Turn) (dialog.Reply, error)

func (f handlerFunc) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	return f(ctx, t)
}

func TestRun(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		h       handlerFunc
		want    string
		wantErr func(error) bool
	}{
		{"answers", func(context.Context, dialog.Turn) (dialog.Reply, error) { return dialog.Reply{Text: "ok"}, nil }, "ok", nil},
		{"handler error", func(context.Context, dialog.Turn) (dialog.Reply, error) { return dialog.Reply{Text: "x"}, boom },
			"", func(err error) bool { return errors.Is(err, boom) }},
		{"panic", func(context.Context, dialog.Turn) (dialog.Reply, error) { panic("bad") },
			"", func(err error) bool { return err != nil && !errors.Is(err, ErrDeadline) }},
		{"ignores its context", func(context.Context, dialog.Turn) (dialog.Reply, error) {
			<-release
			return dialog.Reply{Text: "late"}, nil
		},
			"", func(err error) bool { return errors.Is(err, ErrDeadline) }},
		{"sees the deadline", func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
			if _, ok := ctx.Deadline(); !ok {
				return dialog.Reply{}, boom
			}
			return dialog.Reply{Text: "has deadline"}, nil
		}, "has deadline", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A cancelled parent (a client that hung up) does not cut the turn short.
			parent, cancel := context.WithCancel(context.Background())
			cancel()
			r, err := Run(parent, tt.h, dialog.Turn{}, 50*time.Millisecond)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || r.Text != tt.want {
				t.Fatalf("Run = %q, %v; want %q", r.Text, err, tt.want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		level slog.Level
		err   error
		want  string // "" means nothing is written
	}{
		{"success is not written at info", slog.LevelInfo, nil, ""},
		{"success is written at debug", slog.LevelDebug, nil, "level=DEBUG msg=served msisdn=+91XXXXXX3210"},
		{"failure is written with its error", slog.LevelInfo, boom, "level=ERROR msg=failed msisdn=+91XXXXXX3210 err=boom"},
		{"failure below the level is not written", slog.LevelError + 1, boom, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level,
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}}))
			built := false
			Report(context.Background(), l, tt.err, "failed", "served", func() []slog.Attr {
				built = true
				return []slog.Attr{slog.String("msisdn", "+91XXXXXX3210")}
			})
			got := strings.TrimSpace(buf.String())
			if got != tt.want {
				t.Fatalf("logged %q, want %q", got, tt.want)
			}
			if built != (tt.want != "") {
				t.Fatalf("attributes built = %v for a line written = %v", built, tt.want != "")
			}
		})
	}
}

// gate admits turns whose input is "in" to run with run, and turns the
// rest away; Handle must not be called by Run.
type gate struct {
	asked, handled int
	noDeadline     bool // asked without the turn's deadline
	run            handlerFunc
}

func (g *gate) Handle(context.Context, dialog.Turn) (dialog.Reply, error) {
	g.handled++
	return dialog.Reply{Text: "handled without asking"}, nil
}

func (g *gate) Admit(ctx context.Context, t dialog.Turn) (dialog.Handler, dialog.Reply, bool) {
	g.asked++
	if _, ok := ctx.Deadline(); !ok {
		g.noDeadline = true
	}
	if t.Input == "panic" {
		panic("gate broken")
	}
	if t.Input != "in" {
		return nil, dialog.Reply{Text: "busy", End: true}, false
	}
	return g.run, dialog.Reply{}, true
}

func TestRunAsksTheGateFirst(t *testing.T) {
	var ran atomic.Int32 // the stalled handler runs on after Run returns
	answers := handlerFunc(func(context.Context, dialog.Turn) (dialog.Reply, error) {
		ran.Add(1)
		return dialog.Reply{Text: "ran"}, nil
	})
	stalledDone := make(chan struct{}, 1)
	stalls := handlerFunc(func(ctx context.Context, _ dialog.Turn) (dialog.Reply, error) {
		defer func() { stalledDone <- struct{}{} }()
		ran.Add(1)
		<-ctx.Done()
		return dialog.Reply{Text: "late"}, nil
	})
	isNil := func(err error) bool { return err == nil }
	tests := []struct {
		name    string
		input   string
		run     handlerFunc
		want    dialog.Reply
		wantErr func(error) bool
		ran     int32
		stalls  bool
	}{
		{"turned away: the gate's reply, nothing run", "x", answers, dialog.Reply{Text: "busy", End: true}, isNil, 0, false},
		{"admitted: the handler the gate gave runs once", "in", answers, dialog.Reply{Text: "ran"}, isNil, 1, false},
		{"admitted: still under the deadline", "in", stalls, dialog.Reply{},
			func(err error) bool { return errors.Is(err, ErrDeadline) }, 1, true},
		{"a gate that panics: an error, nothing run", "panic", answers, dialog.Reply{},
			func(err error) bool { return err != nil && !errors.Is(err, ErrDeadline) }, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran.Store(0)
			g := &gate{run: tt.run}
			r, err := Run(context.Background(), g, dialog.Turn{Input: tt.input}, 50*time.Millisecond)
			if tt.stalls {
				<-stalledDone // its worker is idle again before the next test counts goroutines
			}
			if r != tt.want || !tt.wantErr(err) {
				t.Fatalf("Run = %+v, %v; want %+v", r, err, tt.want)
			}
			if g.noDeadline {
				t.Fatal("the gate was asked without the turn's deadline")
			}
			if g.asked != 1 || g.handled != 0 || ran.Load() != tt.ran {
				t.Fatalf("gate asked %d times, its Handle called %d times, the admitted handler ran %d times; want 1, 0, %d",
					g.asked, g.handled, ran.Load(), tt.ran)
			}
		})
	}
}

// TestRunKeepsGoroutines: turns one after another run on a kept goroutine
// (rarely two or three), turns at once each get one (none waits for
// another), and kept goroutines end once idle.
func TestRunKeepsGoroutines(t *testing.T) {
	defer workerIdle.Store(workerIdle.Load())
	workerIdle.Store(int64(100 * time.Millisecond))
	// Goroutines kept by earlier tests take the short idle time and end.
	for range 100 {
		select {
		case idle <- func() {}:
		default:
		}
	}
	time.Sleep(300 * time.Millisecond)
	// settle waits, up to a second, until the goroutines are down to want.
	settle := func(want int) int {
		var n int
		for range 100 {
			if n = runtime.NumGoroutine(); n <= want {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	// The count to come back to, once it holds still: a goroutine an earlier
	// test left ending meanwhile would make it look as if one were kept.
	base := runtime.NumGoroutine()
	for still := 0; still < 5; {
		time.Sleep(20 * time.Millisecond)
		if n := runtime.NumGoroutine(); n != base {
			base, still = n, 0
		} else {
			still++
		}
	}

	ok := handlerFunc(func(context.Context, dialog.Turn) (dialog.Reply, error) { return dialog.Reply{Text: "ok"}, nil })
	for range 20 {
		if r, err := Run(context.Background(), ok, dialog.Turn{}, time.Second); err != nil || r.Text != "ok" {
			t.Fatal(r, err)
		}
	}
	time.Sleep(30 * time.Millisecond) // a goroutine per turn would have ended by now
	// Usually one goroutine is kept. A second (rarely a third) is started when
	// the next turn comes before the kept one, having answered, is back
	// waiting for work. Twenty would mean no goroutine is reused; none, that
	// none is kept.
	if kept := runtime.NumGoroutine() - base; kept < 1 || kept > 3 {
		t.Errorf("after 20 turns one after another: %d goroutines kept, want 1 to 3", kept)
	}

	const together = 5
	entered := make(chan struct{}, together)
	hold := make(chan struct{})
	held := handlerFunc(func(context.Context, dialog.Turn) (dialog.Reply, error) {
		entered <- struct{}{}
		<-hold
		return dialog.Reply{}, nil
	})
	var wg sync.WaitGroup
	for range together {
		wg.Go(func() { Run(context.Background(), held, dialog.Turn{}, time.Second) })
	}
	for i := range together {
		select {
		case <-entered:
		case <-time.After(time.Second):
			t.Fatalf("only %d of %d turns started at once", i, together)
		}
	}
	close(hold)
	wg.Wait()
	if n := settle(base); n > base {
		t.Errorf("after the idle time: %d goroutines, want at most %d", n, base)
	}
}

// TestTurnContext: turns whose deadlines fall in one grain share a context
// that ends no later than any of theirs; short deadlines get their own.
func TestTurnContext(t *testing.T) {
	for _, tt := range []struct {
		name   string
		d      time.Duration
		shared bool
	}{
		{"USSD", 1800 * time.Millisecond, true},
		{"SMS", 10 * time.Second, true},
		{"short", 50 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for {
				start := time.Now()
				a, cancelA := turnContext(context.Background(), tt.d)
				b, cancelB := turnContext(context.Background(), tt.d)
				end := time.Now()
				cancelA()
				cancelB()
				da, okA := a.Deadline()
				db, okB := b.Deadline()
				if !okA || !okB {
					t.Fatal("a turn's context has no deadline")
				}
				// Each deadline is at most the turn's own and at most a grain
				// (or, unshared, nothing) before it.
				grain := time.Duration(0)
				if tt.shared {
					grain = sharedGrain
				}
				early, late := start.Add(tt.d-grain), end.Add(tt.d)
				if da.Before(early) || da.After(late) || db.Before(early) || db.After(late) {
					t.Fatalf("deadlines %v and %v for turns started from %v to %v with %v", da, db, start, end, tt.d)
				}
				if tt.shared && !da.Equal(db) {
					continue // the two fell either side of a grain's edge: again
				}
				if (a == b) != tt.shared {
					t.Fatalf("two turns at once share a context: %v, want %v", a == b, tt.shared)
				}
				if tt.shared && a.Err() != nil {
					t.Fatalf("a shared context ended early (%v): a turn's cancel must not end it", a.Err())
				}
				if !tt.shared && a.Err() == nil {
					t.Fatal("a turn's own context lives on after its cancel")
				}
				return
			}
		})
	}
	// A shared context ends at its deadline.
	ctx, _ := turnContext(context.Background(), minShared)
	select {
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("shared context ended with %v", ctx.Err())
		}
	case <-time.After(minShared + time.Second):
		t.Error("a shared context did not end by its deadline")
	}
}
