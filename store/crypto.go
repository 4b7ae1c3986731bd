package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/tikasetu/tikasetu/dialog"
)

// Key derivation labels: one key per purpose, each HMAC-SHA256(Secret, label).
const (
	labelSeal  = "tikasetu seal v1"
	labelID    = "tikasetu id v1"
	labelOTP   = "tikasetu otp v1"
	labelReply = "tikasetu reply v1"
	labelSMS   = "tikasetu sms member v1"
)

type derivedKeys struct {
	id, otp, reply, sms *keyedMAC
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func deriveKeys(secret []byte) derivedKeys {
	return derivedKeys{
		id:    newKeyedMAC(derive(secret, labelID)),
		otp:   newKeyedMAC(derive(secret, labelOTP)),
		reply: newKeyedMAC(derive(secret, labelReply)),
		sms:   newKeyedMAC(derive(secret, labelSMS)),
	}
}

// keyedMAC computes HMAC-SHA256 under one key. hmac.New pads the key and
// allocates two SHA-256 states on every call, and a turn hashes its reply
// key at least once: a pool keeps the states for reuse (Reset returns one
// to just after the key), each with a buffer its input is gathered in.
type keyedMAC struct{ pool sync.Pool }

type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte // what h.Sum writes into: a local array would escape to the heap
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := &keyedMAC{}
	k.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }
	return k
}

// sum returns the MAC of parts, concatenated.
func (k *keyedMAC) sum(parts ...string) [sha256.Size]byte {
	m := k.pool.Get().(*macState)
	out := m.mac(parts...)
	k.pool.Put(m)
	return out
}

// mac computes the MAC of parts, concatenated, with m's state.
func (m *macState) mac(parts ...string) [sha256.Size]byte {
	m.h.Reset()
	m.buf = m.buf[:0]
	for _, p := range parts {
		m.buf = append(m.buf, p...)
	}
	m.h.Write(m.buf)
	clear(m.buf) // it may hold an ID number
	m.h.Sum(m.sum[:0])
	return m.sum
}

// hex returns the MAC of parts in hex.
func (k *keyedMAC) hex(parts ...string) string {
	sum := k.sum(parts...)
	var dst [2 * sha256.Size]byte
	hex.Encode(dst[:], sum[:])
	return string(dst[:])
}

// IDHash is the keyed hash that makes an ID number unique across the system:
// hex HMAC-SHA256 over idType+":"+number, with a key derived from the secret.
func (s *Store) IDHash(t dialog.IDType, number string) string {
	return s.keys.id.hex(string(t), ":", number)
}

func (s *Store) otpHash(msisdn, code string) string {
	return s.keys.otp.hex(msisdn, code)
}

// replyHash hashes a reply key: the engine may build it from the caller's
// input, which can be an ID number or an OTP.
func (s *Store) replyHash(replyKey string) string {
	sum := s.keys.reply.sum(replyKey)
	var dst [32]byte
	hex.Encode(dst[:], sum[:16])
	return string(dst[:])
}

// ---- Sealer --------------------------------------------------------------

// Sealer encrypts short values with AES-256-GCM under a key derived from the
// secret (HMAC-SHA256(secret, "tikasetu seal v1")). Sealed text is
// "v1." + base64url(nonce ‖ ciphertext ‖ tag). It implements dialog.Sealer.
type Sealer struct {
	aead cipher.AEAD
}

var _ dialog.Sealer = (*Sealer)(nil)

const sealPrefix = "v1."

// ErrUnseal is returned by Open for text that was not sealed with this key.
var ErrUnseal = errors.New("store: cannot open sealed value")

// NewSealer derives the sealing key from secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) == 0 {
		return nil, errors.New("store: empty secret")
	}
	block, err := aes.NewCipher(derive(secret, labelSeal))
	if err != nil {
		return nil, fmt.Errorf("store: sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain with a random nonce.
func (x *Sealer) Seal(plain string) (string, error) {
	ns := x.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+x.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("store: seal: %w", err)
	}
	out := x.aead.Seal(buf, buf, []byte(plain), nil)
	return sealPrefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal produced; it returns ErrUnseal when the text was
// altered or sealed under another secret.
func (x *Sealer) Open(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return "", ErrUnseal
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < x.aead.NonceSize()+x.aead.Overhead() {
		return "", ErrUnseal
	}
	ns := x.aead.NonceSize()
	plain, err := x.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}

// Seal implements dialog.Sealer with the store's sealing key.
func (s *Store) Seal(plain string) (string, error) { return s.sealer.Seal(plain) }

// Open implements dialog.Sealer (it opens a sealed value; it does not open
// a store — see the package function Open).
func (s *Store) Open(sealed string) (string, error) { return s.sealer.Open(sealed) }

// ---- random identifiers --------------------------------------------------

// randBytes fills b from crypto/rand; crypto/rand.Read never fails on
// supported platforms (it panics rather than return short), so no error.
func randBytes(b []byte) {
	_, _ = rand.Read(b)
}

// randDigits returns n decimal digits, each uniform (bytes ≥ 250 are
// rejected so that b%10 has no bias). When nonZeroFirst, the first digit is
// 1–9, uniform (bytes ≥ 252 rejected, b%9+1).
func randDigits(n int, nonZeroFirst bool) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		randBytes(buf[:])
		for _, b := range buf {
			if len(out) == n {
				break
			}
			if nonZeroFirst && len(out) == 0 {
				if b < 252 {
					out = append(out, '1'+b%9)
				}
				continue
			}
			if b < 250 {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out)
}

// idAlphabet has 32 symbols (no 0/O, 1/I), so b&31 is uniform.
const idAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newAppointmentID returns 12 symbols of idAlphabet: 60 random bits.
func newAppointmentID() string {
	var b [12]byte
	randBytes(b[:])
	for i := range b {
		b[i] = idAlphabet[b[i]&31]
	}
	return string(b[:])
}

// newBeneficiaryRef returns a 13-digit reference number (first digit 1–9),
// like Co-WIN's beneficiary reference id. Uniqueness is enforced by a claim
// on ts:ref:{ref}.
func newBeneficiaryRef() string { return randDigits(13, true) }

// newToken returns 16 hex characters identifying one seat hold.
func newToken() string {
	var b [8]byte
	randBytes(b[:])
	return hex.EncodeToString(b[:])
}

// smsMember names a queued SMS in the queue's listing: its ref and its
// caller's number, masked with a pad keyed on the ref (refs are unique),
// so that the listing holds no number in clear yet is the same whoever
// computes it.
func (s *Store) smsMember(caller, ref string) string {
	pad := s.keys.sms.sum(ref)
	b := []byte(caller)
	for i, p := range pad[:min(len(b), sha256.Size)] {
		b[i] ^= p
	}
	return ref + " " + hex.EncodeToString(b)
}

// smsCaller reads the ref and caller out of a listing's member.
func (s *Store) smsCaller(member string) (caller, ref string, ok bool) {
	ref, masked, ok := strings.Cut(member, " ")
	if !ok {
		return "", "", false
	}
	b, err := hex.DecodeString(masked)
	if err != nil || len(b) > sha256.Size {
		return "", "", false
	}
	pad := s.keys.sms.sum(ref)
	for i, p := range pad[:len(b)] {
		b[i] ^= p
	}
	return string(b), ref, checkMsisdn(string(b)) == nil
}
