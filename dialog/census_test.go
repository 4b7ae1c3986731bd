package dialog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
)

// censusPin is the PIN code of the census's real Co-WIN centres (West
// Bengal), re-dated after start.
const censusPin = "743337"

// typicalNames are two people of a household as a caller would type them.
var typicalNames = map[string][2]string{
	"en":      {"Sita Devi", "Ram Kumar"},
	"hi":      {"सीता देवी", "राम कुमार"},
	"bn":      {"সীতা দেবী", "রাম কুমার"},
	"mr":      {"सीता देवी", "राम कुमार"},
	"te":      {"సీతా దేవి", "రామ్ కుమార్"},
	"ta":      {"சீதா தேவி", "ராம் குமார்"},
	"gu":      {"સીતા દેવી", "રામ કુમાર"},
	"kn":      {"ಸೀತಾ ದೇವಿ", "ರಾಮ್ ಕುಮಾರ್"},
	"or":      {"ସୀତା ଦେବୀ", "ରାମ କୁମାର"},
	"ml":      {"സീതാ ദേവി", "രാം കുമാർ"},
	"pa":      {"ਸੀਤਾ ਦੇਵੀ", "ਰਾਮ ਕੁਮਾਰ"},
	"as":      {"সীতা দেৱী", "ৰাম কুমাৰ"},
	"hi-Latn": {"Sita Devi", "Ram Kumar"},
}

// scriptZero is the digit zero of each language's script, for callers who
// type in it (Latin where absent).
var scriptZero = map[string]rune{"hi": '०', "mr": '०', "bn": '০', "as": '০', "pa": '੦', "gu": '૦',
	"or": '୦', "ta": '௦', "te": '౦', "kn": '೦', "ml": '൦'}

// TestScreenCensus walks the first-time journey of a caller on a feature
// phone in every language, on USSD at the default screen size (typing
// every number in the script's own digits) and at the smallest a partner
// may set (60 GSM-7, 30 UCS-2), over SMS, and on a network that shows only
// GSM-7 (English and Roman Hindi, every page GSM-7): dial,
// choose the language, verify the own number, register two people with
// typical names and Aadhaar, book both at a real centre. The caller
// presses 98 only when the option they need is not on the page, and reads
// a confirmation to its end before confirming. Every page is checked
// against the screen rules (checkRules), and at the default sizes only the
// lists that are long by nature may page. The test logs, per language and
// channel, the pages the journey took and the 98s it needed (go test -v
// -run ScreenCensus); with TIKASETU_CENSUS_DIR=dir it writes each
// journey's transcript there.
func TestScreenCensus(t *testing.T) {
	cal := newCensusCalendar(t)
	channels := []budgetCase{
		{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
		{name: "sms", channel: dialog.SMSChannel, want: dialog.SMSReplyBudget},
		// The smallest screen a partner may set: every list and some
		// other screens page, but the rules hold.
		{name: "ussd-small", channel: dialog.USSD, screen: 60, ucs2: 30, want: dialog.Budget{GSM: 60, UCS2: 30}},
		{name: "ussd-gsm7", channel: dialog.USSD, gsm7: true, want: dialog.USSDBudget},
	}
	type row struct {
		lang, channel string
		pages, more   int
		paged         []string
	}
	var rows []row
	for li, lang := range dialog.Languages {
		for ci, ch := range channels {
			option := slices.Index(dialog.MenuLanguages(nil, ch.gsm7), lang) + 1
			if option == 0 {
				continue // not offered on this channel
			}
			n := 100 + li*len(channels) + ci
			c := &caller{t: t, w: cal.world(t), b: ch, run: n, msisdn: fmt.Sprintf("+9197300%05d", n)}
			cs := &census{c: c, more: map[string]int{}, small: ch.screen > 0, gsm7: ch.gsm7}
			if ch.name == "ussd" {
				cs.zero = scriptZero[lang]
			}
			dir := os.Getenv("TIKASETU_CENSUS_DIR")
			if dir != "" {
				c.transcript = &strings.Builder{}
			}
			t.Run(lang+"/"+ch.name, func(t *testing.T) {
				c.t = t
				cs.journey(option, lang)
			})
			if dir != "" {
				if err := os.WriteFile(filepath.Join(dir, lang+"-"+ch.name+".txt"), []byte(c.transcript.String()), 0o644); err != nil {
					t.Error(err)
				}
			}
			paged := make([]string, 0, len(cs.more))
			for st := range cs.more {
				paged = append(paged, st)
			}
			slices.Sort(paged)
			rows = append(rows, row{lang, ch.name, cs.pages, cs.presses, paged})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first-time journey (two people, one booking):\n%-5s %-10s %6s %4s  %s\n", "lang", "channel", "pages", "98s", "screens paged")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-5s %-10s %6d %4d  %s\n", r.lang, r.channel, r.pages, r.more, strings.Join(r.paged, " "))
	}
	t.Log("\n" + b.String())
}

// census is one caller's journey, counting what they see.
type census struct {
	c       *caller
	pages   int            // replies read
	presses int            // 98s sent
	more    map[string]int // 98s per screen
	small   bool           // a partner's smallest screen: not only lists page
	gsm7    bool           // every page must be GSM-7
	zero    rune           // the caller types digits from this zero (0: Latin)
	last    dialog.Reply
}

// typed is input as the caller types it: in their script's digits.
func (cs *census) typed(input string) string {
	if cs.zero == 0 {
		return input
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return cs.zero + r - '0'
		}
		return r
	}, input)
}

