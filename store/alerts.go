package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// Seat alerts (dialog.Alerts). A number's subscriptions are kept in
// ts:alert:{alerts}:n:<msisdn> (pin → expiry), and a PIN code's
// subscribers in ts:alert:{alerts}:p:<pin> (msisdn → expiry, the day of the
// last alert, language): a subscription writes both in one script, and a
// PIN code's alerts are taken from the second alone. Every alert key
// carries the one tag {alerts}, so that those scripts hold on a Redis
// Cluster; alerts are few beside turns (a subscription, an import), so one
// slot carries them. Expiry is the store's clock, kept in the values;
// Redis's own TTL only forgets keys nobody reads any more.

func alertNumberKey(m string) string { return "ts:alert:{alerts}:n:" + m }
func alertPinKey(pin string) string  { return "ts:alert:{alerts}:p:" + pin }

// alertKeyTTL outlives every subscription in a key.
const alertKeyTTL = dialog.AlertLifetime + 24*time.Hour

var (
	scriptAlertSubscribe   = mustScript("alert_subscribe")
	scriptAlertUnsubscribe = mustScript("alert_unsubscribe")
	scriptAlertDue         = mustScript("alert_due")
)

var (
	_ dialog.Alerts  = (*Store)(nil)
	_ dialog.Notices = (*Store)(nil) // EnqueueSMS, in smsqueue.go
)

// checkPin refuses what is not a PIN code: 6 digits.
func checkPin(pin string) error {
	if len(pin) != 6 || strings.Trim(pin, "0123456789") != "" {
		return fmt.Errorf("store: invalid PIN code %q: want 6 digits", pin)
	}
	return nil
}

// Subscribe makes or renews msisdn's seat alert for pin, in lang, for
// dialog.AlertLifetime from the store's now; a number that holds
// dialog.MaxAlerts live ones gets dialog.ErrTooManyAlerts for another.
func (s *Store) Subscribe(ctx context.Context, msisdn, pin, lang string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	if err := checkPin(pin); err != nil {
		return err
	}
	now := s.now()
	n, err := s.run(ctx, scriptAlertSubscribe, []string{alertNumberKey(msisdn), alertPinKey(pin)},
		now.UnixMilli(), now.Add(dialog.AlertLifetime).UnixMilli(), pin, msisdn, lang, dialog.MaxAlerts,
		alertKeyTTL.Milliseconds()).Int64()
	if err != nil {
		return wrap("subscribe alert for "+mask(msisdn), err)
	}
	if n < 0 {
		return dialog.ErrTooManyAlerts
	}
	return nil
}

// unsubscribeTries bounds the rounds of Unsubscribe: each ends what the
// number held when it read; another round is needed only when the number
// subscribed meanwhile.
const unsubscribeTries = 5

// Unsubscribe ends every seat alert of msisdn.
func (s *Store) Unsubscribe(ctx context.Context, msisdn string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	nkey := alertNumberKey(msisdn)
	for range unsubscribeTries {
		hkeys := redis.NewStringSliceCmd(ctx, "hkeys", nkey)
		if err := s.send(ctx, hkeys); err != nil {
			return wrap("unsubscribe alerts of "+mask(msisdn), err)
		}
		pins := hkeys.Val()
		if len(pins) == 0 {
			return nil
		}
		keys := []string{nkey}
		args := []any{msisdn}
		for _, p := range pins {
			keys, args = append(keys, alertPinKey(p)), append(args, p)
		}
		left, err := s.run(ctx, scriptAlertUnsubscribe, keys, args...).Int64()
		if err != nil {
			return wrap("unsubscribe alerts of "+mask(msisdn), err)
		}
		if left == 0 {
			return nil
		}
	}
	return fmt.Errorf("store: unsubscribe alerts of %s: still subscribing after %d rounds", mask(msisdn), unsubscribeTries)
}

// Due returns pin's live subscribers not alerted on now's day in India,
// marked alerted in the same script, in the order of their numbers.
func (s *Store) Due(ctx context.Context, pin string, now time.Time) ([]dialog.AlertSubscriber, error) {
	if err := checkPin(pin); err != nil {
		return nil, err
	}
	flat, err := s.run(ctx, scriptAlertDue, []string{alertPinKey(pin)},
		now.UnixMilli(), now.In(dialog.IST).Format("20060102")).StringSlice()
	if err != nil {
		return nil, wrap("alerts due at "+pin, err)
	}
	if len(flat)%2 != 0 {
		return nil, errors.New("store: alerts due at " + pin + ": odd reply")
	}
	out := make([]dialog.AlertSubscriber, 0, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		out = append(out, dialog.AlertSubscriber{Msisdn: flat[i], Lang: flat[i+1]})
	}
	slices.SortFunc(out, func(a, b dialog.AlertSubscriber) int { return strings.Compare(a.Msisdn, b.Msisdn) })
	return out, nil
}
