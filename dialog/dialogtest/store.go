// Package dialogtest runs the dialog engine without Redis. Store is an
// in-memory implementation of the engine's storage ports (Conversations,
// OTPs, Registry, Sealer) and Alerts of its seat alerts, with the same
// observable behaviour as package store; Notices keeps the SMS queued
// outside turns; SMSLog records the SMS the engine sends; Clock is a clock
// tests move by hand.
//
// RunPorts runs a behavioural suite of the ports, seat alerts included, on
// this package and, in store's tests, on Redis (a server, miniredis and a
// cluster): it is the evidence that the two behave alike. RunTranscripts replays the journey transcripts kept as
// JSON (dialog/testdata/transcripts) on any Backend, so that the same
// files check the engine on both.
//
// One difference is deliberate: a conversation and its cached replies
// expire when the Clock passes their ttl, whereas Redis counts its own
// time, so that on store a hand-moved clock never expires them.
package dialogtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// Config configures a Store. Zero values take store's defaults.
type Config struct {
	Clock            dialog.Clock // default dialog.SystemClock
	MaxBeneficiaries int          // default dialog.DefaultMaxBeneficiaries
	// OTPRate is the most codes issued a second, and OTPProviderRate the
	// most through one provider (0: no limit).
	OTPRate, OTPProviderRate int
}

// Store's fixed settings: the OTP rules are dialog's; these two are
// store's defaults (store.DefaultRecentFor, store.DefaultConversationTTL),
// which this package cannot import, as store's own tests import it.
const (
	recentFor  = 2 * time.Minute // how long Peek serves a kept copy
	defaultTTL = 30 * time.Minute
)

// Store keeps everything in memory. It is safe for concurrent use. Several
// Stores made by Gateway share one set of data, as gateways share Redis,
// each with its own Peek memory.
type Store struct {
	cfg  Config
	d    *data
	peek *peekMemory
}

// data is what Redis would hold, behind one lock: every method is one
// atomic step, as each of store's scripts is.
type data struct {
	mu sync.Mutex

	convs    map[string]storedConv // caller → conversation
	replies  map[string]storedReply
	langs    map[string]string // caller → remembered language
	otps     map[string]*otpState
	others   map[string]map[string]time.Time // caller → other number → when asked
	rates    map[string]int                  // "<unix second>" and "<provider>:<unix second>" → codes
	verified map[string]time.Time            // number → remembered until
	sealed   map[string]string               // sealed token → plain
	ids      map[string]string               // "<type>:<number>" → account
	refs     map[string]bool                 // beneficiary refs in use
	bens     map[string][]benRecord          // account → people, in registration order
	appts    map[string]map[string][]byte    // account → "<ref>:<dose>" → appointment JSON
	centres  map[int64][]byte                // centre JSON
	seats    map[string]*sessionSeats
}

// New returns an empty Store.
func New(cfg Config) *Store {
	if cfg.Clock == nil {
		cfg.Clock = dialog.SystemClock
	}
	if cfg.MaxBeneficiaries <= 0 {
		cfg.MaxBeneficiaries = dialog.DefaultMaxBeneficiaries
	}
	d := &data{
		convs: map[string]storedConv{}, replies: map[string]storedReply{}, langs: map[string]string{},
		otps: map[string]*otpState{}, others: map[string]map[string]time.Time{}, rates: map[string]int{},
		verified: map[string]time.Time{}, sealed: map[string]string{},
		ids: map[string]string{}, refs: map[string]bool{}, bens: map[string][]benRecord{},
		appts: map[string]map[string][]byte{}, centres: map[int64][]byte{}, seats: map[string]*sessionSeats{},
	}
	return &Store{cfg: cfg, d: d, peek: newPeekMemory()}
}

// Gateway returns another process's view of the same data: what it saves,
// the other sees, but each Peeks only at its own saves.
func (s *Store) Gateway() *Store {
	return &Store{cfg: s.cfg, d: s.d, peek: newPeekMemory()}
}

// Compile-time checks that Store implements the ports.
var (
	_ dialog.Conversations = (*Store)(nil)
	_ dialog.OTPs          = (*Store)(nil)
	_ dialog.Registry      = (*Store)(nil)
	_ dialog.Sealer        = (*Store)(nil)
)

func (s *Store) now() time.Time { return s.cfg.Clock.Now() }

// lock takes the data's lock; the caller defers the returned unlock.
func (s *Store) lock() func() {
	s.d.mu.Lock()
	return s.d.mu.Unlock
}

// checkMsisdn refuses what is not E.164, as store does.
func checkMsisdn(m string) error {
	if len(m) < 2 || !strings.HasPrefix(m, "+") || strings.ContainsAny(m, "{}") {
		return fmt.Errorf("dialogtest: invalid msisdn %q: want E.164", dialog.MaskMsisdn(m))
	}
	return nil
}

// ErrUnseal is returned by Open for text that Seal did not produce here.
var ErrUnseal = errors.New("dialogtest: cannot open sealed value")

// Seal keeps plain in the Store's data and returns a token for it, so that
// the value never rests in the conversation in clear.
func (s *Store) Seal(plain string) (string, error) {
	defer s.lock()()
	token := "sealed-" + randomDigits(16)
	s.d.sealed[token] = plain
	return token, nil
}

// Open returns what Seal was given for sealed.
func (s *Store) Open(sealed string) (string, error) {
	defer s.lock()()
	plain, ok := s.d.sealed[sealed]
	if !ok {
		return "", ErrUnseal
	}
	return plain, nil
}

// roundTrip passes v through JSON, as a value stored in Redis does: a field
// JSON does not carry is lost here too, and the copy shares no memory.
func roundTrip[T any](v T) T {
	var out T
	mustUnmarshal(mustMarshal(v), &out)
	return out
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("dialogtest: " + err.Error())
	}
	return b
}

func mustUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic("dialogtest: " + err.Error())
	}
}
