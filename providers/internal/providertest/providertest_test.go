package providertest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

type ctxKey struct{}

func TestHandlerAnswers(t *testing.T) {
	errDown := errors.New("store down")
	cases := []struct {
		name      string
		h         *Handler
		wantReply dialog.Reply
		wantErr   error
	}{
		{"zero value", &Handler{}, dialog.Reply{}, nil},
		{"reply", &Handler{Reply: dialog.Reply{Text: "ok", End: true}}, dialog.Reply{Text: "ok", End: true}, nil},
		{"error", &Handler{Err: errDown}, dialog.Reply{}, errDown},
		{"fn wins over reply and error", &Handler{
			Reply: dialog.Reply{Text: "unused"},
			Err:   errDown,
			Fn: func(_ context.Context, t dialog.Turn) (dialog.Reply, error) {
				return dialog.Reply{Text: "echo " + t.Input}, nil
			},
		}, dialog.Reply{Text: "echo 1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.h.Handle(context.Background(), dialog.Turn{Input: "1"})
			if got != tc.wantReply || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Handle = %+v, %v; want %+v, %v", got, err, tc.wantReply, tc.wantErr)
			}
		})
	}
}

func TestHandlerRecords(t *testing.T) {
	var h Handler
	if c, x := h.Calls(), h.Contexts(); len(c) != 0 || len(x) != 0 {
		t.Fatalf("fresh handler recorded %d turns, %d contexts", len(c), len(x))
	}
	inputs := []string{"", "1", "2"}
	for i, in := range inputs {
		ctx := context.WithValue(context.Background(), ctxKey{}, i)
		if _, err := h.Handle(ctx, dialog.Turn{Session: "s", Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	calls, ctxs := h.Calls(), h.Contexts()
	if len(calls) != len(inputs) || len(ctxs) != len(inputs) {
		t.Fatalf("recorded %d turns, %d contexts; want %d each", len(calls), len(ctxs), len(inputs))
	}
	for i, in := range inputs {
		if calls[i].Input != in {
			t.Errorf("turn %d input = %q, want %q", i, calls[i].Input, in)
		}
		if v := ctxs[i].Value(ctxKey{}); v != i {
			t.Errorf("context %d carries %v, want %d", i, v, i)
		}
	}

	// The copies are the caller's: changing them leaves the record alone.
	calls[0].Input = "changed"
	ctxs[0] = nil
	if h.Calls()[0].Input != "" || h.Contexts()[0] == nil {
		t.Error("Calls or Contexts returned the handler's own slice")
	}
}

func TestHandlerConcurrent(t *testing.T) {
	h := &Handler{Reply: dialog.Reply{Text: "ok"}}
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := h.Handle(context.Background(), dialog.Turn{}); err != nil {
				t.Error(err)
			}
			_ = h.Calls()
			_ = h.Contexts()
		})
	}
	wg.Wait()
	if got := len(h.Calls()); got != n {
		t.Fatalf("recorded %d turns, want %d", got, n)
	}
}

func TestLogBuffer(t *testing.T) {
	var buf LogBuffer
	if s := buf.String(); s != "" {
		t.Fatalf("zero LogBuffer holds %q", s)
	}
	log := slog.New(slog.NewTextHandler(&buf, nil))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			log.Info("turn handled", "provider", "test")
			_ = buf.String()
		})
	}
	wg.Wait()
	out := buf.String()
	if got := strings.Count(out, "msg=\"turn handled\" provider=test\n"); got != n {
		t.Fatalf("%d whole log lines, want %d:\n%s", got, n, out)
	}
}
