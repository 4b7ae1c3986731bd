package dialog

import (
	"context"
	"time"
)

// Conversations keeps each caller's conversation, keyed by the caller's mobile
// number (E.164), with a version for compare-and-set, plus the reply cache
// that makes a repeated delivery idempotent and the caller's language, which
// outlives any one conversation.
type Conversations interface {
	// Load returns the caller's stored conversation (zero Version when none),
	// the remembered language ("" when none) and, when replyKey is not
	// empty, a reply cached under it by an earlier Save.
	Load(ctx context.Context, msisdn, replyKey string) (Loaded, error)
	// Save writes c if the stored version still equals c.Version, bumping
	// it, with ttl; it keeps reply for replyKey with it in the same atomic
	// step (the Redis store among c.Replies, which it updates) and
	// remembers c.Lang. It returns ErrConflict when another turn wrote
	// first or the delivery was answered already. A c with State "" ends
	// the conversation instead, keeping its replies for Load and the next
	// conversation. The SMS the turn produced are written in the same
	// atomic step, for the outbound queue to deliver (Outbox): a save that
	// lands, lands with them, whatever becomes of this process.
	Save(ctx context.Context, c *Conversation, ttl time.Duration, replyKey string, reply Reply, sms ...SMS) error
	// Peek returns without I/O what Load would, from a copy of the
	// conversation this process saved last for msisdn, if it kept one
	// (ok false otherwise). Cached is set only when replyKey is the key of
	// that last save; an older delivery's reply is not seen, nor is a write
	// by another process, so a turn started from a peek changes nothing
	// but the conversation, and Save must refuse it (ErrConflict) when the
	// version moved on or a reply is already cached under its key. The
	// copy is the caller's (a Clone: see Conversation for what it shares).
	Peek(msisdn, replyKey string) (ld Loaded, ok bool)
}

// Loaded is what Conversations.Load returns.
type Loaded struct {
	Conversation *Conversation // nil when there is none
	Lang         string
	Cached       *Reply // non-nil when replyKey had a cached reply
	// Replies are those kept from a conversation that ended, when there is
	// no conversation now: a new one carries them (Conversation.Replies).
	Replies []KeptReply
}

// OTPRequest asks for a code.
type OTPRequest struct {
	To       string // the number the code is for and goes to (E.164)
	Caller   string // the number asking (E.164); codes for others are budgeted
	Provider string // the provider or partner the request came through
}

// The rules of codes an OTPs implementation keeps unless configured
// otherwise (the OTP SMS tells the caller the validity).
const (
	OTPValidity     = 180 * time.Second // how long a code may be used
	OTPMaxTries     = 3                 // wrong entries that void a code
	OTPCooldown     = 30 * time.Second  // between two codes for a number
	OTPHourlyCap    = 5                 // codes for a number in OTPWindow
	OTPWindow       = time.Hour         // the rolling window of the cap
	OTPOthersHourly = 3                 // numbers other than their own a caller may ask codes for, an hour
	OTPOthersDaily  = 10                // and a day
)

// OTPs issues and checks one-time passwords. Implementations keep only a
// keyed hash of each code, compare in constant time and enforce validity,
// attempt limits, resend cool-down and an hourly cap per number, a budget
// of other numbers per caller, and rates per provider and overall.
type OTPs interface {
	// Issue creates a fresh 6-digit code for r.To and returns it so that it
	// can be sent; the new code is not marked undelivered. It returns
	// *OTPLimitError when the number's cool-down or hourly cap refuses a new
	// code, *OTPBudgetError when the caller's budget of other numbers or a
	// rate does.
	Issue(ctx context.Context, r OTPRequest) (code string, err error)
	// Verify checks code. It returns nil on success (and consumes the code),
	// *OTPWrongError with attempts left, ErrOTPExpired (none or timed out) or
	// ErrOTPLocked (too many wrong tries).
	Verify(ctx context.Context, msisdn, code string) error
	// MarkUndelivered records that the SMS carrying the outstanding code
	// failed: the OTP screen then says so, and a new code needs no cool-down.
	MarkUndelivered(ctx context.Context, msisdn string) error
	// Undelivered reports whether the outstanding code was marked so.
	Undelivered(ctx context.Context, msisdn string) (bool, error)
	// Remember records that msisdn passed a code, for ttl: calls from it
	// may then skip the code. Remembered reports whether it still holds.
	Remember(ctx context.Context, msisdn string, ttl time.Duration) error
	Remembered(ctx context.Context, msisdn string) (bool, error)
}

