package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestSealer(t *testing.T) {
	a, err := NewSealer([]byte("secret A"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSealer([]byte("secret B"))
	for _, plain := range []string{"", "234567890124", "ABCPE1234F", "हिन्दी"} {
		s1, err := a.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := a.Seal(plain)
		if s1 == s2 {
			t.Errorf("%q sealed twice to the same text", plain)
		}
		if plain != "" && strings.Contains(s1, plain) {
			t.Errorf("%q visible in %q", plain, s1)
		}
		if strings.ContainsAny(s1, "+/=") || !strings.HasPrefix(s1, "v1.") {
			t.Errorf("not base64url with prefix: %q", s1)
		}
		got, err := a.Open(s1)
		if err != nil || got != plain {
			t.Errorf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
		if _, err := b.Open(s1); !errors.Is(err, ErrUnseal) {
			t.Errorf("other key opened it: %v", err)
		}
		tampered := s1[:len(s1)-2] + flip(s1[len(s1)-2]) + s1[len(s1)-1:]
		if _, err := a.Open(tampered); !errors.Is(err, ErrUnseal) {
			t.Errorf("tampered text opened: %v", err)
		}
	}
	for _, junk := range []string{"", "v1.", "v1.!!!", "v2.AAAA", "plain"} {
		if _, err := a.Open(junk); !errors.Is(err, ErrUnseal) {
			t.Errorf("Open(%q) = %v", junk, err)
		}
	}
	if _, err := NewSealer(nil); err == nil {
		t.Error("empty secret accepted")
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestKeyedHashes(t *testing.T) {
	s1 := &Store{keys: deriveKeys([]byte("one"))}
	s2 := &Store{keys: deriveKeys([]byte("two"))}
	h := s1.IDHash(dialog.IDPAN, "ABCPE1234F")
	if len(h) != 64 || h != s1.IDHash(dialog.IDPAN, "ABCPE1234F") {
		t.Errorf("IDHash not a stable hex digest: %q", h)
	}
	for name, other := range map[string]string{
		"other secret": s2.IDHash(dialog.IDPAN, "ABCPE1234F"),
		"other type":   s1.IDHash(dialog.IDPassport, "ABCPE1234F"),
		"otp key":      s1.otpHash("dialog.IDPAN", ":ABCPE1234F"),
	} {
		if other == h {
			t.Errorf("%s gives the same hash", name)
		}
	}
}

func TestRandomIdentifiers(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := newAppointmentID()
		if len(id) != 12 || strings.Trim(id, idAlphabet) != "" || seen[id] {
			t.Fatalf("appointment id %q", id)
		}
		seen[id] = true
		ref := newBeneficiaryRef()
		if len(ref) != 13 || ref[0] == '0' || strings.Trim(ref, "0123456789") != "" {
			t.Fatalf("ref %q", ref)
		}
		if c := randDigits(4, false); len(c) != 4 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
	}
	var first [10]int
	for range 9000 {
		first[newBeneficiaryRef()[0]-'0']++
	}
	for d := 1; d <= 9; d++ {
		if first[d] < 800 || first[d] > 1200 {
			t.Errorf("first digit %d: %d of 9000", d, first[d])
		}
	}
}

// The pooled MAC must give what a fresh HMAC gives, however its states are
// shared between goroutines and reused.
func TestKeyedMACReused(t *testing.T) {
	key := []byte("a derived key")
	k := newKeyedMAC(key)
	fresh := func(parts ...string) string {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write([]byte(p))
		}
		return hex.EncodeToString(m.Sum(nil))
	}
	cases := [][]string{
		{},
		{""},
		{"+919830000001"},
		{"pan", ":", "ABCPE1234F"},
		{strings.Repeat("x", 200), "y"},
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				parts := cases[(g+i)%len(cases)]
				if got, want := k.hex(parts...), fresh(parts...); got != want {
					t.Errorf("MAC of %q = %s, want %s", parts, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	// With a state at hand, a MAC allocates nothing.
	m := k.pool.New().(*macState)
	if n := testing.AllocsPerRun(100, func() { m.mac("+919830000001", "k") }); n != 0 {
		t.Errorf("a MAC allocates %v times, want 0", n)
	}
}

// A delivery's hash is the first half of its MAC in hex: the hashes kept by
// earlier versions (t, Conversation.Replies) must still match.
func TestReplyHash(t *testing.T) {
	s := &Store{keys: deriveKeys([]byte("a secret of the gateway"))}
	for _, key := range []string{"", "at\x00ATUid_1", strings.Repeat("d", 300)} {
		got := s.replyHash(key)
		if want := s.keys.reply.hex(key)[:32]; got != want {
			t.Errorf("replyHash(%q) = %s, want %s", key, got, want)
		}
	}
	if s.replyHash("a") == s.replyHash("b") {
		t.Error("two deliveries share a hash")
	}
}