// send delivers input, counts the page it shows and checks the screen
// against the rules; a screen that is not a list must fit one page.
func (cs *census) send(input string) dialog.Reply {
	cs.c.t.Helper()
	cs.last = cs.c.send(cs.typed(input))
	cs.pages++
	if cs.gsm7 && dialog.NeedsUCS2(cs.last.Text) {
		cs.c.t.Errorf("a GSM-7 network shown UCS-2 text after %q:\n%s", input, cs.last.Text)
	}
	if cs.last.End {
		return cs.last
	}
	state := cs.c.state()
	menu, budget, err := cs.c.w.eng.ScreenMenu(cs.c.w.ctx, cs.c.turn(""))
	if err != nil {
		cs.c.t.Fatalf("screen %q: %v", state, err)
	}
	pages := menu.Pages(budget)
	for _, p := range checkRules(menu, pages) {
		cs.c.t.Errorf("screen %q: %s", state, p)
	}
	if len(pages) > 1 && !listScreens[state] && !cs.small {
		cs.c.t.Errorf("screen %q is no list but takes %d pages:\n%s", state, len(pages), strings.Join(pages, "\n----\n"))
	}
	return cs.last
}

// listScreens are the screens whose lists are long by nature (languages,
// people, centres, dates, slots, appointments): only they may page in
// normal use.
var listScreens = map[string]bool{"lang": true, "book_who": true, "centre": true, "date": true, "slot": true,
	"my_appointments": true, "cancel_who": true}

