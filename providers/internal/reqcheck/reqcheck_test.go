package reqcheck

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	// The value written out by hand: HMAC-SHA256 of "t.body".
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("t.body"))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign(secret, []byte("t"), []byte("."), []byte("body")); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	tests := []struct {
		name   string
		secret []byte
		header string
		parts  []string
		ok     bool
	}{
		{"good", secret, want, []string{"t.", "body"}, true},
		{"upper-case hex", secret, "sha256=" + strings.ToUpper(want[7:]), []string{"t.body"}, true},
		{"other body", secret, want, []string{"t.bodY"}, false},
		{"other secret", []byte("x"), want, []string{"t.body"}, false},
		{"empty secret", nil, Sign(nil, []byte("t.body")), []string{"t.body"}, false},
		{"no prefix", secret, want[7:], []string{"t.body"}, false},
		{"not hex", secret, "sha256=zz", []string{"t.body"}, false},
		{"cut short", secret, want[:len(want)-2], []string{"t.body"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := make([][]byte, len(tt.parts))
			for i, p := range tt.parts {
				parts[i] = []byte(p)
			}
			if got := Verify(tt.secret, tt.header, parts...); got != tt.ok {
				t.Errorf("Verify = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"ATUid_0f3a-9", true},
		{"सत्र १", true},
		{"", true},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\x7f", false},
		{"a\xffb", false},
	}
	for _, tt := range tests {
		if got := Printable(tt.s); got != tt.ok {
			t.Errorf("Printable(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}
