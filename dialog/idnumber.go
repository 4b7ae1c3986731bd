package dialog

import (
	"errors"
	"regexp"
	"strings"
)

// ErrBadID is returned for an ID number that is not valid for its type.
var ErrBadID = errors.New("ID number not valid for its type")

var (
	panPattern      = regexp.MustCompile(`^[A-Z]{3}P[A-Z][0-9]{4}[A-Z]$`)
	drivingPattern  = regexp.MustCompile(`^([A-Z]{2})([0-9]{2})((?:19|20)[0-9]{2})([0-9]{7})$`)
	voterPattern    = regexp.MustCompile(`^[A-Z]{3}[0-9]{7}$`)
	passportPattern = regexp.MustCompile(`^[A-Z][0-9]{7}$`)
)

// stateCodes are the state and union-territory codes used on Indian
// driving licences and vehicle registrations.
var stateCodes = map[string]bool{
	"AN": true, "AP": true, "AR": true, "AS": true, "BR": true, "CG": true, "CH": true,
	"DD": true, "DL": true, "DN": true, "GA": true, "GJ": true, "HP": true, "HR": true,
	"JH": true, "JK": true, "KA": true, "KL": true, "LA": true, "LD": true, "MH": true,
	"ML": true, "MN": true, "MP": true, "MZ": true, "NL": true, "OD": true, "OR": true,
	"PB": true, "PY": true, "RJ": true, "SK": true, "TN": true, "TR": true, "TS": true,
	"UK": true, "UA": true, "UP": true, "WB": true,
}

// NormaliseID validates an ID number for its type and returns it in
// canonical form: upper case, without spaces or hyphens, native digits as
// Latin ones.
func NormaliseID(t IDType, s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r == ' ' || r == '-' {
			continue
		}
		if d, ok := digitValue(r); ok {
			r = rune('0' + d)
		}
		b.WriteRune(r)
	}
	n := b.String()
	ok := false
	switch t {
	case IDAadhaar:
		ok = len(n) == 12 && n[0] >= '2' && allDigits(n) && verhoeffValid(n)
	case IDPAN:
		ok = panPattern.MatchString(n)
	case IDDriving:
		m := drivingPattern.FindStringSubmatch(n)
		ok = m != nil && stateCodes[m[1]] && m[2] != "00"
	case IDVoter:
		ok = voterPattern.MatchString(n)
	case IDPassport:
		ok = passportPattern.MatchString(n)
	}
	if !ok {
		return "", ErrBadID
	}
	return n, nil
}

// idSeparators drops the spaces and dashes callers type inside ID numbers.
var idSeparators = strings.NewReplacer(" ", "", "-", "")

// MaskID is the only form of an ID number ever shown or stored in clear:
// Aadhaar as "XXXX XXXX 1234", anything else with all but the last four
// characters replaced by X. Spaces and hyphens are dropped first; a number
// of 4 characters or fewer is hidden entirely.
func MaskID(t IDType, n string) string {
	r := []rune(idSeparators.Replace(n))
	if len(r) <= 4 {
		return strings.Repeat("X", len(r))
	}
	last := string(r[len(r)-4:])
	if t == IDAadhaar && len(r) == 12 {
		return "XXXX XXXX " + last
	}
	return strings.Repeat("X", len(r)-4) + last
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Verhoeff tables (dihedral group D5), as used by Aadhaar's check digit.
var (
	verhoeffD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]uint8{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// verhoeffValid reports whether a digit string ends in a valid Verhoeff check digit.
func verhoeffValid(s string) bool {
	var c uint8
	for i := 0; i < len(s); i++ {
		c = verhoeffD[c][verhoeffP[i%8][s[len(s)-1-i]-'0']]
	}
	return c == 0
}

// VerhoeffDigit returns the check digit to append to a digit string.
func VerhoeffDigit(s string) byte {
	var c uint8
	for i := 0; i < len(s); i++ {
		c = verhoeffD[c][verhoeffP[(i+1)%8][s[len(s)-1-i]-'0']]
	}
	return '0' + verhoeffInv[c]
}
