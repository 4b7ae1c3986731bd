package dialog

import (
	"errors"
	"strings"
	"testing"
)

func TestNormaliseMsisdn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+919876543210", "+919876543210"},
		{"919876543210", "+919876543210"},
		{"09876543210", "+919876543210"},
		{"9876543210", "+919876543210"},
		{"98765 43210", "+919876543210"},
		{"+91-98765-43210", "+919876543210"},
		{"९८७६५४३२१०", "+919876543210"},
		{"৯৮৭৬৫৪৩২১০", "+919876543210"},
		{"5876543210", ""},    // mobile numbers start 6–9
		{"987654321", ""},     // 9 digits
		{"+449876543210", ""}, // not India
		{"98765x3210", ""},
		{"", ""},
		{"9+876543210", ""},
		{"+915876543210", ""},    // E.164 in form, but not a mobile number
		{"+91987654321٠", ""},    // a digit outside the scripts taken
		{"+9198765432100", ""},   // 13 digits
		{"9198765432109876", ""}, // more digits than any Indian form
		{"+91 9876543210", "+919876543210"},
		{"+९१९८७६५४३२१०", "+919876543210"},
	}
	for _, tt := range tests {
		got, err := NormaliseMsisdn(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormaliseMsisdn(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormaliseMsisdn(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMaskMsisdn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+919876543210", "+91XXXXXX3210"},
		{"9876543210", "XXXXXX3210"},
		{"123", "XXX"},
	}
	for _, tt := range tests {
		if got := MaskMsisdn(tt.in); got != tt.want {
			t.Errorf("MaskMsisdn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormaliseMsisdn(f *testing.F) {
	for _, s := range []string{
		"+919876543210", "919876543210", "09876543210", "9876543210",
		"98765 43210", "+91-98765-43210", "(+91) 98765-43210",
		"९८७६५४३२१०", "৯৮৭৬৫৪৩২১০", "+९१९८७६५४३२१०",
		"5876543210", "987654321", "+449876543210", "98765x3210", "",
		"9+876543210", "++919876543210", "0919876543210", "910123456789",
		"9191919191", "+", "-", "\xff", "٩٨٧٦٥٤٣٢١٠", // Arabic-Indic digits: refused
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormaliseMsisdn(s)
		if err != nil {
			if got != "" || !errors.Is(err, ErrBadMsisdn) {
				t.Fatalf("NormaliseMsisdn(%q) = %q, %v; want \"\", ErrBadMsisdn", s, got, err)
			}
			return
		}
		// E.164: "+", then 12 digits starting 91, then a mobile number (6–9…).
		if len(got) != 13 || got[0] != '+' || !allDigits(got[1:]) || got[1:3] != "91" || got[3] < '6' {
			t.Fatalf("NormaliseMsisdn(%q) = %q, not +91 and a 10-digit mobile number", s, got)
		}
		for _, form := range []string{got, got[1:], got[3:], "0" + got[3:]} {
			if again, err := NormaliseMsisdn(form); again != got {
				t.Fatalf("NormaliseMsisdn(%q) = %q, %v; want %q (from %q)", form, again, err, got, s)
			}
		}
		// The number is the input's digits (native ones too), whole or
		// after a 91 or 0 prefix.
		var digits strings.Builder
		for _, r := range s {
			if d, ok := digitValue(r); ok {
				digits.WriteByte(byte('0' + d))
			}
		}
		if d := digits.String(); d != got[3:] && d != "0"+got[3:] && d != got[1:] {
			t.Fatalf("NormaliseMsisdn(%q) = %q, but its digits are %s", s, got, d)
		}
		if m := MaskMsisdn(got); m != "+91XXXXXX"+got[9:] {
			t.Fatalf("MaskMsisdn(%q) = %q", got, m)
		}
	})
}

// TestDigitValueEveryScript reads zero to nine in every script whose
// language the catalogue has, and refuses the code points beside them.
func TestDigitValueEveryScript(t *testing.T) {
	scripts := []struct {
		name   string
		digits string
	}{
		{"Latin", "0123456789"},
		{"Devanagari (hi, mr)", "०१२३४५६७८९"},
		{"Bengali (bn, as)", "০১২৩৪৫৬৭৮৯"},
		{"Gurmukhi (pa)", "੦੧੨੩੪੫੬੭੮੯"},
		{"Gujarati (gu)", "૦૧૨૩૪૫૬૭૮૯"},
		{"Odia (or)", "୦୧୨୩୪୫୬୭୮୯"},
		{"Tamil (ta)", "௦௧௨௩௪௫௬௭௮௯"},
		{"Telugu (te)", "౦౧౨౩౪౫౬౭౮౯"},
		{"Kannada (kn)", "೦೧೨೩೪೫೬೭೮೯"},
		{"Malayalam (ml)", "൦൧൨൩൪൫൬൭൮൯"},
	}
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) {
			digits := []rune(s.digits)
			if len(digits) != 10 {
				t.Fatalf("%d digits in the table", len(digits))
			}
			for want, r := range digits {
				if got, ok := digitValue(r); !ok || got != want {
					t.Errorf("digitValue(%q) = %d, %v; want %d", r, got, ok, want)
				}
			}
			for _, r := range []rune{digits[0] - 1, digits[9] + 1} {
				if got, ok := digitValue(r); ok {
					t.Errorf("digitValue(%U) = %d, want no digit", r, got)
				}
			}
			if got, err := NormaliseMsisdn(string([]rune{digits[9], digits[8], digits[7], digits[6], digits[5], digits[4], digits[3], digits[2], digits[1], digits[0]})); err != nil || got != "+919876543210" {
				t.Errorf("NormaliseMsisdn in %s = %q, %v", s.name, got, err)
			}
		})
	}
}
