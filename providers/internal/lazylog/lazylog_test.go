package lazylog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A line through With reads exactly as one through Logger.With, whatever
// is added after.
func TestWithWritesAsLoggerWith(t *testing.T) {
	attrs := []slog.Attr{slog.String("to", "+91XXXXXX3210"), slog.String("ref", "otp-1")}
	cases := map[string]func(l *slog.Logger){
		"plain":       func(l *slog.Logger) { l.Warn("sms not sent", "tries", 2) },
		"no args":     func(l *slog.Logger) { l.Error("failed") },
		"with after":  func(l *slog.Logger) { l.With("kind", "otp").Warn("x", "n", 1) },
		"group after": func(l *slog.Logger) { l.WithGroup("g").Warn("x", "n", 1) },
		"attrs":       func(l *slog.Logger) { l.LogAttrs(context.Background(), slog.LevelWarn, "y", slog.Int("a", 1)) },
	}
	for name, write := range cases {
		for _, kind := range []string{"json", "text"} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				var lazy, eager bytes.Buffer
				base := func(b *bytes.Buffer) *slog.Logger {
					o := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
						if a.Key == slog.TimeKey {
							return slog.Attr{}
						}
						return a
					}}
					if kind == "json" {
						return slog.New(slog.NewJSONHandler(b, o))
					}
					return slog.New(slog.NewTextHandler(b, o))
				}
				write(With(base(&lazy), attrs...))
				write(base(&eager).With(attrs[0], attrs[1]))
				if lazy.String() != eager.String() || !strings.Contains(lazy.String(), "otp-1") {
					t.Errorf("lazy  %s\neager %s", lazy.String(), eager.String())
				}
			})
		}
	}
}

// Below the handler's level nothing is formatted or written.
func TestWithHonoursLevel(t *testing.T) {
	var b bytes.Buffer
	l := With(slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelWarn})), slog.String("k", "v"))
	l.Info("quiet")
	if b.Len() != 0 || l.Enabled(context.Background(), slog.LevelInfo) {
		t.Errorf("info written below warn: %q", b.String())
	}
	l.Warn("loud")
	if !strings.Contains(b.String(), `"k":"v"`) {
		t.Errorf("warn line %q lacks the attribute", b.String())
	}
}
