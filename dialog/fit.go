package dialog

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"
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
func Units(s string) int { return measure(s).units() }

// cost is the size of lines of text in both encodings, so that the size of
// lines joined with "\n" is known without joining them.
type cost struct {
	gsm   int  // GSM-7 septets (a character outside GSM-7 counts none)
	ucs2  int  // UTF-16 code units
	wide  bool // a character outside GSM-7: the text travels as UCS-2
	lines int
}

// measure is the cost of s as one line.
func measure(s string) cost {
	c := cost{lines: 1}
	for _, r := range s {
		c.add(r)
	}
	return c
}

func (c *cost) add(r rune) {
	g := gsmCost(r)
	c.gsm += g
	c.wide = c.wide || g == 0
	c.ucs2++
	if r > 0xFFFF { // a surrogate pair
		c.ucs2++
	}
}

func (c cost) plus(d cost) cost {
	return cost{gsm: c.gsm + d.gsm, ucs2: c.ucs2 + d.ucs2, wide: c.wide || d.wide, lines: c.lines + d.lines}
}

// units is the length of the lines joined with "\n".
func (c cost) units() int {
	n := c.gsm
	if c.wide {
		n = c.ucs2
	}
	if c.lines > 1 {
		n += c.lines - 1
	}
	return n
}

