package dialog

import (
	"slices"
	"testing"
	"unicode"
)

func TestMenuLanguages(t *testing.T) {
	tests := []struct {
		name  string
		order []string
		gsm7  bool
		want  []string
	}{
		{"default", nil, false, Languages},
		{"a partner's order", []string{"bn", "en", "hi"}, false, []string{"bn", "en", "hi"}},
		{"Roman Hindi listed", []string{"hi-Latn", "en"}, false, []string{"hi-Latn", "en"}},
		{"default on GSM-7", nil, true, []string{"en", RomanHindi}},
		{"Indic first on GSM-7", []string{"bn", "en", "hi"}, true, []string{RomanHindi, "en"}},
		{"English only on GSM-7", []string{"en"}, true, []string{"en"}},
		{"Tamil alone on GSM-7", []string{"ta"}, true, []string{RomanHindi}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MenuLanguages(tt.order, tt.gsm7); !slices.Equal(got, tt.want) {
				t.Errorf("MenuLanguages(%v, %v) = %v, want %v", tt.order, tt.gsm7, got, tt.want)
			}
		})
	}
}

func TestShownLanguage(t *testing.T) {
	tests := []struct {
		lang string
		gsm7 bool
		want string
	}{
		{"bn", false, "bn"},
		{"bn", true, RomanHindi},
		{"hi", true, RomanHindi},
		{"ml", true, RomanHindi},
		{"en", true, "en"},
		{RomanHindi, true, RomanHindi},
		{RomanHindi, false, RomanHindi},
		{"", false, "en"},
		{"", true, "en"},
		{"xx", false, "en"},
	}
	for _, tt := range tests {
		if got := ShownLanguage(tt.lang, tt.gsm7); got != tt.want {
			t.Errorf("ShownLanguage(%q, %v) = %q, want %q", tt.lang, tt.gsm7, got, tt.want)
		}
	}
}

// TestRegistry checks what the menu and the GSM-7 fallback rely on: unique
// codes, English first, a name for each in its script, GSM-7 names exactly
// for the languages marked GSM7, and a catalogue for each that is GSM-7
// throughout where the language is marked so and otherwise written in its
// own script (and Latin), never in a neighbour's.
func TestRegistry(t *testing.T) {
	if Languages[0] != "en" {
		t.Errorf("first language %q, want en (the catalogue's fallback)", Languages[0])
	}
	cat, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range registry {
		if seen[l.Code] {
			t.Errorf("%s listed twice", l.Code)
		}
		seen[l.Code] = true
		if l.Name == "" || NeedsUCS2(l.Name) == l.GSM7 {
			t.Errorf("%s: name %q does not match GSM7=%v", l.Code, l.Name, l.GSM7)
		}
		for key, text := range cat.texts[l.Code] {
			for _, r := range text + l.Name {
				if unicode.IsLetter(r) && !unicode.In(r, l.Script, unicode.Latin) {
					t.Errorf("%s: %q has %q (%U), outside its script", l.Code, key, r, r)
					break
				}
			}
		}
		if !l.GSM7 {
			continue
		}
		for key, text := range cat.texts[l.Code] {
			if NeedsUCS2(text) {
				t.Errorf("%s is GSM-7 but %q needs UCS-2: %q", l.Code, key, text)
			}
		}
	}
}
