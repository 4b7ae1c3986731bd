package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// newOTP returns 6 uniform decimal digits from crypto/rand.
func newOTP() string { return randDigits(6, false) }

// Issue creates a fresh 6-digit code for r.To, stores only its keyed hash
// with an absolute expiry (from Config.Clock) and returns it for sending. A
// new code replaces any earlier one and clears a lock. The budgets are
// checked first, so that a refused request leaves the number's code and
// cool-down alone: *dialog.OTPBudgetError when OTPRate or OTPProviderRate
// codes were issued this second, or when r.Caller asked codes for more
// than OTPOthersHourly (OTPOthersDaily) numbers other than their own in the
// last hour (day); *dialog.OTPLimitError
// during the number's resend cool-down and when OTPHourlyCap codes were
// issued for it in the rolling OTPWindow.
func (s *Store) Issue(ctx context.Context, r dialog.OTPRequest) (string, error) {
	msisdn := r.To
	if err := checkMsisdn(msisdn); err != nil {
		return "", err
	}
	if err := s.otpRate(ctx, r.Provider); err != nil {
		return "", err
	}
	if err := s.otherNumberBudget(ctx, r); err != nil {
		return "", err
	}
	code := newOTP()
	now := s.now().UnixMilli()
	res, err := s.run(ctx, scriptOTPIssue,
		[]string{otpKey(msisdn), otpLogKey(msisdn)},
		now, s.otpHash(msisdn, code),
		s.cfg.OTPValidity.Milliseconds(), s.cfg.OTPCooldown.Milliseconds(),
		s.cfg.OTPWindow.Milliseconds(), s.cfg.OTPHourlyCap,
		strconv.FormatInt(now, 10)+":"+newToken()).Int64Slice()
	if err != nil {
		return "", wrap("issue otp", err)
	}
	if len(res) != 4 {
		return "", fmt.Errorf("store: issue otp: unexpected reply %v", res)
	}
	if res[0] != 1 {
		return "", &dialog.OTPLimitError{
			RetryAfter: time.Duration(res[1]) * time.Millisecond,
			Hourly:     res[2] == 1,
			Live:       res[3] == 1,
		}
	}
	return code, nil
}

// Verify checks code for msisdn and records the outcome in one script
// (otp_verify.lua), so that concurrent tries are each counted. Errors:
// *dialog.OTPWrongError, dialog.ErrOTPLocked, dialog.ErrOTPExpired.
func (s *Store) Verify(ctx context.Context, msisdn, code string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	r, err := s.run(ctx, scriptOTPVerify, []string{otpKey(msisdn)},
		s.otpHash(msisdn, code), s.now().UnixMilli(), s.cfg.OTPMaxTries).Int64()
	switch {
	case err != nil:
		return wrap("verify otp", err)
	case r == 0:
		return nil
	case r == -1:
		return dialog.ErrOTPLocked
	case r == -2:
		return dialog.ErrOTPExpired
	}
	return &dialog.OTPWrongError{Left: int(r)}
}

// MarkUndelivered records that the SMS carrying msisdn's outstanding code
// failed, so that the OTP screen can say so and a new code needs no
// cool-down. Without an outstanding code it does nothing.
func (s *Store) MarkUndelivered(ctx context.Context, msisdn string) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	if err := s.run(ctx, scriptOTPUndelivered, []string{otpKey(msisdn)}).Err(); err != nil {
		return wrap("mark otp undelivered", err)
	}
	return nil
}

// Remember records for ttl (from Config.Clock) that msisdn passed a code.
func (s *Store) Remember(ctx context.Context, msisdn string, ttl time.Duration) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	if ttl <= 0 {
		return errors.New("store: remember verified number: ttl must be positive")
	}
	until := s.now().Add(ttl).UnixMilli()
	set := redis.NewStatusCmd(ctx, "set", verifiedKey(msisdn), until, "px", max(1, ttl.Milliseconds()))
	return wrap("remember verified number", s.send(ctx, set))
}

// Remembered reports whether msisdn passed a code within the ttl Remember
// was given.
func (s *Store) Remembered(ctx context.Context, msisdn string) (bool, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return false, err
	}
	get := redis.NewStringCmd(ctx, "get", verifiedKey(msisdn))
	err := s.send(ctx, get)
	if err == nil {
		var until int64
		if until, err = get.Int64(); err == nil {
			return s.now().UnixMilli() < until, nil
		}
	}
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return false, wrap("verified number", err)
}

// Undelivered reports whether msisdn's outstanding code was reported not
// delivered.
func (s *Store) Undelivered(ctx context.Context, msisdn string) (bool, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return false, err
	}
	get := redis.NewStringCmd(ctx, "hget", otpKey(msisdn), "undelivered")
	if err := s.send(ctx, get); err != nil && !errors.Is(err, redis.Nil) {
		return false, wrap("otp delivery", err)
	}
	return get.Val() == "1", nil
}

// otherNumberBudget counts r.To against r.Caller's budget of numbers other
// than their own.
func (s *Store) otherNumberBudget(ctx context.Context, r dialog.OTPRequest) error {
	if r.Caller == "" || r.Caller == r.To {
		return nil
	}
	if err := checkMsisdn(r.Caller); err != nil {
		return err
	}
	res, err := s.run(ctx, scriptOTPOthers, []string{otpOtherKey(r.Caller)},
		s.now().UnixMilli(), r.To, s.cfg.OTPOthersHourly, s.cfg.OTPOthersDaily).Int64Slice()
	if err != nil {
		return wrap("otp budget", err)
	}
	if len(res) != 3 {
		return fmt.Errorf("store: otp budget: unexpected reply %v", res)
	}
	if res[0] != 1 {
		return &dialog.OTPBudgetError{Reason: dialog.BudgetOtherNumbers, RetryAfter: time.Duration(res[1]) * time.Millisecond}
	}
	return nil
}

// otpRate counts one code against the rates of this second: the fleet's
// and the provider's.
func (s *Store) otpRate(ctx context.Context, provider string) error {
	if s.cfg.OTPRate <= 0 && s.cfg.OTPProviderRate <= 0 {
		return nil
	}
	now := s.now()
	sec := strconv.FormatInt(now.Unix(), 10)
	res, err := s.run(ctx, scriptOTPRate,
		[]string{"ts:otprate:{otprate}:" + sec, "ts:otprate:{otprate}:" + provider + ":" + sec},
		s.cfg.OTPRate, s.cfg.OTPProviderRate).Int64()
	if err != nil {
		return wrap("otp rate", err)
	}
	if res != 0 {
		next := now.Truncate(time.Second).Add(time.Second)
		return &dialog.OTPBudgetError{Reason: dialog.BudgetRate, RetryAfter: next.Sub(now)}
	}
	return nil
}
