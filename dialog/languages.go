package dialog

import "unicode"

// Language is one language of the catalogue.
type Language struct {
	Code string // the catalogue file's name, messages/<Code>.json
	Name string // its own name in its own script, for the language menu
	// Script is the script it is written in; its catalogue may also use
	// Latin letters (Aadhaar, PAN, SMS, TikaSetu).
	Script *unicode.RangeTable
	// GSM7 marks a language written in Latin letters within GSM-7, which a
	// network that cannot show UCS-2 can carry.
	GSM7 bool
}

// RomanHindi is Hindi written in Latin letters: what a caller who chose an
// Indic language is shown on a network that cannot show its script.
const RomanHindi = "hi-Latn"

// registry lists every language in the default order of the language menu:
// English, Hindi and Bengali, then by number of speakers in India (Census
// 2011), and Roman Hindi last, for phones that show Indic scripts badly.
// Adding a language is its catalogue file and its line here.
var registry = []Language{
	{Code: "en", Name: "English", Script: unicode.Latin, GSM7: true},
	{Code: "hi", Name: "हिन्दी", Script: unicode.Devanagari},
	{Code: "bn", Name: "বাংলা", Script: unicode.Bengali},
	{Code: "mr", Name: "मराठी", Script: unicode.Devanagari},
	{Code: "te", Name: "తెలుగు", Script: unicode.Telugu},
	{Code: "ta", Name: "தமிழ்", Script: unicode.Tamil},
	{Code: "gu", Name: "ગુજરાતી", Script: unicode.Gujarati},
	{Code: "kn", Name: "ಕನ್ನಡ", Script: unicode.Kannada},
	{Code: "or", Name: "ଓଡ଼ିଆ", Script: unicode.Oriya},
	{Code: "ml", Name: "മലയാളം", Script: unicode.Malayalam},
	{Code: "pa", Name: "ਪੰਜਾਬੀ", Script: unicode.Gurmukhi},
	{Code: "as", Name: "অসমীয়া", Script: unicode.Bengali},
	{Code: RomanHindi, Name: "Hindi", Script: unicode.Latin, GSM7: true},
}

// Languages are the codes of every language of the catalogue, in the
// registry's order ("en" first); byCode finds an entry by its code (every
// text a turn shows asks it, through ShownLanguage).
var (
	Languages []string
	byCode    = map[string]Language{}
)

func init() {
	for _, l := range registry {
		Languages = append(Languages, l.Code)
		byCode[l.Code] = l
	}
}

// LanguageByCode returns the registry's entry for code.
func LanguageByCode(code string) (Language, bool) {
	l, ok := byCode[code]
	return l, ok
}

// MenuLanguages returns the languages the language menu offers, in option
// order: the given order (a partner's), or by default every language in
// the registry's order. On a channel that shows only GSM-7 every Indic
// language becomes Roman Hindi, listed once where the first of them stood.
func MenuLanguages(order []string, gsm7Only bool) []string {
	if len(order) == 0 {
		order = Languages
	}
	if !gsm7Only {
		return order
	}
	var out []string
	seen := map[string]bool{}
	for _, code := range order {
		if l, ok := LanguageByCode(code); ok && !l.GSM7 {
			code = RomanHindi
		}
		if !seen[code] {
			seen[code] = true
			out = append(out, code)
		}
	}
	return out
}

// ShownLanguage is the language a caller who chose lang is shown screens
// in: lang itself, or Roman Hindi for an Indic language on a channel that
// shows only GSM-7.
func ShownLanguage(lang string, gsm7Only bool) string {
	l, ok := LanguageByCode(lang)
	switch {
	case !ok:
		return "en"
	case gsm7Only && !l.GSM7:
		return RomanHindi
	}
	return lang
}
