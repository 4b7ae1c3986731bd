package deadline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
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
