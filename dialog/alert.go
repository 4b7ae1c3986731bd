package dialog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Seat alerts: a number subscribes to a PIN code (from the PIN screen when
// it has no free seats, from Home, or by SMS: ALERT 700001) and is sent one
// SMS when seats are freed there (SeatsFreed: a calendar import, a
// cancellation), at most one a day per subscription.

// The rules of seat alerts an Alerts implementation keeps.
const (
	MaxAlerts     = 3                  // subscriptions one number may hold
	AlertLifetime = 7 * 24 * time.Hour // a subscription ends this long after it was made or renewed
)

// ErrTooManyAlerts refuses a subscription past MaxAlerts.
var ErrTooManyAlerts = errors.New("number holds the maximum of seat alerts")

// AlertSubscriber is one subscription due an alert.
type AlertSubscriber struct {
	Msisdn string // E.164
	Lang   string // the language the alert is written in
}

// Alerts keeps the numbers to tell when seats open at a PIN code.
type Alerts interface {
	// Subscribe makes or renews (AlertLifetime from now) msisdn's
	// subscription to pin, in lang. A number holds at most MaxAlerts live
	// subscriptions: another is ErrTooManyAlerts and changes nothing; a
	// renewal does not count twice and keeps the day it was last alerted.
	Subscribe(ctx context.Context, msisdn, pin, lang string) error
	// Unsubscribe ends every subscription of msisdn.
	Unsubscribe(ctx context.Context, msisdn string) error
	// Due returns the live subscribers of pin not alerted on now's
	// calendar day in India, and marks them alerted in the same atomic
	// step: two calls the same day never return one subscriber twice.
	Due(ctx context.Context, pin string, now time.Time) ([]AlertSubscriber, error)
}

// Notices queues SMS that no turn produced, durably (the store's
// EnqueueSMS); the engine then hands them to its Outbox to send at once.
type Notices interface {
	EnqueueSMS(ctx context.Context, caller string, sms ...SMS) error
}

// The seat-alert screen, its event and the options that lead there.
const (
	stAlert   = "alert"
	evAlert   = "alert"
	homeAlert = "7" // Home's option, after homeOther
	pinAlert  = "1" // the PIN screen's, after a PIN with no free seats (a PIN has 6 digits)
)

// alertCentreMax is the most of a centre's name an alert carries: its DLT
// template gives {centre} two variables of 30 characters.
const alertCentreMax = 60

// alerting reports whether seat alerts are configured.
func (tr *turn) alerting() bool { return tr.e.cfg.Alerts != nil }

// writeAlerts refuses a write to Alerts in a turn started from a peek, as
// readOnly refuses the other ports' writes: the engine then runs the turn
// again from a Load. keyword marks a write that any state may ask for
// (an SMS keyword), so that the engine does not take the state for one
// that writes.
func (tr *turn) writeAlerts(keyword bool) error {
	if ro, ok := tr.reg.(*readOnly); ok {
		ro.keyword = keyword
		return ro.refuse()
	}
	return nil
}

// subscribe subscribes the caller's number to pin and sets the notice that
// says how it went.
func (tr *turn) subscribe(pin string, keyword bool) error {
	if err := tr.writeAlerts(keyword); err != nil {
		return err
	}
	err := tr.e.cfg.Alerts.Subscribe(tr.ctx, tr.msisdn, pin, tr.lang())
	switch {
	case errors.Is(err, ErrTooManyAlerts):
		tr.notice("alert.max", "max", strconv.Itoa(MaxAlerts))
		return nil
	case err != nil:
		return fmt.Errorf("dialog: seat alert for %s: %w", MaskMsisdn(tr.msisdn), err)
	}
	tr.e.cfg.Observer.Count("alert_subscribed")
	tr.notice("alert.on", "pin", pin)
	return nil
}

// homeAlertInput takes Home's seat-alert option.
func (tr *turn) homeAlertInput() (string, error) {
	if !tr.alerting() {
		tr.notice("hint.choose", "max", homeOther)
		return "", nil
	}
	return evAlert, nil
}

func alertScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("alert.title")}, Tail: []string{tr.back()}}, nil
}

