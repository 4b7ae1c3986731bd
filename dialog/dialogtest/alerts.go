package dialogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// Alerts is an in-memory dialog.Alerts with the behaviour of store's: a
// number's subscriptions (pin → expiry) and each PIN code's subscribers
// (expiry, language, the day last alerted), pruned as store's scripts
// prune them. It is safe for concurrent use.
type Alerts struct {
	clock dialog.Clock

	mu       sync.Mutex
	byNumber map[string]map[string]time.Time   // msisdn → pin → expires
	byPin    map[string]map[string]alertRecord // pin → msisdn → subscription
}

type alertRecord struct {
	expires time.Time
	day     string // "20060102" in India, of the last alert; "" when none
	lang    string
}

var _ dialog.Alerts = (*Alerts)(nil)

// NewAlerts returns empty Alerts on clock (nil: dialog.SystemClock).
func NewAlerts(clock dialog.Clock) *Alerts {
	if clock == nil {
		clock = dialog.SystemClock
	}
	return &Alerts{clock: clock, byNumber: map[string]map[string]time.Time{}, byPin: map[string]map[string]alertRecord{}}
}

// errBadPin refuses a PIN code that is not 6 digits.
var errBadPin = errors.New("dialogtest: a PIN code has 6 digits")

func checkPin(pin string) error {
	if len(pin) != 6 || !allDigits(pin) {
		return fmt.Errorf("%w: %q", errBadPin, pin)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Subscribe makes or renews msisdn's subscription to pin.
func (a *Alerts) Subscribe(_ context.Context, msisdn, pin, lang string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	if err := checkPin(pin); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.clock.Now()
	held := a.byNumber[msisdn]
	live, renewal := 0, false
	for p, exp := range held {
		switch {
		case !now.Before(exp):
			delete(held, p) // ended; its PIN's record goes when Due meets it
		case p == pin:
			renewal = true
		default:
			live++
		}
	}
	if !renewal && live >= dialog.MaxAlerts {
		return dialog.ErrTooManyAlerts
	}
	if held == nil {
		held = map[string]time.Time{}
		a.byNumber[msisdn] = held
	}
	exp := now.Add(dialog.AlertLifetime)
	held[pin] = exp
	subs := a.byPin[pin]
	if subs == nil {
		subs = map[string]alertRecord{}
		a.byPin[pin] = subs
	}
	// The day of the last alert stays: a renewal is no new alert the same day.
	subs[msisdn] = alertRecord{expires: exp, day: subs[msisdn].day, lang: lang}
	return nil
}

// Unsubscribe ends every subscription of msisdn.
func (a *Alerts) Unsubscribe(_ context.Context, msisdn string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for pin := range a.byNumber[msisdn] {
		delete(a.byPin[pin], msisdn)
	}
	delete(a.byNumber, msisdn)
	return nil
}

// Due returns pin's live subscribers not alerted on now's day in India,
// marked alerted, in the order of their numbers.
func (a *Alerts) Due(_ context.Context, pin string, now time.Time) ([]dialog.AlertSubscriber, error) {
	if err := checkPin(pin); err != nil {
		return nil, err
	}
	day := now.In(dialog.IST).Format("20060102")
	a.mu.Lock()
	defer a.mu.Unlock()
	subs := a.byPin[pin]
	var out []dialog.AlertSubscriber
	for m, r := range subs {
		switch {
		case !now.Before(r.expires):
			delete(subs, m)
		case r.day != day:
			r.day = day
			subs[m] = r
			out = append(out, dialog.AlertSubscriber{Msisdn: m, Lang: r.lang})
		}
	}
	slices.SortFunc(out, func(x, y dialog.AlertSubscriber) int { return strings.Compare(x.Msisdn, y.Msisdn) })
	return out, nil
}

// Notices is a dialog.Notices that keeps the SMS queued outside turns, for
// tests to read: in memory there is no queue, and the engine hands the same
// SMS to its Outbox (an SMSLog) to send. It is safe for concurrent use.
type Notices struct {
	mu     sync.Mutex
	queued []dialog.SMS
}

var _ dialog.Notices = (*Notices)(nil)

// EnqueueSMS keeps sms, queued by caller.
func (n *Notices) EnqueueSMS(_ context.Context, caller string, sms ...dialog.SMS) error {
	if err := checkMsisdn(caller); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.queued = append(n.queued, sms...)
	return nil
}

// All returns the SMS queued so far, in order.
func (n *Notices) All() []dialog.SMS {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.queued)
}
