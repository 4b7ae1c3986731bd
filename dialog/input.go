package dialog

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// CleanInput makes a raw entry forgiving: it trims spaces, a trailing '#'
// and a leading '*', and turns the digits of the Indic scripts into Latin ones.
func CleanInput(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimRight(s, "#"))
	s = strings.TrimSpace(strings.TrimLeft(s, "*"))
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if d, ok := digitValue(r); ok {
			r = rune('0' + d)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// choice parses a menu entry: a small non-negative number. ok is false for
// anything else.
func choice(s string) (int, bool) {
	if s == "" || len(s) > 3 || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Errors of the name and birth-year checks.
var (
	ErrBadName = errors.New("name must be 2 to 60 letters")
	ErrBadYear = errors.New("year of birth out of range")
)

// NormaliseName checks a name as on the ID: 2–60 characters of letters in
// any script (with their combining marks), spaces, '.', '\” or '-'. Runs of
// spaces collapse to one.
func NormaliseName(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	n, letters := 0, 0
	for _, r := range s {
		n++
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
		case r == ' ' || r == '.' || r == '\'' || r == '-':
		default:
			return "", ErrBadName
		}
	}
	if n < 2 || n > 60 || letters == 0 {
		return "", ErrBadName
	}
	return s, nil
}

// ParseBirthYear accepts a 4-digit year for a person at least 18 and at most
// 120 years old in thisYear.
func ParseBirthYear(s string, thisYear int) (int, error) {
	if len(s) != 4 || !allDigits(s) {
		return 0, ErrBadYear
	}
	y, _ := strconv.Atoi(s)
	if age := thisYear - y; age < 18 || age > 120 {
		return 0, ErrBadYear
	}
	return y, nil
}