// Registry holds centres, sessions, accounts, beneficiaries and bookings.
type Registry interface {
	// Account returns what is registered under msisdn (empty when nothing).
	Account(ctx context.Context, msisdn string) (Account, error)
	// AddBeneficiary registers a person. Errors: ErrTooManyBeneficiaries,
	// ErrDuplicateID.
	AddBeneficiary(ctx context.Context, msisdn string, b NewBeneficiary) (Beneficiary, error)
	// CentresByPin returns the centres at a PIN code, in a stable order.
	CentresByPin(ctx context.Context, pin string) ([]Centre, error)
	// Centre returns one centre by id (ErrNotFound).
	Centre(ctx context.Context, id int64) (Centre, error)
	// Seats returns live seat counts for the given sessions, in order.
	Seats(ctx context.Context, sessionIDs []string) ([]Seats, error)
	// Book takes a seat. A beneficiary who already holds an appointment for
	// that dose is rescheduled: the old seat is freed in the same step.
	// Errors: ErrFullyBooked, ErrNotFound, ErrAgeNotEligible.
	Book(ctx context.Context, r BookRequest) (Appointment, error)
	// Cancel frees the beneficiary's appointment for a dose (ErrNotFound).
	Cancel(ctx context.Context, msisdn, beneficiary string, dose int) error
}

// SMS is one outbound text message.
type SMS struct {
	To   string `json:"to"` // E.164
	Text string `json:"text"`
	Ref  string `json:"ref"` // unique id, for de-duplication at the receiver
	// Kind says what the message is (SMSKindOTP, …) and Lang its
	// language: a sender finds its registered template by them.
	Kind string `json:"kind,omitempty"`
	Lang string `json:"lang,omitempty"`
	// EntityID and TemplateID are the message's DLT registration (India's
	// principal entity id and content template id), set by the sender
	// that checked it against its template.
	EntityID   string `json:"entity_id,omitempty"`
	TemplateID string `json:"template_id,omitempty"`
}

// Kinds of SMS the journey sends, and the catalogue message of each.
const (
	SMSKindOTP       = "otp"       // sms.otp
	SMSKindSlip      = "slip"      // sms.slip
	SMSKindCancelled = "cancelled" // sms.cancelled
)

// Kinds of SMS sent outside any turn (Engine.Message), and the catalogue
// message of each: the surge queue's invitation, a seat alert, and the
// hand-off after a dropped USSD session.
const (
	SMSKindInvite  = "invite"  // sms.invite
	SMSKindAlert   = "alert"   // sms.alert
	SMSKindHandoff = "handoff" // sms.handoff
)

// Sender delivers outbound SMS (OTP codes, appointment slips). An error
// that has a method Permanent() bool returning true (the receiver refused
// the message itself, such as a malformed number) is not retried.
type Sender interface {
	Send(ctx context.Context, m SMS) error
}

// Outbox takes the SMS of a saved turn for delivery. Conversations.Save
// has already made them durable, so Deliver only hastens what the queue
// would do anyway; it must not block.
type Outbox interface {
	Deliver(caller string, sms []SMS)
	// Drain waits until every SMS handed to Deliver was sent or given
	// back to the queue (for shutdown and tests).
	Drain()
}

// Clock tells the time; tests use a fixed one.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the wall clock.
var SystemClock Clock = ClockFunc(time.Now)

// Sealer encrypts sensitive values (an ID number being entered) that the
// conversation must carry between turns, so they never rest in clear.
type Sealer interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// Handler runs one turn of a caller's conversation. The engine implements it;
// providers call it.
type Handler interface {
	Handle(ctx context.Context, t Turn) (Reply, error)
}

// Gate is a Handler that can turn a turn away before it runs: admission
// control. A provider asks Admit first, on the request's own goroutine, so
// that a caller turned away touches neither a worker goroutine nor Redis;
// Handle does both steps for callers that do not care.
type Gate interface {
	Handler
	// Admit decides without I/O, except for a new caller while a surge
	// queue is kept and it is in use (one call to place them, or to use
	// their invitation); it may wait for room, but not past ctx's
	// deadline. For a turn turned away it returns the reply to answer with
	// and false. For an admitted turn it returns the handler to run it with
	// and true; that handler must be called exactly once, as it also counts
	// the turn out.
	Admit(ctx context.Context, t Turn) (run Handler, busy Reply, ok bool)
}
