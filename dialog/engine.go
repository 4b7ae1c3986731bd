package dialog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBeneficiaries is how many people one mobile number may
// register, as on Co-WIN.
const DefaultMaxBeneficiaries = 4

// Observer is told what the conversation does, for metrics.
type Observer interface {
	// Screen counts a turn answered with a screen of the given state.
	Screen(provider, state string)
	// Count counts an outcome: "registered", "booked", "cancelled",
	// "otp_sent", "otp_refused_<reason>" (cooldown, hourly, other_numbers,
	// rate), "slip_again", "alert_subscribed", "alert_sent" (seat-alert
	// SMS queued), "conflict", and the turns started from a
	// peek and run again from a Load: "peek_stale" (another turn wrote
	// first), "peek_refused" (the turn would have written).
	Count(outcome string)
}

type nopObserver struct{}

func (nopObserver) Screen(string, string) {}
func (nopObserver) Count(string)          {}

// Config wires an Engine to its stores and settings.
type Config struct {
	Conversations Conversations
	OTPs          OTPs
	Registry      Registry
	Outbox        Outbox // delivers the SMS turns saved
	Sealer        Sealer
	Clock         Clock    // default SystemClock
	Observer      Observer // default: none
	Logger        *slog.Logger

	// MaxBeneficiaries per account (default DefaultMaxBeneficiaries).
	MaxBeneficiaries int
	// USSDIdle is how long a USSD conversation is kept after its last turn:
	// the aggregator's session plus the time allowed for resuming (default
	// 13 minutes: a 3-minute session and 10 to dial back).
	USSDIdle time.Duration
	// SMSIdle is how long an SMS conversation lives idle (default 30 minutes).
	SMSIdle time.Duration
	// VerifiedFor is how long a number that passed a code may skip it when
	// it calls again on a vouched turn (0: a code every time).
	VerifiedFor time.Duration

	// Alerts keeps seat-alert subscriptions (alert.go); nil: no alert
	// options, and ALERT by SMS is ordinary input. With it, Notices queues
	// the alert SMS and ServiceCode is the USSD short code they name.
	Alerts      Alerts
	Notices     Notices
	ServiceCode string
}

// Engine runs conversations: it loads the caller's state, applies one input
// through the state machine, saves the state with compare-and-set (and with
// it the SMS the turn produced) and hands those SMS to the outbox. The
// state lives in the store; a turn may start from the copy the store kept
// of its own last write (Conversations.Peek), which the compare-and-set
// proves current or refuses.
type Engine struct {
	cfg     Config
	cat     *Catalogue
	langs   langMemo // callers' languages, for the busy screen only
	writers stateSet // states whose input may write: turns there start from a Load

	pending sync.WaitGroup // seat alerts sent after cancellations (alert.go)
}

// NewEngine checks cfg and loads the message catalogue.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.Conversations == nil || cfg.OTPs == nil || cfg.Registry == nil || cfg.Outbox == nil || cfg.Sealer == nil {
		return nil, errors.New("dialog: engine needs conversations, OTPs, registry, outbox and sealer")
	}
	if cfg.Alerts != nil && (cfg.Notices == nil || cfg.ServiceCode == "") {
		return nil, errors.New("dialog: seat alerts need notices and a service code")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBeneficiaries <= 0 {
		cfg.MaxBeneficiaries = DefaultMaxBeneficiaries
	}
	if cfg.USSDIdle <= 0 {
		cfg.USSDIdle = 13 * time.Minute
	}
	if cfg.SMSIdle <= 0 {
		cfg.SMSIdle = 30 * time.Minute
	}
	cat, err := LoadCatalogue()
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, cat: cat}, nil
}

// Catalogue returns the engine's message catalogue.
func (e *Engine) Catalogue() *Catalogue { return e.cat }

// Drain waits until every SMS that finished turns produced has been sent or
// given back to the queue (for shutdown and tests), seat alerts included.
func (e *Engine) Drain() {
	e.pending.Wait()
	e.cfg.Outbox.Drain()
}

// maxAttempts bounds retries of a turn that lost a compare-and-set race.
const maxAttempts = 3