// measureAll is the cost of lines joined with "\n".
func measureAll(lines ...string) cost {
	var c cost
	for _, l := range lines {
		c = c.plus(measure(l))
	}
	return c
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
// or slip may take (three concatenated parts). A reply over SMS fills three
// parts before it pages: every 98 the caller sends is an SMS they pay for.
var (
	USSDBudget     = Budget{GSM: 182, UCS2: 80}
	SMSBudget      = Budget{GSM: 160, UCS2: 70}
	SMSReplyBudget = Budget{GSM: 3 * 153, UCS2: 3 * 67}
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
// list of appointments), items (options, "n Label") and a tail (navigation
// such as "0 Back") repeated on every page after the options. Notice, body
// and a head that does not repeat may be wrapped onto several lines; an
// item is kept whole unless it could not fit a page even alone.
//
// On a menu the first page always shows the first option: when the text
// before it cannot fit beside it, that text is shortened on the first page
// (see Pages). On a confirmation (Confirm) the options act on the body, so
// they come only after all of it, and the text is never cut.
type Menu struct {
	Notice  []string
	Head    []string
	Body    []string
	Items   []string
	Tail    []string
	More    string // the line offering the next page, e.g. "98 More"
	Confirm bool   // the items act on the body: they follow all of it
}

// OnePage reports whether m shows whole, nothing shortened, on one page
// within budget.
func (m Menu) OnePage(b Budget) bool {
	whole, limit := m.measure(b)
	return whole.units() <= limit
}

// measure returns the cost of the whole menu on one page and the limit its
// encoding sets.
func (m Menu) measure(b Budget) (whole cost, limit int) {
	for _, part := range m.parts() {
		for _, l := range part {
			whole = whole.plus(measure(l))
		}
	}
	limit = b.GSM
	if whole.wide || NeedsUCS2(m.More) {
		limit = b.UCS2
	}
	return whole, limit
}

// parts are the menu's lines in the order they show.
func (m Menu) parts() [5][]string { return [5][]string{m.Head, m.Notice, m.Body, m.Items, m.Tail} }

// minRoom is the least room for content a repeated head may leave on a
// page: room for an ellipsis, or for the widest character (two units).
const minRoom = 3

// Pages fits m into pages within budget. Every line appears on the pages
// once. Text (notice, body, a head that does not repeat) is not cut: a
// line too long for the room left on a page continues on the next, and a
// notice that fits a fresh page whole starts one rather than being split.
// The one exception is a menu (not a confirmation) whose text before the
// first option would push that option off the first page: the text is then
// shortened there to share the room beside the option, the longest line
// first, and a line left fewer than minShare units is dropped. At the
// default sizes no screen of the journey needs this; on a partner's
// smallest screen it keeps every menu usable from its first page. Items stay whole wherever they fit beside
// the tail; only one that cannot fit even alone is shortened with an
// ellipsis. The head repeats on every page when that leaves room for the
// longest item, and otherwise flows on the first page. The encoding of the
// whole menu decides the limit, so that all pages use the same budget.
//
// A menu that needs more than one page and whose tail and More line would
// leave less than a third of a page for content has those lines shortened,
// the longest first, each keeping its option number ("98 M...", "98").
// On a screen smaller than any a partner may set (a few units) pages may
// run over the budget, but paging still ends. The work is linear in the
// length of the menu's text.
func (m Menu) Pages(b Budget) []string {
	whole, limit := m.measure(b)
	if whole.units() <= limit {
		parts := m.parts()
		return []string{joinLines(parts[:]...)}
	}

	// Navigation takes at most two thirds of a page, less the newline
	// before it: content keeps at least a third.
	nav := fitNav(append(slices.Clone(m.Tail), m.More), limit-1-limit/3)
	tail, more := nav[:len(m.Tail)], nav[len(m.Tail)]
	tailCost, moreCost := measureAll(tail...), measure(more)
	// framed is the size of a page of lines of cost c that may end the
	// screen or go on: with the tail, and with or without the More line.
	// Without can be longer, when only the More line needs UCS-2.
	framed := func(c cost) int {
		c = c.plus(tailCost)
		return max(c.units(), c.plus(moreCost).units())
	}

	const (
		headText = iota // a head line that flows: not content of its own
		bodyText
		item
	)
	head, headCost := m.Head, measureAll(m.Head...)
	longest := cost{}
	for _, it := range m.Items {
		if c := measure(it); c.units() > longest.units() {
			longest = c
		}
	}
	var flow []piece
	if len(m.Items) == 0 || framed(headCost.plus(longest)) > limit || limit-framed(headCost)-1 < minRoom {
		for _, h := range head {
			flow = append(flow, newPiece(h, headText))
		}
		head, headCost = nil, cost{}
	}
	for _, l := range concat(m.Notice, m.Body) {
		flow = append(flow, newPiece(l, bodyText))
	}
	if !m.Confirm && len(m.Items) > 0 {
		first := headCost.plus(measure(m.Items[0]))
		with := first
		for _, p := range flow {
			with = with.plus(p.cost)
		}
		if framed(with) > limit {
			flow = squeeze(flow, limit-framed(first))
		}
	}
	for _, it := range m.Items {
		flow = append(flow, newPiece(it, item))
	}
	// after[i] is the cost of the pieces after flow[i].
	after := make([]cost, len(flow))
	for i := len(flow) - 2; i >= 0; i-- {
		after[i] = flow[i+1].cost.plus(after[i+1])
	}

	var pages []string
	lines, lc := slices.Clone(head), headCost
	content := 0 // lines on this page that are not head
	size := func(extra cost, last bool) int {
		if last {
			return lc.plus(extra).plus(tailCost).units()
		}
		return framed(lc.plus(extra))
	}
	add := func(text string, c cost) {
		lines, lc = append(lines, text), lc.plus(c)
	}
	flush := func() {
		pages = append(pages, joinLines(lines, []string{more}, tail))
		lines, lc, content = slices.Clone(head), headCost, 0
	}
	for i := 0; i < len(flow); i++ {
		p := &flow[i]
		if size(p.cost.plus(after[i]), true) <= limit { // the rest ends the screen here
			for _, q := range flow[i:] {
				lines = append(lines, q.text)
			}
			break
		}
		if size(p.cost, false) <= limit {
			add(p.text, p.cost)
			if p.kind != headText {
				content++
			}
			continue
		}
		alone := len(lines) == len(head)
		fresh := framed(headCost.plus(p.cost)) <= limit
		if (p.kind == item && !alone) || (content > 0 && fresh) {
			flush() // start it on a fresh page
			i--
			continue
		}
		room := limit - size(cost{}, false) - 1
		if p.kind == item { // alone it does not fit: shorten it
			s := Shorten(p.text, room)
			add(s, measure(s))
			content++
			continue
		}
		p.normalise()
		first, rest := take(p.text, room)
		if !alone && len(first) < len(p.text) && p.text[len(first)] != ' ' {
			flush() // a word is split only where it does not fit a page of its own
			i--
			continue
		}
		if first == "" && alone { // only on a screen of a few units
			if p.text == "" {
				continue
			}
			_, n := utf8.DecodeRuneInString(p.text)
			first, rest = p.text[:n], strings.TrimPrefix(p.text[n:], " ")
		}
		if first != "" {
			add(first, measure(first))
			if p.kind != headText {
				content++
			}
		}
		p.cut(len(p.text) - len(rest))
		if rest == "" {
			continue
		}
		flush()
		i--
	}
	pages = append(pages, joinLines(lines, tail))
	return pages
}

// piece is a line of a menu as it flows onto pages.
type piece struct {
	text string
	kind int
	cost cost
	// norm: text has single spaces between words and none at either end,
	// as take wants it; lastWide is then the offset in text of its last
	// character outside GSM-7 (-1 when none).
	norm     bool
	lastWide int
}

func newPiece(text string, kind int) piece {
	return piece{text: text, kind: kind, cost: measure(text)}
}

// normalise puts single spaces between the words of p, once.
func (p *piece) normalise() {
	if p.norm {
		return
	}
	p.text = strings.Join(strings.Fields(p.text), " ")
	p.cost, p.norm, p.lastWide = measure(p.text), true, -1
	for i, r := range p.text {
		if gsmCost(r) == 0 {
			p.lastWide = i
		}
	}
}

// cut drops the first n bytes of a normalised p, and their cost, in time
// linear in n rather than in the length of what is left.
func (p *piece) cut(n int) {
	c := measure(p.text[:n])
	p.text = p.text[n:]
	p.lastWide -= n
	p.cost.gsm -= c.gsm
	p.cost.ucs2 -= c.ucs2
	p.cost.wide = p.lastWide >= 0
}

// minShare is the least room a line of text is shortened to beside a
// menu's first option; a line left less is dropped.
const minShare = 6

// squeeze shortens the text pieces that come before a menu's first option
// so that, with their newlines, they take at most room units. Each line is
// counted in its own encoding: the most it can take on the page whichever
// encoding the page ends up in (dropping the only line outside GSM-7 turns
// the page to GSM-7, where extension characters count two). The room is
// shared as fitNav shares it: the shortest lines keep their length, the
// longest give way.
func squeeze(text []piece, room int) []piece {
	lines := make([]string, len(text))
	for i, p := range text {
		lines[i] = p.text
	}
	out := text[:0]
	for i, l := range shareRoom(lines, room, 1, minShare, Units, Shorten) {
		if l != "" {
			out = append(out, newPiece(l, text[i].kind))
		}
	}
	return out
}

// shareRoom shortens lines, longest first, so that together they take at
// most room units (as size counts them), each counted with sep units (its
// newline); a line is shortened with shorten, and one whose share is under
// least becomes "". A line within its share keeps its length.
func shareRoom(lines []string, room, sep, least int, size func(string) int, shorten func(string, int) string) []string {
	order := make([]int, len(lines))
	units := make([]int, len(lines))
	for i, l := range lines {
		order[i], units[i] = i, size(l)
	}
	slices.SortStableFunc(order, func(a, b int) int { return units[a] - units[b] })
	left := room
	for k, i := range order {
		share := left/(len(order)-k) - sep
		switch {
		case units[i] <= share:
		case share < least:
			lines[i] = ""
			continue
		default:
			lines[i] = shorten(lines[i], share)
		}
		left -= size(lines[i]) + sep
	}
	return lines
}

// fitNav shortens the navigation lines (the tail, then the More line),
// longest first, until they take at most room units with the More line or
// without it; each keeps at least its option number.
func fitNav(nav []string, room int) []string {
	if max(measureAll(nav...).units(), measureAll(nav[:len(nav)-1]...).units()) <= room {
		return nav
	}
	// The newlines are between the lines: one fewer than the lines.
	return shareRoom(nav, room+1, 1, math.MinInt, Units, shortenOption)
}

// shortenOption shortens a line such as "98 More" to room units keeping its
// option number: "98 M..." or, with less room, "98". A line that cannot be
// made shorter (on a screen of a few units) stays as it is.
func shortenOption(line string, room int) string {
	s := Shorten(line, room)
	num, _, _ := strings.Cut(line, " ")
	switch {
	case Units(s) >= Units(line):
		return line
	case strings.HasPrefix(s, num) || Units(num) > room:
		return s
	}
	return num
}

// take splits off the longest start of s, at a space, that fits room
// units; inside a word only when the first word alone is longer. s has
// single spaces between words and none at either end (piece.normalise).
// first is empty when not even the first character fits. It reads at most
// room+1 characters of s.
func take(s string, room int) (first, rest string) {
	if room <= 0 {
		return "", s
	}
	var c cost // of s[:i]
	words := 0 // s[:words] is the longest run of whole words that fits
	part := 0  // s[:part] is the longest start of the first word that fits
	inFirst := true
	for i, n := 0, 0; ; n++ {
		if i == len(s) || s[i] == ' ' {
			// The units of a start of s can shrink as it grows (from
			// GSM-7 to UCS-2), so whole words stop at the first that does
			// not fit, as a reader would, while inside the first word the
			// longest start that fits counts.
			if c.units() > room {
				break
			}
			words, inFirst = i, false
			if i == len(s) {
				break
			}
		}
		if n > room { // every later start is longer than room
			break
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		c.add(r)
		i += w
		if inFirst && c.units() <= room {
			part = i
		}
	}
	switch {
	case words > 0:
		return s[:words], strings.TrimPrefix(s[words:], " ")
	case part > 0:
		return s[:part], strings.TrimPrefix(s[part:], " ")
	}
	return "", s
}

// concat joins line lists into a new slice.
func concat(parts ...[]string) []string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]string, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// joinLines is strings.Join(concat(parts...), "\n"), built at once.
func joinLines(parts ...[]string) string {
	n := 0
	for _, p := range parts {
		for _, l := range p {
			n += len(l) + 1
		}
	}
	var b strings.Builder
	b.Grow(n)
	first := true
	for _, p := range parts {
		for _, l := range p {
			if !first {
				b.WriteByte('\n')
			}
			first = false
			b.WriteString(l)
		}
	}
	return b.String()
}

// Shorten cuts s to at most room units, ending it with an ellipsis ("..."
// in GSM-7 text, "…" in UCS-2 text) when it had to be cut. Its work is
// linear in the length of s.
func Shorten(s string, room int) string {
	c := measure(s)
	if c.units() <= room {
		return s
	}
	ell, ellUnits := "...", 3
	if c.wide {
		ell, ellUnits = "…", 1
	}
	// The cost of a start of s with the ellipsis grows with the start: it
	// is UCS-2 throughout when s needs UCS-2, and GSM-7 otherwise.
	var p cost
	cut := 0
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		p.add(r)
		n := p.gsm
		if c.wide {
			n = p.ucs2
		}
		if n+ellUnits > room {
			break
		}
		i += w
		cut = i
	}
	return strings.TrimRight(s[:cut], " ") + ell
}