// alertInput subscribes to the PIN entered and goes Home with the outcome.
func alertInput(tr *turn) (string, error) {
	if !validPin(tr.input) {
		tr.notice("hint.pin")
		return "", nil
	}
	if err := tr.subscribe(tr.input, false); err != nil {
		return "", err
	}
	return evHome, nil
}

// pinAlertItems is the PIN screen's offer of an alert for the PIN just
// entered, when it had no free seats.
func (tr *turn) pinAlertItems() []string {
	if !tr.alerting() || tr.c.Booking.AlertPin == "" {
		return nil
	}
	return []string{pinAlert + " " + tr.text("pin.alert")}
}

// pinAlertInput takes the PIN screen's offer; ok is false when the input
// is not that option, and the offer then lapses.
func (tr *turn) pinAlertInput() (ok bool, err error) {
	pin := tr.c.Booking.AlertPin
	tr.c.Booking.AlertPin = ""
	if tr.input != pinAlert || pin == "" || !tr.alerting() {
		return false, nil
	}
	return true, tr.subscribe(pin, false)
}

// isAlertKeyword reports whether an SMS is the ALERT keyword, with or
// without its argument.
func isAlertKeyword(input string) bool {
	word, _, _ := strings.Cut(keyword(input), " ")
	return word == "ALERT"
}

// alertKeyword answers ALERT <PIN>, ALERT OFF and ALERT alone by SMS: the
// outcome as a notice over the current screen, or alone when the number
// has no conversation (none is started for it).
func (tr *turn) alertKeyword() (Reply, error) {
	// The rest, spaces dropped: "ALERT 700 001" is ALERT 700001.
	arg := strings.Join(strings.Fields(keyword(tr.input))[1:], "")
	switch {
	case arg == "OFF":
		if err := tr.writeAlerts(true); err != nil {
			return Reply{}, err
		}
		if err := tr.e.cfg.Alerts.Unsubscribe(tr.ctx, tr.msisdn); err != nil {
			return Reply{}, fmt.Errorf("dialog: end seat alerts for %s: %w", MaskMsisdn(tr.msisdn), err)
		}
		tr.notice("alert.off")
	case validPin(arg):
		if err := tr.subscribe(arg, true); err != nil {
			return Reply{}, err
		}
	default:
		tr.notice("alert.usage")
	}
	if tr.c.Version == 0 { // no stored conversation: answer, and keep none
		text := tr.c.Notice
		tr.c.State, tr.c.Notice, tr.shown = "", "", "alert_keyword"
		return Reply{Text: text, End: true}, nil
	}
	return tr.render()
}

// endAlerts ends the seat alerts of the caller's number, and of the
// account's when another, after a booking. The booking stands whatever
// happens here, so a failure is logged, not returned.
func (tr *turn) endAlerts() {
	if !tr.alerting() {
		return
	}
	numbers := []string{tr.msisdn}
	if tr.c.Account != tr.msisdn {
		numbers = append(numbers, tr.c.Account)
	}
	for _, n := range numbers {
		if err := tr.e.cfg.Alerts.Unsubscribe(tr.ctx, n); err != nil {
			tr.e.cfg.Logger.Warn("seat alerts not ended after a booking", "msisdn", MaskMsisdn(n), "err", err)
		}
	}
}

// alertCancelled tells the subscribers at the PIN code of the appointment
// of beneficiary ref, just cancelled, that a seat is free. It runs after
// the turn, on its own deadline (Engine.Drain waits for it): a caller
// waits for no one's SMS. Call it before the account copy is dropped.
func (tr *turn) alertCancelled(ref string) {
	if !tr.alerting() {
		return
	}
	a, err := tr.loadAccount()
	if err != nil {
		tr.e.cfg.Logger.Warn("seat alerts after a cancellation", "err", err)
		return
	}
	ap, ok := a.AppointmentFor(ref, bookDose)
	if !ok {
		return
	}
	e := tr.e
	ctx := context.WithoutCancel(tr.ctx)
	e.pending.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, alertTimeout)
		defer cancel()
		c, err := e.cfg.Registry.Centre(ctx, ap.CentreID)
		if err == nil {
			_, err = e.SeatsFreed(ctx, c.Pincode)
		}
		if err != nil {
			e.cfg.Logger.Warn("seat alerts after a cancellation", "centre", ap.CentreID, "err", err)
		}
	})
}

