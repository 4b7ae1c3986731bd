package dialogtest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strconv"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// otpState is one number's code, as store's ts:otp and ts:otplog keep it.
type otpState struct {
	hash        []byte // of the outstanding code; nil when none
	expires     time.Time
	tries       int
	last        time.Time   // when the last code was issued
	locked      bool        // voided by wrong tries
	undelivered bool        // its SMS failed: a new code needs no cool-down
	issued      []time.Time // codes issued within dialog.OTPWindow
}

func codeHash(msisdn, code string) []byte {
	h := sha256.Sum256([]byte(msisdn + "\x00" + code))
	return h[:]
}

// Issue creates a 6-digit code for r.To, checking first the rates and the
// caller's budget of other numbers (*dialog.OTPBudgetError), then the
// number's cool-down and hourly cap (*dialog.OTPLimitError).
func (s *Store) Issue(_ context.Context, r dialog.OTPRequest) (string, error) {
	if err := checkMsisdn(r.To); err != nil {
		return "", err
	}
	defer s.lock()()
	now := s.now()
	if err := s.countRate(now, r.Provider); err != nil {
		return "", err
	}
	if err := s.countOtherNumber(now, r); err != nil {
		return "", err
	}
	st := s.d.otps[r.To]
	if st == nil {
		st = &otpState{}
		s.d.otps[r.To] = st
	}
	st.issued = slices.DeleteFunc(st.issued, func(t time.Time) bool { return !t.After(now.Add(-dialog.OTPWindow)) })
	live := st.hash != nil && !now.After(st.expires)
	// The cool-down holds while a code sent can still be entered, and
	// after one was voided; a used or expired code leaves none.
	var wait time.Duration
	hourly := false
	if (live || st.locked) && !st.last.IsZero() && now.Sub(st.last) < dialog.OTPCooldown && !st.undelivered {
		wait = st.last.Add(dialog.OTPCooldown).Sub(now)
	}
	if len(st.issued) >= dialog.OTPHourlyCap {
		if w := st.issued[0].Add(dialog.OTPWindow).Sub(now); w > wait {
			wait, hourly = w, true
		}
	}
	if wait > 0 {
		return "", &dialog.OTPLimitError{RetryAfter: wait, Hourly: hourly, Live: live && !st.locked}
	}
	code := randomDigits(6)
	st.hash, st.expires, st.tries, st.last = codeHash(r.To, code), now.Add(dialog.OTPValidity), 0, now
	st.locked, st.undelivered = false, false
	st.issued = append(st.issued, now)
	return code, nil
}

// countRate counts one code against this second's rates.
func (s *Store) countRate(now time.Time, provider string) error {
	if s.cfg.OTPRate <= 0 && s.cfg.OTPProviderRate <= 0 {
		return nil
	}
	sec := strconv.FormatInt(now.Unix(), 10)
	all, one := sec, provider+":"+sec
	if s.cfg.OTPRate > 0 && s.d.rates[all] >= s.cfg.OTPRate ||
		s.cfg.OTPProviderRate > 0 && s.d.rates[one] >= s.cfg.OTPProviderRate {
		return &dialog.OTPBudgetError{Reason: dialog.BudgetRate, RetryAfter: now.Truncate(time.Second).Add(time.Second).Sub(now)}
	}
	s.d.rates[all]++
	s.d.rates[one]++
	return nil
}

// countOtherNumber counts r.To against r.Caller's budget of numbers other
// than their own: a number asked for within the hour is free again; a new
// one counts against dialog.OTPOthersHourly and dialog.OTPOthersDaily.
func (s *Store) countOtherNumber(now time.Time, r dialog.OTPRequest) error {
	if r.Caller == "" || r.Caller == r.To {
		return nil
	}
	if err := checkMsisdn(r.Caller); err != nil {
		return err
	}
	asked := s.d.others[r.Caller]
	if asked == nil {
		asked = map[string]time.Time{}
		s.d.others[r.Caller] = asked
	}
	var today, thisHour []time.Time
	for n, t := range asked {
		if !t.After(now.Add(-24 * time.Hour)) {
			delete(asked, n)
			continue
		}
		today = append(today, t)
		if t.After(now.Add(-time.Hour)) {
			thisHour = append(thisHour, t)
		}
	}
	seen, ok := asked[r.To]
	if ok && seen.After(now.Add(-time.Hour)) {
		return nil
	}
	refuse := func(oldest time.Time, within time.Duration) error {
		return &dialog.OTPBudgetError{Reason: dialog.BudgetOtherNumbers, RetryAfter: oldest.Add(within).Sub(now)}
	}
	if !ok && len(today) >= dialog.OTPOthersDaily {
		return refuse(slices.MinFunc(today, time.Time.Compare), 24*time.Hour)
	}
	if len(thisHour) >= dialog.OTPOthersHourly {
		return refuse(slices.MinFunc(thisHour, time.Time.Compare), time.Hour)
	}
	asked[r.To] = now
	return nil
}

// Verify checks code: nil (and the code is used), *dialog.OTPWrongError,
// dialog.ErrOTPLocked or dialog.ErrOTPExpired.
func (s *Store) Verify(_ context.Context, msisdn, code string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	defer s.lock()()
	st := s.d.otps[msisdn]
	switch {
	case st != nil && st.locked:
		return dialog.ErrOTPLocked
	case st == nil || st.hash == nil || s.now().After(st.expires):
		return dialog.ErrOTPExpired
	case subtle.ConstantTimeCompare(st.hash, codeHash(msisdn, code)) == 1:
		st.hash, st.tries = nil, 0
		return nil
	}
	st.tries++
	if st.tries >= dialog.OTPMaxTries {
		st.hash, st.locked = nil, true
		return dialog.ErrOTPLocked
	}
	return &dialog.OTPWrongError{Left: dialog.OTPMaxTries - st.tries}
}

// MarkUndelivered marks the outstanding code's SMS as failed; without an
// outstanding code it does nothing.
func (s *Store) MarkUndelivered(_ context.Context, msisdn string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	defer s.lock()()
	if st := s.d.otps[msisdn]; st != nil && st.hash != nil {
		st.undelivered = true
	}
	return nil
}

// Undelivered reports whether the mark is set; as in store, it stays until
// the next code is issued.
func (s *Store) Undelivered(_ context.Context, msisdn string) (bool, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return false, err
	}
	defer s.lock()()
	st := s.d.otps[msisdn]
	return st != nil && st.undelivered, nil
}

// Remember records for ttl (by the Clock) that msisdn passed a code.
func (s *Store) Remember(_ context.Context, msisdn string, ttl time.Duration) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	defer s.lock()()
	s.d.verified[msisdn] = s.now().Add(ttl)
	return nil
}

// Remembered reports whether msisdn passed a code within the ttl given.
func (s *Store) Remembered(_ context.Context, msisdn string) (bool, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return false, err
	}
	defer s.lock()()
	until, ok := s.d.verified[msisdn]
	return ok && s.now().Before(until), nil
}
