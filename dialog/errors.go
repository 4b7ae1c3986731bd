package dialog

import (
	"errors"
	"fmt"
	"time"
)

// Errors the stores return, which the conversation turns into screens.
var (
	ErrConflict             = errors.New("conversation changed by another turn")
	ErrNotFound             = errors.New("not found")
	ErrTooManyBeneficiaries = errors.New("account has the maximum number of people")
	ErrDuplicateID          = errors.New("ID number already registered")
	ErrFullyBooked          = errors.New("session fully booked")
	ErrAgeNotEligible       = errors.New("age does not fit the session")
	ErrOTPExpired           = errors.New("no valid code: expired or never sent")
	ErrOTPLocked            = errors.New("code voided after too many wrong tries")
)

// OTPWrongError is a wrong code with Left attempts remaining.
type OTPWrongError struct{ Left int }

func (e *OTPWrongError) Error() string { return fmt.Sprintf("wrong code, %d tries left", e.Left) }

// OTPLimitError refuses a new code: RetryAfter says when one may be issued.
// Hourly is true when the hourly cap (not the resend cool-down) refused it.
// Live is true when a code sent earlier can still be entered.
type OTPLimitError struct {
	RetryAfter time.Duration
	Hourly     bool
	Live       bool
}

func (e *OTPLimitError) Error() string {
	if e.Hourly {
		return fmt.Sprintf("hourly code limit reached, retry after %s", e.RetryAfter)
	}
	return fmt.Sprintf("resend cool-down, retry after %s", e.RetryAfter)
}

// OTPBudgetError refuses a code on behalf of the caller rather than of
// the number: Reason is "other_numbers" (the caller asked codes for too
// many numbers other than their own) or "rate" (too many codes are going
// out through the provider or overall). RetryAfter is a hint.
type OTPBudgetError struct {
	Reason     string
	RetryAfter time.Duration
}

func (e *OTPBudgetError) Error() string {
	return fmt.Sprintf("code refused (%s), retry after %s", e.Reason, e.RetryAfter)
}

// Reasons of OTPBudgetError.
const (
	BudgetOtherNumbers = "other_numbers"
	BudgetRate         = "rate"
)
