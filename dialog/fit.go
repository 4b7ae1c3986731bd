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

// Menu is a screen before it is fitted: a notice (a hint or the result of
// the last input), a head (the title), a body (text to read: a summary, a
// list of appointments), items (options, "n Label") and a tail (lines such
// as "0 Back") repeated on every page. Notice, body and a head that does
// not repeat may be wrapped onto several lines but are never cut; an item
// is kept whole unless it could not fit a page even alone.
type Menu struct {
	Notice []string
	Head   []string
	Body   []string
	Items  []string
	Tail   []string
	More   string // the line offering the next page, e.g. "98 More"
}

// Pages fits m into pages within budget. Nothing is dropped: every line
// appears on the pages once. Text (notice, body, a head that does not
// repeat) is never cut: a line too long for the room left on a page
// continues on the next, and a notice that fits a fresh page whole starts
// one rather than being split. Items stay whole wherever they fit beside
// the tail; only one that cannot fit even alone is shortened with an
// ellipsis. The head repeats on every page when that leaves room for the
// longest item, and otherwise flows on the first page. The encoding of the
// whole menu decides the limit, so that all pages use the same budget.
func (m Menu) Pages(b Budget) []string {
	all := strings.Join(m.Notice, "") + strings.Join(m.Head, "") + strings.Join(m.Body, "") +
		strings.Join(m.Items, "") + strings.Join(m.Tail, "") + m.More
	limit := b.For(all)
	units := func(lines []string) int { return Units(strings.Join(lines, "\n")) }

	type piece struct {
		text string
		kind int
	}
	const (
		headText = iota // a head line that flows: not content of its own
		bodyText
		item
	)
	head := m.Head
	longest := ""
	for _, it := range m.Items {
		if Units(it) > Units(longest) {
			longest = it
		}
	}
	var flow []piece
	if len(m.Items) == 0 || units(concat(head, []string{longest}, m.Tail, []string{m.More})) > limit {
		for _, h := range head {
			flow = append(flow, piece{h, headText})
		}
		head = nil
	}
	for _, l := range concat(m.Notice, m.Body) {
		flow = append(flow, piece{l, bodyText})
	}
	for _, it := range m.Items {
		flow = append(flow, piece{it, item})
	}

	var pages []string
	lines := append([]string{}, head...)
	content := 0 // lines on this page that are not head
	size := func(extra []string, last bool) int {
		l := concat(lines, extra, m.Tail)
		if !last {
			l = append(l, m.More)
		}
		return units(l)
	}
	flush := func() {
		pages = append(pages, strings.Join(concat(lines, []string{m.More}, m.Tail), "\n"))
		lines, content = append([]string{}, head...), 0
	}
	for i := 0; i < len(flow); i++ {
		p := flow[i]
		var rest []string
		for _, q := range flow[i:] {
			rest = append(rest, q.text)
		}
		if size(rest, true) <= limit { // the rest ends the screen here
			lines = append(lines, rest...)
			content += len(rest)
			break
		}
		if size([]string{p.text}, false) <= limit {
			lines = append(lines, p.text)
			if p.kind != headText {
				content++
			}
			continue
		}
		fresh := units(concat(head, []string{p.text}, m.Tail, []string{m.More})) <= limit
		if (p.kind == item && len(lines) > len(head)) || (content > 0 && fresh) {
			flush() // start it on a fresh page
			i--
			continue
		}
		room := limit - size(nil, false) - 1
		if p.kind == item { // alone it does not fit: shorten it
			lines = append(lines, Shorten(p.text, room))
			content++
			continue
		}
		first, remain := take(p.text, room)
		if first != "" {
			lines = append(lines, first)
			if p.kind != headText {
				content++
			}
		}
		flow[i].text = remain
		flush()
		i--
	}
	pages = append(pages, strings.Join(concat(lines, m.Tail), "\n"))
	return pages
}

// take splits off the longest start of s, at a space, that fits room
// units; inside a word only when the first word alone is longer.
func take(s string, room int) (first, rest string) {
	if room <= 0 {
		return "", s
	}
	words := strings.Fields(s)
	n := 0
	for n < len(words) && Units(strings.Join(words[:n+1], " ")) <= room {
		n++
	}
	if n > 0 {
		return strings.Join(words[:n], " "), strings.Join(words[n:], " ")
	}
	r := []rune(words[0])
	k := len(r)
	for k > 1 && Units(string(r[:k])) > room {
		k--
	}
	return string(r[:k]), strings.TrimSpace(string(r[k:]) + " " + strings.Join(words[1:], " "))
}

// concat joins line lists into a new slice.
func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
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
