package dialogtest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestPorts runs the suite on the in-memory ports; store's tests run it on
// Redis.
func TestPorts(t *testing.T) { RunPorts(t, Memory) }

// Broken ports, each wrong in one way the engine would notice.
type (
	neverLocks  struct{ dialog.OTPs }          // wrong tries never void a code
	noCooldown  struct{ dialog.OTPs }          // a new code whenever asked
	blindSaves  struct{ dialog.Conversations } // saves whatever the version
	noPeeks     struct{ dialog.Conversations } // keeps no copies
	noMaxPeople struct{ dialog.Registry }      // registers a fifth person
	keepsSeats  struct{ dialog.Registry }      // a cancel frees nothing
)

func (b neverLocks) Verify(ctx context.Context, m, code string) error {
	if err := b.OTPs.Verify(ctx, m, code); !errors.Is(err, dialog.ErrOTPLocked) {
		return err
	}
	return &dialog.OTPWrongError{Left: 1}
}

func (b noCooldown) Issue(ctx context.Context, r dialog.OTPRequest) (string, error) {
	code, err := b.OTPs.Issue(ctx, r)
	var limit *dialog.OTPLimitError
	if errors.As(err, &limit) {
		return "123456", nil
	}
	return code, err
}

func (b blindSaves) Save(ctx context.Context, c *dialog.Conversation, ttl time.Duration, key string, r dialog.Reply, sms ...dialog.SMS) error {
	l, err := b.Load(ctx, c.Msisdn, "")
	if err != nil {
		return err
	}
	c.Version = 0
	if l.Conversation != nil {
		c.Version = l.Conversation.Version
	}
	return b.Conversations.Save(ctx, c, ttl, "", r, sms...)
}

func (noPeeks) Peek(string, string) (dialog.Loaded, bool) { return dialog.Loaded{}, false }

func (b noMaxPeople) AddBeneficiary(ctx context.Context, m string, nb dialog.NewBeneficiary) (dialog.Beneficiary, error) {
	ben, err := b.Registry.AddBeneficiary(ctx, m, nb)
	if errors.Is(err, dialog.ErrTooManyBeneficiaries) {
		return dialog.Beneficiary{Ref: "9999999999999", Name: nb.Name}, nil
	}
	return ben, err
}

func (keepsSeats) Cancel(context.Context, string, string, int) error { return nil }

// Broken Alerts, each wrong in one way a subscriber would notice.
type (
	noAlertMax  struct{ dialog.Alerts } // a fourth subscription is kept
	neverMarked struct {                // Due marks no one: an alert on every call
		dialog.Alerts
		calls *atomic.Int64
	}
	neverEnds struct{ dialog.Alerts } // subscriptions outlive seven days
	utcDays   struct{ dialog.Alerts } // the day is UTC's
	keepsAll  struct{ dialog.Alerts } // Unsubscribe ends nothing
	renewNew  struct{ *Alerts }       // a renewal forgets the day: alerted again the same day
)

func (b noAlertMax) Subscribe(ctx context.Context, m, pin, lang string) error {
	if err := b.Alerts.Subscribe(ctx, m, pin, lang); !errors.Is(err, dialog.ErrTooManyAlerts) {
		return err
	}
	return nil
}

// Due asks as of another day each time, all in the past: every live
// subscriber is due every time.
func (b neverMarked) Due(ctx context.Context, pin string, now time.Time) ([]dialog.AlertSubscriber, error) {
	return b.Alerts.Due(ctx, pin, now.AddDate(0, 0, -int(b.calls.Add(1))))
}

func (b neverEnds) Due(ctx context.Context, pin string, now time.Time) ([]dialog.AlertSubscriber, error) {
	return b.Alerts.Due(ctx, pin, now.Add(-365*24*time.Hour))
}

// Due asks as of noon in India of now's UTC day.
func (b utcDays) Due(ctx context.Context, pin string, now time.Time) ([]dialog.AlertSubscriber, error) {
	y, m, d := now.UTC().Date()
	return b.Alerts.Due(ctx, pin, time.Date(y, m, d, 12, 0, 0, 0, dialog.IST))
}

func (keepsAll) Unsubscribe(context.Context, string) error { return nil }

func (b renewNew) Subscribe(ctx context.Context, m, pin, lang string) error {
	if err := b.Alerts.Subscribe(ctx, m, pin, lang); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.byPin[pin][m]
	r.day = ""
	b.byPin[pin][m] = r
	return nil
}

// TestPortCasesCatchBrokenPorts: each case named fails on ports broken in
// the way it is about, so the suite's passing on both backends means
// something.
func TestPortCasesCatchBrokenPorts(t *testing.T) {
	cases := map[string]portCase{}
	for _, pc := range portCases() {
		cases[pc.Name] = pc
	}
	tests := []struct {
		broken string
		caught string // the portCase that must fail
		wrap   func(*Ports)
	}{
		{"codes never voided", "code: three wrong void it", func(p *Ports) { p.OTPs = neverLocks{p.OTPs} }},
		{"no resend cool-down", "code: resend cool-down, new code replaces", func(p *Ports) { p.OTPs = noCooldown{p.OTPs} }},
		{"no hourly cap", "code: hourly cap, rolling", func(p *Ports) { p.OTPs = noCooldown{p.OTPs} }},
		{"no compare-and-set", "conversation compare-and-set", func(p *Ports) { p.Conversations = blindSaves{p.Conversations} }},
		{"saves at once all win", "conversation saves at once: one wins", func(p *Ports) { p.Conversations = blindSaves{p.Conversations} }},
		{"no peek memory", "peek", func(p *Ports) { p.Conversations = noPeeks{p.Conversations} }},
		{"no limit of people", "beneficiaries", func(p *Ports) { p.Registry = noMaxPeople{p.Registry} }},
		{"cancel frees no seat", "booking", func(p *Ports) { p.Registry = keepsSeats{p.Registry} }},
		{"no maximum of alerts", "alert: at most three per number", func(p *Ports) { p.Alerts = noAlertMax{p.Alerts} }},
		{"alerts every time", "alert: once a day per subscription", func(p *Ports) { p.Alerts = neverMarked{p.Alerts, new(atomic.Int64)} }},
		{"alerts never end", "alert: ends after seven days", func(p *Ports) { p.Alerts = neverEnds{p.Alerts} }},
		{"alert days in UTC", "alert: the day is India's", func(p *Ports) { p.Alerts = utcDays{p.Alerts} }},
		{"unsubscribe ends nothing", "alert: unsubscribe ends them all", func(p *Ports) { p.Alerts = keepsAll{p.Alerts} }},
		{"renewal alerted again", "alert: renewal counts once, keeps the day, takes the language", func(p *Ports) { p.Alerts = renewNew{p.Alerts.(*Alerts)} }},
	}
	for _, tc := range tests {
		t.Run(tc.broken, func(t *testing.T) {
			pc, ok := cases[tc.caught]
			if !ok {
				t.Fatalf("no port case %q", tc.caught)
			}
			clock := NewClock(Start)
			o := pc.Options
			o.Clock = clock
			p := Memory(t, o)
			tc.wrap(&p)
			if err := pc.Check(context.Background(), p, clock); err == nil {
				t.Errorf("%q passes on ports with %s", tc.caught, tc.broken)
			}
		})
	}
}
