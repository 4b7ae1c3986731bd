package dialog

import (
	"context"
	"errors"
	"sync"
	"time"
)

// A turn started from a peeked conversation (Conversations.Peek) has not
// asked the store whether its delivery was answered before, so it must not
// change anything outside the conversation: a repeated delivery would
// repeat the change. It runs on readOnly ports, whose reads pass through
// and whose writes are refused before they happen; the engine then throws
// the turn away and runs it again from a fresh Load.

// errNeedsLoad refuses a write in a turn started from a peek.
var errNeedsLoad = errors.New("dialog: a write needs a turn started from a fresh load")

// readOnly wraps the registry and the OTPs for a turn started from a peek.
type readOnly struct {
	Registry
	OTPs
	refused bool // a write was asked for: the turn must be run again
	keyword bool // by an SMS keyword, which any state may receive: not the state's write
}

func (r *readOnly) refuse() error {
	r.refused = true
	return errNeedsLoad
}

func (r *readOnly) AddBeneficiary(context.Context, string, NewBeneficiary) (Beneficiary, error) {
	return Beneficiary{}, r.refuse()
}

func (r *readOnly) Book(context.Context, BookRequest) (Appointment, error) {
	return Appointment{}, r.refuse()
}

func (r *readOnly) Cancel(context.Context, string, string, int) error { return r.refuse() }

func (r *readOnly) Issue(context.Context, OTPRequest) (string, error) { return "", r.refuse() }

func (r *readOnly) Verify(context.Context, string, string) error { return r.refuse() }

func (r *readOnly) MarkUndelivered(context.Context, string) error { return r.refuse() }

func (r *readOnly) Remember(context.Context, string, time.Duration) error { return r.refuse() }

// stateSet is a set of state names, safe for concurrent use.
type stateSet struct{ m sync.Map }

func (s *stateSet) has(state string) bool {
	_, ok := s.m.Load(state)
	return ok
}

func (s *stateSet) add(state string) { s.m.Store(state, struct{}{}) }
