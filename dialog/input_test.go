package dialog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{" 1 ", "1"},
		{"1#", "1"},
		{"*1#", "1"},
		{"**98", "98"},
		{"१२", "12"},
		{"৩", "3"},
		{"राम कुमार", "राम कुमार"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CleanInput(tt.in); got != tt.want {
			t.Errorf("CleanInput(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ram  Kumar", "Ram Kumar"},
		{"D'Souza-Pinto Jr.", "D'Souza-Pinto Jr."},
		{"राम कुमार", "राम कुमार"},
		{"সুমিতা দাস", "সুমিতা দাস"},
		{"A", ""},
		{"Ram2", ""},
		{"...", ""},
		{"Ram@Kumar", ""},
		{string(make([]byte, 61)), ""},
	}
	for _, tt := range tests {
		got, err := NormaliseName(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrBadName) {
				t.Errorf("NormaliseName(%q) = %q, %v; want ErrBadName", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormaliseName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseBirthYear(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"1985", 1985},
		{"2008", 2008}, // 18 in 2026
		{"2009", 0},    // 17
		{"1906", 1906}, // 120
		{"1905", 0},    // 121
		{"85", 0},
		{"19a5", 0},
	}
	for _, tt := range tests {
		got, err := ParseBirthYear(tt.in, 2026)
		if tt.want == 0 {
			if !errors.Is(err, ErrBadYear) {
				t.Errorf("ParseBirthYear(%q) = %d, %v; want ErrBadYear", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBirthYear(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// FuzzPersonEntry reads an entry of the Add person screens as the dialog
// does, cleaned first, both as a name and as a year of birth.
func FuzzPersonEntry(f *testing.F) {
	for _, tt := range []struct {
		s    string
		year int
	}{
		{"Ram  Kumar", 2026}, {"D'Souza-Pinto Jr.", 2026}, {"राम कुमार", 2026}, {"সুমিতা দাস", 2026},
		{"A", 2026}, {"Ram2", 2026}, {"...", 2026}, {"Ram@Kumar", 2026}, {"*Ram Kumar#", 2026},
		{" \t Sita\u00a0Devi \n", 2026}, {"श्रीमती अन्नपूर्णा देवी", 2026}, {"Ram\u200dKumar", 2026},
		{strings.Repeat("a", 60), 2026}, {strings.Repeat("क", 61), 2026}, {string(make([]byte, 61)), 2026}, {"\xff\xfe", 2026},
		{"1985", 2026}, {"2008", 2026}, {"2009", 2026}, {"1906", 2026}, {"1905", 2026}, {"85", 2026}, {"19a5", 2026},
		{"१९८५", 2026}, {"*১৯৮৫#", 2026}, {"0000", 18}, {"9999", 10119}, {"+985", 2026}, {"1985", -1 << 63}, {"", 0},
	} {
		f.Add(tt.s, tt.year)
	}
	f.Fuzz(func(t *testing.T, raw string, thisYear int) {
		s := CleanInput(raw)
		if strings.TrimFunc(s, unicode.IsSpace) != s {
			t.Fatalf("CleanInput(%q) = %q, not trimmed", raw, s)
		}
		if strings.ContainsFunc(s, func(r rune) bool { _, ok := digitValue(r); return ok && r > '9' }) {
			t.Fatalf("CleanInput(%q) = %q, native digits left", raw, s)
		}
		checkName(t, s)

		// A year is accepted exactly when the entry is four Latin digits
		// (after cleaning) making someone 18 to 120.
		y, err := ParseBirthYear(s, thisYear)
		want := len(s) == 4 && strings.Trim(s, "0123456789") == ""
		if want {
			n, _ := strconv.Atoi(s)
			want = thisYear-n >= 18 && thisYear-n <= 120
		}
		switch {
		case err != nil && (want || y != 0 || !errors.Is(err, ErrBadYear)):
			t.Fatalf("ParseBirthYear(%q, %d) = %d, %v", s, thisYear, y, err)
		case err == nil && (!want || fmt.Sprintf("%04d", y) != s):
			t.Fatalf("ParseBirthYear(%q, %d) = %d, want an error", s, thisYear, y)
		}
	})
}

// checkName checks what NormaliseName makes of s.
func checkName(t *testing.T, s string) {
	t.Helper()
	n, err := NormaliseName(s)
	if err != nil {
		if n != "" || !errors.Is(err, ErrBadName) {
			t.Fatalf("NormaliseName(%q) = %q, %v; want \"\", ErrBadName", s, n, err)
		}
		return
	}
	if c := utf8.RuneCountInString(n); c < 2 || c > 60 || !utf8.ValidString(n) {
		t.Fatalf("NormaliseName(%q) = %q: %d characters", s, n, c)
	}
	if !strings.ContainsFunc(n, unicode.IsLetter) || strings.Join(strings.Fields(n), " ") != n {
		t.Fatalf("NormaliseName(%q) = %q: no letter, or stray spaces", s, n)
	}
	if strings.ContainsFunc(n, func(r rune) bool {
		return !unicode.In(r, unicode.L, unicode.Mn, unicode.Mc) && !strings.ContainsRune(" .'-", r)
	}) {
		t.Fatalf("NormaliseName(%q) = %q: a character that is not allowed", s, n)
	}
	for _, in := range []string{n, "  " + strings.ReplaceAll(n, " ", "\t ") + " "} {
		if again, err := NormaliseName(in); again != n {
			t.Fatalf("NormaliseName(%q) = %q, %v; want %q", in, again, err, n)
		}
	}
}
