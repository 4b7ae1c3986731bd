// Package reqcheck holds the checks the providers share on what crosses
// the wire: TikaSetu's own HMAC-SHA256 signatures ("sha256=" and hex, as the
// http SMS sender and the partner routes write them) and identifiers free
// of control characters.
package reqcheck

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// SigPrefix starts every signature header value.
const SigPrefix = "sha256="

// Sign returns SigPrefix followed by the lower-case hex HMAC-SHA256, keyed
// with secret, of the parts written one after another.
func Sign(secret []byte, parts ...[]byte) string {
	return SigPrefix + hex.EncodeToString(mac(secret, parts))
}

// Verify reports whether header is Sign's value for secret and parts,
// comparing in constant time. Upper-case hex is accepted; an empty secret
// verifies nothing.
func Verify(secret []byte, header string, parts ...[]byte) bool {
	if len(secret) == 0 || !strings.HasPrefix(header, SigPrefix) {
		return false
	}
	got, err := hex.DecodeString(header[len(SigPrefix):])
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, parts))
}

func mac(secret []byte, parts [][]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// Printable reports whether s is valid UTF-8 free of control characters
// (identifiers go into keys and logs, where NUL separates fields).
func Printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}