// Handle runs one turn. A delivery seen before gets the reply it got then.
func (e *Engine) Handle(ctx context.Context, t Turn) (Reply, error) {
	msisdn, err := NormaliseMsisdn(t.Msisdn)
	if err != nil {
		return Reply{}, fmt.Errorf("dialog: caller %s: %w", MaskMsisdn(t.Msisdn), err)
	}
	replyKey := ""
	if t.Delivery != "" {
		sum := sha256.Sum256([]byte(t.Provider + "\x00" + t.Delivery))
		replyKey = hex.EncodeToString(sum[:12])
	}
	peek := true
	for attempt := 0; attempt < maxAttempts; {
		// The first try starts from the copy this process saved last, if
		// any and if the screen it shows does not write; any other try
		// from a Load, which alone counts towards maxAttempts.
		var ld Loaded
		fromPeek := false
		if peek {
			peek = false
			ld, fromPeek = e.cfg.Conversations.Peek(msisdn, replyKey)
			fromPeek = fromPeek && (ld.Conversation == nil || !e.writers.has(ld.Conversation.State))
		}
		if !fromPeek {
			attempt++
			if ld, err = e.cfg.Conversations.Load(ctx, msisdn, replyKey); err != nil {
				return Reply{}, fmt.Errorf("dialog: load %s: %w", MaskMsisdn(msisdn), err)
			}
		}
		if ld.Cached != nil {
			return *ld.Cached, nil
		}
		tr := &turn{e: e, ctx: ctx, in: t, msisdn: msisdn, now: e.cfg.Clock.Now(), reg: e.cfg.Registry, otps: e.cfg.OTPs}
		var guard *readOnly
		var peeked string // the state the peeked conversation was in
		if fromPeek {
			peeked = ld.Conversation.State
			guard = &readOnly{Registry: e.cfg.Registry, OTPs: e.cfg.OTPs}
			tr.reg, tr.otps = guard, guard
		}
		reply, err := tr.run(ld)
		if guard != nil && guard.refused {
			// This screen writes: learn it (unless a keyword wrote, which
			// any screen may receive), and run the turn from a Load.
			if !guard.keyword {
				e.writers.add(peeked)
			}
			e.cfg.Observer.Count("peek_refused")
			continue
		}
		if err != nil {
			return Reply{}, err
		}
		ttl := e.cfg.USSDIdle
		if t.Channel == SMSChannel {
			ttl = e.cfg.SMSIdle
		}
		err = e.cfg.Conversations.Save(ctx, tr.c, ttl, replyKey, reply, tr.outbox...)
		if errors.Is(err, ErrConflict) {
			if fromPeek {
				e.cfg.Observer.Count("peek_stale")
			} else {
				e.cfg.Observer.Count("conflict")
			}
			continue
		}
		if err != nil {
			return Reply{}, fmt.Errorf("dialog: save %s: %w", MaskMsisdn(msisdn), err)
		}
		e.cfg.Observer.Screen(t.Provider, tr.shown)
		e.langs.set(msisdn, tr.c.Lang)
		if len(tr.outbox) > 0 {
			e.cfg.Outbox.Deliver(msisdn, tr.outbox)
		}
		return reply, nil
	}
	return Reply{}, fmt.Errorf("dialog: %s: %w after %d attempts", MaskMsisdn(msisdn), ErrConflict, maxAttempts)
}

// OTPRefPrefix starts the Ref of every SMS that carries a code.
const OTPRefPrefix = "otp-"

// DeliveryFailed takes an SMS gateway's report that the message ref to
// number failed. A failed code is recorded so that the caller's OTP screen
// says so and offers a new code at once; other messages are only counted.
func (e *Engine) DeliveryFailed(ctx context.Context, number, ref string) error {
	e.cfg.Observer.Count("sms_undelivered")
	if !strings.HasPrefix(ref, OTPRefPrefix) {
		return nil
	}
	n, err := NormaliseMsisdn(number)
	if err != nil {
		return fmt.Errorf("dialog: undelivered code: %w", err)
	}
	if err := e.cfg.OTPs.MarkUndelivered(ctx, n); err != nil {
		return fmt.Errorf("dialog: undelivered code for %s: %w", MaskMsisdn(n), err)
	}
	return nil
}

// Message is an SMS of one of the kinds sent outside a turn (SMSKindInvite,
// SMSKindAlert, SMSKindHandoff) to number, in lang (English when empty or
// unknown), with the catalogue message's placeholders filled from args
// (name, value pairs). The caller queues it (the store's EnqueueSMS).
func (e *Engine) Message(number, lang, kind string, args ...string) SMS {
	if _, ok := LanguageByCode(lang); !ok {
		lang = "en"
	}
	return SMS{To: number, Text: e.text(lang, "sms."+kind, args...), Ref: smsRef(kind), Kind: kind, Lang: lang}
}

// smsRef makes a unique reference for an outbound SMS: the receiver
// de-duplicates retries by it, and delivery reports come back with it.
func smsRef(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// text is shorthand for a catalogue message in lang.
func (e *Engine) text(lang, key string, args ...string) string {
	return e.cat.Text(lang, key, args...)
}

// keyword upper-cases an SMS keyword candidate.
func keyword(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
