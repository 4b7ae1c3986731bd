package deadline

import (
	"context"
	"errors"
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
