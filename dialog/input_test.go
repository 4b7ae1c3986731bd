package dialog

import (
	"errors"
	"testing"
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
