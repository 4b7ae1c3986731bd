package dlt

import (
	"context"
	"errors"
	"log/slog"

	"github.com/tikasetu/tikasetu/dialog"
)

// GuardOptions configures Guard. The zero value is usable.
type GuardOptions struct {
	// Count counts "dlt_refused" for each message refused.
	Count func(outcome string)
	// Logger logs each refusal (default slog.Default()).
	Logger *slog.Logger
}

// RefusedError is Guard's answer to a message that does not match its
// template: it was not sent, and never will be (Permanent).
type RefusedError struct {
	Err *MatchError
}

func (e *RefusedError) Error() string { return "not sent: " + e.Err.Error() }

// Unwrap returns the *MatchError.
func (e *RefusedError) Unwrap() error { return e.Err }

// Permanent is true: the message itself is at fault, and the dispatcher
// gives it up instead of retrying.
func (e *RefusedError) Permanent() bool { return true }

// Guard returns a sender that checks each message against r before next
// sends it: a message that matches goes on with EntityID and TemplateID
// set; one that does not is refused with a *RefusedError, counted as
// "dlt_refused" and logged with its kind, language and the reason, never
// its text, number or code.
func Guard(next dialog.Sender, r *Registry, opts GuardOptions) dialog.Sender {
	if opts.Count == nil {
		opts.Count = func(string) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &guard{next: next, r: r, opts: opts}
}

type guard struct {
	next dialog.Sender
	r    *Registry
	opts GuardOptions
}

func (g *guard) Send(ctx context.Context, m dialog.SMS) error {
	id, err := g.r.Match(m)
	if err != nil {
		var me *MatchError
		if !errors.As(err, &me) {
			me = &MatchError{Kind: m.Kind, Lang: m.Lang}
		}
		g.opts.Count("dlt_refused")
		// The ref is not logged either: an OTP's ends with the number's
		// last digits.
		g.opts.Logger.Warn("sms not sent: it does not match its DLT template",
			"kind", m.Kind, "lang", m.Lang, "reason", me.Error())
		return &RefusedError{Err: me}
	}
	m.EntityID, m.TemplateID = g.r.EntityID, id
	return g.next.Send(ctx, m)
}
