// Package lazylog gives a logger attributes that cost nothing until a line
// is written. slog's JSON and text handlers format the attributes of
// Logger.With at once, which on a per-message path (every SMS sent) costs
// more than the lines ever written, since most sends log nothing.
package lazylog

import (
	"context"
	"log/slog"
)

// With returns a logger that writes attrs with every line, as l.With(attrs)
// would, formatting them only for a line that is written.
func With(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	return slog.New(&handler{next: l.Handler(), attrs: attrs})
}

type handler struct {
	next  slog.Handler
	attrs []slog.Attr
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle writes r with the attributes first, where Logger.With puts them.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	all := append(append(make([]slog.Attr, 0, len(h.attrs)+len(attrs)), h.attrs...), attrs...)
	return &handler{next: h.next, attrs: all}
}

// WithGroup hands the attributes to the next handler first: they belong
// outside the group.
func (h *handler) WithGroup(name string) slog.Handler {
	return h.next.WithAttrs(h.attrs).WithGroup(name)
}
