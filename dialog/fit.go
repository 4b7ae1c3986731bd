package dialog

import (
	"strings"
	"unicode/utf16"
)

// gsm7Basic is the GSM 03.38 default alphabet (without the escape code);
// gsm7Ext holds the characters reached through the escape code, which cost
// two septets each.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

var gsm7Cost [0x2100]uint8 // 0: not GSM-7, 1: basic, 2: extension

func init() {
	for _, r := range gsm7Basic {
		gsm7Cost[r] = 1
	}
	for _, r := range gsm7Ext {
		gsm7Cost[r] = 2
	}
}

func gsmCost(r rune) int {
	if r < 0 || int(r) >= len(gsm7Cost) {
		return 0
	}
	return int(gsm7Cost[r])
}

// NeedsUCS2 reports whether s has a character outside the GSM-7 alphabet
// and its extension table, so that it must travel as UCS-2.
func NeedsUCS2(s string) bool {
	for _, r := range s {
		if gsmCost(r) == 0 {
			return true
		}
	}
	return false
}

// Units is the length of s in the units of its encoding: GSM-7 septets
// (extension characters count two) or UCS-2 code units (UTF-16).
func Units(s string) int {
	if NeedsUCS2(s) {
		return len(utf16.Encode([]rune(s)))
	}
	n := 0
	for _, r := range s {
		n += gsmCost(r)
	}
	return n
}

// SMSSegments is the number of SMS segments s needs: 160 GSM-7 septets or 70
// UCS-2 units in one, 153 or 67 per part when concatenated.
func SMSSegments(s string) int {
	n := Units(s)
	single, part := 160, 153
	if NeedsUCS2(s) {
		single, part = 70, 67
	}
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

// Budget is a channel's screen limit in units for each encoding.
type Budget struct {
	GSM  int // limit when the text is GSM-7
	UCS2 int // limit when the text needs UCS-2
}

// Default budgets: a USSD screen, one SMS segment, and the most an SMS reply
// may take (three concatenated parts).
var (
	USSDBudget   = Budget{GSM: 182, UCS2: 80}
	SMSBudget    = Budget{GSM: 160, UCS2: 70}
	SMSMaxBudget = Budget{GSM: 3 * 153, UCS2: 3 * 67}
)

// For returns the limit that applies to text s.
func (b Budget) For(s string) int {
	if NeedsUCS2(s) {
		return b.UCS2
	}
	return b.GSM
}

// Menu is a screen before it is fitted: a notice (a hint or result from the
// last input), a head (the title), a list of items (one line each, usually
// "n Label") that may be spread over pages, and a tail (lines such as
// "0 Back") repeated on every page.
type Menu struct {
	Notice []string
	Head   []string
	Items  []string
	Tail   []string
	More   string // the line offering the next page, e.g. "98 More"
}

// Pages fits m into pages within budget. Nothing is dropped: every notice
// line and item appears on exactly one page, whole wherever it can fit
// beside the tail; a line that could not fit even alone is shortened with an
// ellipsis. The head repeats on every page when that leaves room for the
// longest item, and otherwise flows on the first page. The encoding of the
// whole menu decides the limit, so that all pages use the same budget.
func (m Menu) Pages(b Budget) []string {
	all := strings.Join(m.Notice, "") + strings.Join(m.Head, "") + strings.Join(m.Items, "") +
		strings.Join(m.Tail, "") + m.More
	limit := b.For(all)
	units := func(lines []string) int { return Units(strings.Join(lines, "\n")) }

	head := m.Head
	longest := ""
	for _, it := range m.Items {
		if Units(it) > Units(longest) {
			longest = it
		}
	}
	var flow []string
	if len(m.Items) > 0 && units(concat(head, []string{longest}, m.Tail, []string{m.More})) > limit {
		flow, head = append(flow, head...), nil
	}
	flow = append(append(flow, m.Notice...), m.Items...)
	if len(flow) == 0 {
		return []string{strings.Join(fitLines(concat(head, m.Tail), limit), "\n")}
	}

	var pages []string
	for i := 0; i < len(flow); {
		lines := append([]string{}, head...)
		start := len(lines)
		for i < len(flow) {
			try := concat(lines, flow[i:i+1], m.Tail)
			if i+1 < len(flow) {
				try = append(try, m.More)
			}
			if units(try) > limit {
				break
			}
			lines = append(lines, flow[i])
			i++
		}
		if len(lines) == start { // one line alone does not fit: shorten it
			rest := concat(lines, m.Tail)
			if i+1 < len(flow) {
				rest = append(rest, m.More)
			}
			lines = append(lines, Shorten(flow[i], limit-units(rest)-1))
			i++
		}
		if i < len(flow) {
			lines = append(lines, m.More)
		}
		pages = append(pages, strings.Join(append(lines, m.Tail...), "\n"))
	}
	return pages
}

// concat joins line lists into a new slice.
func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// fitLines shortens the last lines of a text that has no items until it fits.
func fitLines(lines []string, limit int) []string {
	for len(lines) > 0 && Units(strings.Join(lines, "\n")) > limit {
		last := len(lines) - 1
		room := limit - Units(strings.Join(lines[:last], "\n")) - 1
		if room > 4 {
			lines[last] = Shorten(lines[last], room)
			break
		}
		lines = lines[:last]
	}
	return lines
}

// Shorten cuts s to at most room units, ending it with an ellipsis ("..."
// in GSM-7 text, "…" in UCS-2 text) when it had to be cut.
func Shorten(s string, room int) string {
	if Units(s) <= room {
		return s
	}
	ell := "..."
	if NeedsUCS2(s) {
		ell = "…"
	}
	r := []rune(s)
	for len(r) > 0 && Units(string(r)+ell) > room {
		r = r[:len(r)-1]
	}
	return strings.TrimRight(string(r), " ") + ell
}
