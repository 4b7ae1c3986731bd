package dialog

import (
	"errors"
	"strings"
)

// ErrBadMsisdn is returned for a number that is not an Indian mobile number.
var ErrBadMsisdn = errors.New("not an Indian mobile number")

// NormaliseMsisdn turns an Indian mobile number given as +91…, 91…, 0… or
// bare 10 digits (spaces and hyphens allowed) into E.164 (+91XXXXXXXXXX).
func NormaliseMsisdn(s string) (string, error) {
	if isE164(s) {
		return s, nil // every turn's number after the first normalisation
	}
	var digits [12]byte // more than 12 digits is no Indian mobile number
	n := 0
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '(' || r == ')':
		case r == '+' && n == 0:
		default:
			d, ok := digitValue(r)
			if !ok || n == len(digits) {
				return "", ErrBadMsisdn
			}
			digits[n] = byte('0' + d)
			n++
		}
	}
	d := digits[:n]
	switch {
	case n == 12 && d[0] == '9' && d[1] == '1':
		d = d[2:]
	case n == 11 && d[0] == '0':
		d = d[1:]
	}
	if len(d) != 10 || d[0] < '6' {
		return "", ErrBadMsisdn
	}
	return "+91" + string(d), nil
}

// isE164 reports whether s is already what NormaliseMsisdn returns.
func isE164(s string) bool {
	if len(s) != 13 || s[:3] != "+91" || s[3] < '6' {
		return false
	}
	for i := 3; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaskMsisdn shows only the last four digits of a number, for screens and logs:
// "+91XXXXXX3210". Anything shorter than five characters is masked whole.
func MaskMsisdn(s string) string {
	if len(s) < 5 {
		return strings.Repeat("X", len(s))
	}
	prefix := ""
	rest := s
	if strings.HasPrefix(s, "+91") {
		prefix, rest = "+91", s[3:]
	}
	return prefix + strings.Repeat("X", len(rest)-4) + rest[len(rest)-4:]
}

// digitValue maps Latin digits and those of the Indic scripts to their value.
func digitValue(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= 0x0966 && r < 0x0D80:
		// The Indic blocks, Devanagari (U+0900) to Malayalam (U+0D00), are
		// 128 code points each with the digits zero to nine at 0x66 to 0x6F:
		// Bengali and Assamese, Gurmukhi, Gujarati, Odia, Tamil, Telugu,
		// Kannada between.
		if off := (r - 0x0900) % 0x80; off >= 0x66 && off <= 0x6F {
			return int(off - 0x66), true
		}
	}
	return 0, false
}