// alertTimeout bounds the alerts one cancellation sends.
const alertTimeout = 30 * time.Second

// alertSends is how many subscribers' SMS are queued at once.
const alertSends = 8

// SeatsFreed tells the subscribers of pin that seats are free there: the
// first upcoming session (from tomorrow) with a free first-dose seat at
// the PIN code names its centre and day. Each subscriber due an alert
// (Alerts.Due: once a day) gets one SMS of kind SMSKindAlert in the
// subscription's language, queued through Notices and handed to the
// Outbox. It returns how many were queued. With no free seat at pin, or
// no Alerts configured, it sends nothing and marks no one.
//
// Due marks subscribers before their SMS is queued: one that cannot be
// queued (the error says how many) is not alerted again that day.
func (e *Engine) SeatsFreed(ctx context.Context, pin string) (int, error) {
	if e.cfg.Alerts == nil {
		return 0, nil
	}
	centre, day, ok, err := e.firstFree(ctx, pin)
	if err != nil || !ok {
		return 0, err
	}
	subs, err := e.cfg.Alerts.Due(ctx, pin, e.cfg.Clock.Now())
	if err != nil {
		return 0, fmt.Errorf("dialog: seat alerts at %s: %w", pin, err)
	}
	name := Shorten(centre.Name, alertCentreMax)
	var (
		mu     sync.Mutex
		sent   int
		failed []error
	)
	var g errgroup.Group
	g.SetLimit(alertSends)
	for _, s := range subs {
		g.Go(func() error {
			sms := e.Message(s.Msisdn, s.Lang, SMSKindAlert, "centre", name, "pin", pin,
				"date", e.dayIn(s.Lang, day), "code", e.cfg.ServiceCode)
			err := e.cfg.Notices.EnqueueSMS(ctx, s.Msisdn, sms)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, fmt.Errorf("%s: %w", MaskMsisdn(s.Msisdn), err))
				return nil
			}
			e.cfg.Outbox.Deliver(s.Msisdn, []SMS{sms})
			e.cfg.Observer.Count("alert_sent")
			sent++
			return nil
		})
	}
	_ = g.Wait()
	if len(failed) > 0 {
		return sent, fmt.Errorf("dialog: seat alerts at %s: %d of %d not queued: %w", pin, len(failed), len(subs), errors.Join(failed...))
	}
	return sent, nil
}

// firstFree finds the earliest upcoming session at pin with a free
// first-dose seat: its centre and day (ok false when there is none).
func (e *Engine) firstFree(ctx context.Context, pin string) (Centre, time.Time, bool, error) {
	centres, err := e.cfg.Registry.CentresByPin(ctx, pin)
	if err != nil {
		return Centre{}, time.Time{}, false, fmt.Errorf("dialog: centres at %s: %w", pin, err)
	}
	now := e.cfg.Clock.Now().In(IST)
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, IST)
	type at struct{ centre, session int }
	var ids []string
	var where []at
	for i, c := range centres {
		for j, s := range c.Sessions {
			if !s.Date.Before(tomorrow) {
				ids = append(ids, s.ID)
				where = append(where, at{i, j})
			}
		}
	}
	if len(ids) == 0 {
		return Centre{}, time.Time{}, false, nil
	}
	seats, err := e.cfg.Registry.Seats(ctx, ids)
	if err != nil {
		return Centre{}, time.Time{}, false, fmt.Errorf("dialog: seats at %s: %w", pin, err)
	}
	best := -1
	for k, s := range seats {
		if s.Free[bookDose-1] <= 0 {
			continue
		}
		d := centres[where[k].centre].Sessions[where[k].session].Date
		if best < 0 || d.Before(centres[where[best].centre].Sessions[where[best].session].Date) {
			best = k
		}
	}
	if best < 0 {
		return Centre{}, time.Time{}, false, nil
	}
	c := centres[where[best].centre]
	return c, c.Sessions[where[best].session].Date, true, nil
}

// dayIn formats a day as the screens do in lang ("21 Sep", date.day, in
// the digits lang prints dates with), outside any turn.
func (e *Engine) dayIn(lang string, d time.Time) string {
	tr := &turn{e: e, c: &Conversation{Lang: lang}}
	return tr.dayOf(d, false)
}