// checkRules returns how the pages of m break the rules every screen keeps
// at every size a partner may set:
//   - a menu's first page shows its first option, and no first page holds
//     only its notice;
//   - a confirmation shows its options only on or after the page where all
//     of its details have been shown;
//   - the More line and the tail come after the options of the page.
func checkRules(m dialog.Menu, pages []string) []string {
	var problems []string
	isItem := func(l string) (int, bool) {
		for i, it := range m.Items {
			if l == it || (optionPrefix.FindString(l) == optionPrefix.FindString(it) && shortened(l, it)) {
				return i, true
			}
		}
		return 0, false
	}
	isNav := func(l string) bool {
		if l == m.More || shortened(l, m.More) || l == "98" {
			return true
		}
		for _, t := range m.Tail {
			if l == t || shortened(l, t) || l == optionPrefix.FindString(t+" ") {
				return true
			}
		}
		return false
	}
	first := lines(pages[0])
	if len(m.Items) > 0 && !m.Confirm {
		if !slices.ContainsFunc(first, func(l string) bool { i, ok := isItem(l); return ok && i == 0 }) {
			problems = append(problems, fmt.Sprintf("first page lacks the first option %q:\n%s", m.Items[0], pages[0]))
		}
	}
	if len(m.Notice) > 0 {
		var own []string // the screen's own words, one of which page 1 shows
		for _, l := range concat(m.Head, m.Body, m.Items) {
			if f := strings.Fields(l); len(f) > 0 {
				own = append(own, f[0])
			}
		}
		if len(own) > 0 && !slices.ContainsFunc(first, func(l string) bool {
			return !isNav(l) && slices.ContainsFunc(own, func(w string) bool { return strings.HasPrefix(l, w) })
		}) {
			problems = append(problems, fmt.Sprintf("the notice takes the whole first page:\n%s", pages[0]))
		}
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	seen := "" // the content shown so far: a word too long for a page runs on across pages
	for i, p := range pages {
		ls := lines(p)
		for _, l := range ls {
			if !isNav(l) {
				seen += squash(l)
			}
		}
		lastItem, firstNav := -1, len(ls)
		for j, l := range ls {
			if _, ok := isItem(l); ok {
				lastItem = j
			} else if isNav(l) && j < firstNav {
				firstNav = j
			}
		}
		if lastItem > firstNav {
			problems = append(problems, fmt.Sprintf("page %d: navigation above an option:\n%s", i+1, p))
		}
		if m.Confirm && lastItem >= 0 {
			for _, b := range m.Body {
				if f := strings.Fields(b); len(f) > 0 && !strings.Contains(seen, squash(f[len(f)-1])) {
					problems = append(problems, fmt.Sprintf("page %d offers %q before showing %q", i+1, ls[lastItem], b))
				}
			}
		}
	}
	return problems
}

// shortened reports whether line is long shortened with an ellipsis.
func shortened(line, long string) bool {
	for _, ell := range []string{"...", "…"} {
		if cut, ok := strings.CutSuffix(line, ell); ok && strings.HasPrefix(long, cut) {
			return true
		}
	}
	return false
}

// pick presses 98 until option opt is on the page, then chooses it.
func (cs *census) pick(opt string) dialog.Reply {
	cs.c.t.Helper()
	for i := 0; !hasOption(cs.last.Text, opt); i++ {
		if i > 20 {
			cs.c.t.Fatalf("option %s never shown on screen %q:\n%s", opt, cs.c.state(), cs.last.Text)
		}
		st := cs.c.state()
		cs.send("98")
		cs.presses++
		cs.more[st]++
	}
	return cs.send(opt)
}

// enter types free input on a prompt.
func (cs *census) enter(input string) dialog.Reply { return cs.send(input) }

// censusAadhaar is a valid Aadhaar number unique to n.
func censusAadhaar(n int) string {
	base := fmt.Sprintf("7%03d%07d", n, 1234567)
	return base + string(rune(dialog.VerhoeffDigit(base)))
}

func hasOption(page, opt string) bool {
	for _, l := range lines(page) {
		if strings.HasPrefix(l, opt+" ") {
			return true
		}
	}
	return false
}

// expect checks the caller is on state.
func (cs *census) expect(state string) {
	cs.c.t.Helper()
	if got := cs.c.state(); got != state {
		cs.c.t.Fatalf("want screen %q, got %q:\n%s", state, got, cs.last.Text)
	}
}

func (cs *census) journey(langOption int, lang string) {
	c := cs.c
	if c.ussd() {
		c.dials++
		c.session = fmt.Sprintf("census_%d", c.run)
		c.fresh = true
		cs.send("")
	} else {
		cs.send("Hi")
	}
	cs.expect("lang")
	c.lang = lang
	cs.pick(strconv.Itoa(langOption))
	cs.expect("number")
	cs.pick("1")
	cs.expect("otp")
	cs.enter(c.otp())
	cs.expect("home")
	for i, name := range typicalNames[lang] {
		cs.pick("1")
		cs.expect("id_type")
		cs.pick("1") // Aadhaar
		cs.enter(censusAadhaar(c.run*2 + i))
		cs.expect("name")
		cs.enter(name)
		cs.expect("birth_year")
		cs.enter([]string{"1962", "1990"}[i])
		cs.expect("gender")
		cs.pick([]string{"2", "1"}[i])
		cs.expect("confirm_person")
		cs.pick("1")
		cs.expect("home")
	}
	cs.pick("2")
	cs.expect("book_who")
	cs.pick("3") // All
	cs.expect("pin")
	cs.enter(censusPin)
	cs.expect("centre")
	cs.pick("1")
	cs.expect("date")
	cs.pick("1")
	cs.expect("slot")
	cs.pick("1")
	cs.expect("confirm_booking")
	r := cs.pick("1")
	if !r.End { // last words longer than a screen: read them to the end
		cs.expect("done")
		for i := 0; !hasOption(cs.last.Text, "0"); i++ {
			cs.send("98")
			cs.presses++
			cs.more["done"]++
		}
	}
	if n := len(c.account().Appointments); n != 2 {
		c.t.Errorf("%d appointments booked, want 2", n)
	}
	// The journey's SMS: the code in one segment, a slip for each person
	// in at most three, and on a GSM-7 network in GSM-7.
	c.w.eng.Drain()
	slips := 0
	for _, m := range c.w.sms.To(c.msisdn) {
		most := 3
		switch m.Kind {
		case dialog.SMSKindOTP:
			most = 1
		case dialog.SMSKindSlip:
			slips++
		}
		if n := dialog.SMSSegments(m.Text); n > most {
			c.t.Errorf("%s SMS in %d segments, more than %d: %s", m.Kind, n, most, m.Text)
		}
		if cs.gsm7 && dialog.NeedsUCS2(m.Text) {
			c.t.Errorf("%s SMS to a GSM-7 network needs UCS-2: %s", m.Kind, m.Text)
		}
	}
	if slips != 2 {
		c.t.Errorf("%d slips sent, want 2", slips)
	}
}

// newCensusCalendar is the real centres of one Co-WIN file, their sessions
// moved to the days after start with room for every run.
func newCensusCalendar(t *testing.T) *calendar {
	t.Helper()
	centres := dialogtest.Calendar(t, "01-west-bengal-743337.json", start)
	return &calendar{centres: centres, target: centres[0]}
}
