package dialog_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/store/cowin"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
)

var update = flag.Bool("update", false, "rewrite the transcripts in testdata/transcripts from what the engine shows")

// TestTranscripts replays the journeys in testdata/transcripts on
// dialogtest's in-memory ports (store's tests replay the same files on
// Redis). go test ./dialog -run Transcript -update rewrites their screens
// and SMS from what the engine shows now; read the diff before committing.
func TestTranscripts(t *testing.T) {
	dialogtest.RunTranscripts(t, filepath.Join("testdata", "transcripts"), dialogtest.Memory, *update)
}

// TestScreensFitWorstCase walks every screen of the journey in
// every language over four screen budgets (USSD 182/80, an operator's
// USSD 140/60, a partner's smallest 60/30, SMS), with the worst data the
// real Co-WIN files hold: the longest centre names and addresses, four
// people with names of nearly 60 letters (in Devanagari and Bengali for
// hi and bn, Latin elsewhere: as long in any script), paid centres,
// two-digit dates. At every reply it checks that the page fits the channel
// (the GSM-7 or the UCS-2 limit, whichever the text needs; one SMS
// segment), then pages through the screen with 98 (SMS: also MORE) until it
// wraps, and checks against the unpaged screen (Engine.ScreenMenu) that
// every page fits, the tail is on every page, the head on the first page,
// and every notice line and item on some page, whole: a line may be
// shortened (with its option number kept) only when even alone, with the
// tail and the More line, it could not fit a page. Shortened lines are
// logged (go test -v). Each run also checks the SMS it was sent (at most
// three segments).
//
// With TIKASETU_TRANSCRIPT=path the Bengali USSD journey (every request
// and screen, paging included) is written to path.
func TestScreensFitWorstCase(t *testing.T) {
	cal := newCalendar(t)
	type langCase struct {
		name   string
		option string
		code   string
		next   string // the language switched to at the end, by option
	}
	var langs []langCase
	for i, code := range dialog.Languages {
		langs = append(langs, langCase{code, strconv.Itoa(i + 1), code, strconv.Itoa((i+1)%len(dialog.Languages) + 1)})
	}
	budgets := []budgetCase{
		{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
		{name: "ussd-tight", channel: dialog.USSD, screen: 140, ucs2: 60, want: dialog.Budget{GSM: 140, UCS2: 60}},
		{name: "ussd-smallest", channel: dialog.USSD, screen: 60, ucs2: 30, want: dialog.Budget{GSM: 60, UCS2: 30}},
		{name: "sms", channel: dialog.SMSChannel, want: dialog.SMSReplyBudget},
	}
	run := 0
	for _, l := range langs {
		for _, b := range budgets {
			n := run
			run++
			t.Run(l.name+"/"+b.name, func(t *testing.T) {
				t.Parallel()
				c := &caller{t: t, w: cal.world(t), b: b, run: n, lang: "",
					msisdn: fmt.Sprintf("+9198300%05d", 1000+n)}
				if l.code == "bn" && b.name == "ussd" {
					if path := os.Getenv("TIKASETU_TRANSCRIPT"); path != "" {
						c.transcript = &strings.Builder{}
						defer func() {
							if err := os.WriteFile(path, []byte(c.transcript.String()), 0o644); err != nil {
								t.Errorf("transcript: %v", err)
							}
						}()
					}
				}
				defer func() {
					for _, s := range c.shortened {
						t.Log("shortened: " + s)
					}
				}()
				c.journey(l.option, l.code, l.next, people(l.code, n))
				t.Run("sms-sent", func(t *testing.T) { c.checkSMS(t) })
			})
		}
	}
}

// ---------------------------------------------------------------------------
// the world: in-memory ports, the worst-case calendar, the engine

const (
	testPin = "700091"
	// capacity per dose of every session: enough for every run's bookings.
	seatsPerSession = 50
)

// start is the tests' "now": a Monday in September, so that the sessions
// fall on two-digit days of a month whose name is among the longest in each
// language.
var start = dialogtest.Start

// calendar is the centres every world of a test starts with.
type calendar struct {
	centres []dialog.Centre
	target  dialog.Centre // the centre booked: longest name, longest address, paid
}

// newCalendar is the worst-case calendar, dated after start.
func newCalendar(t *testing.T) *calendar {
	t.Helper()
	centres, target := worstCaseCalendar(t, start)
	return &calendar{centres: centres, target: target}
}

// world is one run's view: its own clock (runs go in parallel and each
// moves its clock past OTP cool-downs), ports (dialogtest's, in memory:
// no Redis), SMS and engine.
type world struct {
	ctx    context.Context
	st     *dialogtest.Store
	eng    *dialog.Engine
	sms    *dialogtest.SMSLog
	clock  *dialogtest.Clock
	cat    *dialog.Catalogue
	target dialog.Centre
}

func (cal *calendar) world(t *testing.T) *world {
	t.Helper()
	return cal.observedWorld(t, nil)
}

// observedWorld is a world whose engine reports to obs (nil: nowhere).
func (cal *calendar) observedWorld(t *testing.T, obs dialog.Observer) *world {
	t.Helper()
	return cal.worldWith(t, func(c *dialog.Config) { c.Observer = obs })
}

// worldWith is a world whose engine's configuration mod changes.
func (cal *calendar) worldWith(t *testing.T, mod func(*dialog.Config)) *world {
	t.Helper()
	clock := dialogtest.NewClock(start)
	st := dialogtest.New(dialogtest.Config{Clock: clock})
	if err := st.ImportCentres(context.Background(), cal.centres); err != nil {
		t.Fatal(err)
	}
	return newWorld(t, st, clock, cal.target, mod)
}

// gateway is another gateway process beside w, reporting to obs: an engine
// on the same data whose store keeps its own copies for Peek.
func (w *world) gateway(t *testing.T, obs dialog.Observer) *world {
	t.Helper()
	return newWorld(t, w.st.Gateway(), w.clock, w.target, func(c *dialog.Config) { c.Observer = obs })
}

func newWorld(t *testing.T, st *dialogtest.Store, clock *dialogtest.Clock, target dialog.Centre, mod func(*dialog.Config)) *world {
	t.Helper()
	sms := &dialogtest.SMSLog{}
	cfg := dialog.Config{Conversations: st, OTPs: st, Registry: st, Sealer: st, Outbox: sms,
		Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mod(&cfg)
	eng, err := dialog.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &world{ctx: context.Background(), st: st, eng: eng, sms: sms, clock: clock, cat: eng.Catalogue(), target: target}
}

// worstCaseCalendar takes from every real Co-WIN file the centres with the
// longest names (top 12) and the longest addresses (top 4), moves them all
// to one PIN code and gives them fresh bookable sessions (18+ and 45+, the
// longest slot list found, ample seats; on four two-digit days after now at
// the centre booked, on one at the others).
// The centre with the longest name is given the longest address found and
// the highest fees found, so that the booking summary carries the longest
// of each; a third of the others are paid as well.
func worstCaseCalendar(t *testing.T, now time.Time) ([]dialog.Centre, dialog.Centre) {
	t.Helper()
	dir := cowintest.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Co-WIN files in %s: %v", dir, err)
	}
	byID := map[int64]dialog.Centre{}
	for _, f := range files {
		cs, err := cowin.ParseFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cs {
			byID[c.ID] = c
		}
	}
	all := make([]dialog.Centre, 0, len(byID))
	for _, c := range byID {
		all = append(all, c)
	}
	runes := utf8.RuneCountInString
	slices.SortFunc(all, func(a, b dialog.Centre) int {
		return cmp.Or(runes(b.Name)-runes(a.Name), runes(b.Address)-runes(a.Address), cmp.Compare(a.ID, b.ID))
	})
	picked := slices.Clone(all[:min(12, len(all))])
	byAddr := slices.Clone(all)
	slices.SortStableFunc(byAddr, func(a, b dialog.Centre) int { return runes(b.Address) - runes(a.Address) })
	for _, c := range byAddr[:min(4, len(byAddr))] {
		if !slices.ContainsFunc(picked, func(p dialog.Centre) bool { return p.ID == c.ID }) {
			picked = append(picked, c)
		}
	}

	// The longest slot list, and the highest fees, found in the files.
	var slots []string
	fees := map[string]int{}
	for _, c := range all {
		for _, f := range c.Fees {
			fees[f.Vaccine] = max(fees[f.Vaccine], f.Rupees)
		}
		for _, s := range c.Sessions {
			if len(strings.Join(s.Slots, "")) > len(strings.Join(slots, "")) {
				slots = s.Slots
			}
		}
	}
	if len(slots) == 0 {
		t.Fatal("no session with slots in the Co-WIN files")
	}
	var paid []dialog.Fee
	for v, r := range fees {
		paid = append(paid, dialog.Fee{Vaccine: v, Rupees: r})
	}
	// The dearest first: the centre list shows the first fee.
	slices.SortFunc(paid, func(a, b dialog.Fee) int { return cmp.Or(b.Rupees-a.Rupees, strings.Compare(a.Vaccine, b.Vaccine)) })
	if len(paid) == 0 {
		paid = []dialog.Fee{{Vaccine: "COVAXIN", Rupees: 1410}}
	}

	y, m, d := now.In(dialog.IST).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, dialog.IST)
	for i := range picked {
		c := &picked[i]
		c.Pincode = testPin
		c.Sessions = nil
		days := 4 // the booked centre: a date list that pages
		if i > 0 {
			days = 1 // the others only need to be offered
		}
		for day := 1; day <= days; day++ {
			date := today.AddDate(0, 0, day)
			for _, age := range []int{18, 45} {
				vaccine := "COVISHIELD"
				if age == 45 {
					vaccine = "COVAXIN"
				}
				c.Sessions = append(c.Sessions, dialog.Session{
					ID:   fmt.Sprintf("wc-%d-%s-%d", c.ID, date.Format("20060102"), age),
					Date: date, Vaccine: vaccine, MinAge: age, Slots: slots,
					Capacity: [2]int{seatsPerSession, seatsPerSession},
				})
			}
		}
		if i%3 == 0 {
			c.FeeType, c.Fees = dialog.Paid, paid
		} else {
			c.FeeType, c.Fees = dialog.Free, nil
		}
	}
	picked[0].Address = byAddr[0].Address
	if runes(picked[0].Name) < 30 || runes(picked[0].Address) < 80 {
		t.Logf("worst case weaker than expected: %q / %q", picked[0].Name, picked[0].Address)
	}
	return picked, picked[0]
}

// ---------------------------------------------------------------------------
// people

type person struct {
	name, badName string
	year          string
	gender        string // option
	idType        int    // option, 1..5 (dialog.IDTypes)
	id, badID     string
}

var longNames = map[string][]string{
	"en": {
		"Venkatanarasimha Lakshmi Subrahmanya Sastry Bhattacharjee",
		"Annapurna Devi Ramakrishnan Chaturvedi-Tripathi Mukhopadhyay",
		"Mohammed Abdul Qadir Siddiqui Hussaini Chowdhury Ansari Khan",
		"Bhagyalakshmi Parthasarathy Venkataraman Iyengar D'Souza Rao",
	},
	"hi": {
		"श्रीमती अन्नपूर्णा देवी रामकृष्ण चतुर्वेदी त्रिपाठी शर्मा",
		"वेंकटनरसिंह लक्ष्मी सुब्रह्मण्य शास्त्री भट्टाचार्य अय्यर",
		"मोहम्मद अब्दुल क़ादिर सिद्दीक़ी हुसैनी चौधरी अंसारी ख़ान",
		"Annapurna Devi Ramakrishnan Chaturvedi-Tripathi Mukhopadhyay",
	},
	"bn": {
		"শ্রীমতী অন্নপূর্ণা দেবী রামকৃষ্ণ চট্টোপাধ্যায় মুখার্জি",
		"বেঙ্কটনরসিংহ লক্ষ্মী সুব্রহ্মণ্য শাস্ত্রী ভট্টাচার্য আয়ার",
		"শিবপ্রসাদ রামচন্দ্র বিশ্বনাথ বন্দ্যোপাধ্যায় মুখোপাধ্যায়",
		"Mohammed Abdul Qadir Siddiqui Hussaini Chowdhury Ansari Khan",
	},
}

// people are the four people of a run: long names, each with another photo
// ID type, ID numbers unique to the run (an ID is registered once
// system-wide), a bad number and a bad name to be refused first.
func people(lang string, run int) []person {
	years := []string{"1948", "1985", "1960", "2001"}
	badNames := []string{"A", "Ram 123", strings.Repeat("Ab", 31), "@#!"}
	out := make([]person, 4)
	for i := range out {
		typ := (i+run)%5 + 1
		id, bad := idNumber(typ, run)
		names, ok := longNames[lang]
		if !ok {
			names = longNames["en"] // as long in any script: a UCS-2 screen counts a Latin letter as any other
		}
		out[i] = person{name: names[i], badName: badNames[i], year: years[i],
			gender: strconv.Itoa(i%3 + 1), idType: typ, id: id, badID: bad}
	}
	return out
}

// idNumber returns a valid number of the type (option 1..5) unique to the
// run, and an invalid one.
func idNumber(typ, run int) (good, bad string) {
	switch dialog.IDTypes[typ-1] {
	case dialog.IDAadhaar:
		base := fmt.Sprintf("9%02d%08d", run, 12345678)
		d := dialog.VerhoeffDigit(base)
		wrong := '0' + (d-'0'+1)%10
		return base + string(rune(d)), base + string(rune(wrong))
	case dialog.IDPAN:
		return fmt.Sprintf("ABCP%c%04dF", 'A'+run%26, 1234+run), "ABCDE1234F"
	case dialog.IDDriving:
		return fmt.Sprintf("WB02 2011%07d", 12345+run), "ZZ0220110012345"
	case dialog.IDVoter:
		return fmt.Sprintf("ABC%07d", 1234567+run), "AB12345678"
	default:
		return fmt.Sprintf("J%07d", 8369854+run), "12345678"
	}
}

// ---------------------------------------------------------------------------
// the caller

type budgetCase struct {
	name         string
	channel      dialog.Channel
	screen, ucs2 int  // Turn.ScreenLimit, Turn.UCS2Limit
	gsm7         bool // Turn.GSM7Only: a network that cannot show UCS-2
	want         dialog.Budget
}

type caller struct {
	t      *testing.T
	w      *world
	b      budgetCase
	run    int
	msisdn string
	lang   string

	session string // USSD session id
	vouched bool   // the provider vouches for the number (Turn.Vouched)
	dials   int
	fresh   bool // the next USSD request opens the session
	seq     int  // deliveries

	transcript *strings.Builder
	shortened  []string // lines the pages shortened, for the log
}

func (c *caller) ussd() bool { return c.b.channel == dialog.USSD }

func (c *caller) text(key string, args ...string) string { return c.w.cat.Text(c.lang, key, args...) }

// turn builds the request for input.
func (c *caller) turn(input string) dialog.Turn {
	c.seq++
	t := dialog.Turn{Channel: c.b.channel, Provider: "enginetest", Msisdn: c.msisdn, Input: input,
		ScreenLimit: c.b.screen, UCS2Limit: c.b.ucs2, GSM7Only: c.b.gsm7, Vouched: c.vouched,
		Delivery: fmt.Sprintf("run%d-%d", c.run, c.seq)}
	if c.ussd() {
		t.Session, t.NewSession = c.session, c.fresh
		c.fresh = false
	}
	return t
}

// send delivers one input and checks that the reply fits its channel.
func (c *caller) send(input string) dialog.Reply {
	c.t.Helper()
	r, err := c.w.eng.Handle(c.w.ctx, c.turn(input))
	if err != nil {
		c.t.Fatalf("input %q: %v", input, err)
	}
	if c.transcript != nil {
		shown := input
		if input == "" {
			shown = "(dial)"
		}
		kind := "CON"
		if r.End {
			kind = "END"
		}
		fmt.Fprintf(c.transcript, "> %s\n%s %s\n\n", shown, kind, strings.ReplaceAll(r.Text, "\n", "\n    "))
	}
	c.fits(fmt.Sprintf("reply to %q", input), r.Text)
	return r
}

// fits checks one page against the channel's budget.
func (c *caller) fits(what, page string) {
	c.t.Helper()
	if u, limit := dialog.Units(page), c.b.want.For(page); u > limit {
		c.t.Errorf("%s: %d units, over the %d limit (UCS-2: %v):\n%s", what, u, limit, dialog.NeedsUCS2(page), page)
	}
	if c.b.channel == dialog.SMSChannel {
		if n := dialog.SMSSegments(page); n > 3 {
			c.t.Errorf("%s: %d SMS segments, want at most 3:\n%s", what, n, page)
		}
	}
	if strings.TrimSpace(page) == "" {
		c.t.Errorf("%s: empty screen", what)
	}
}

// state is the stored state of the caller's conversation ("" when none).
func (c *caller) state() string {
	c.t.Helper()
	n, _ := dialog.NormaliseMsisdn(c.msisdn)
	ld, err := c.w.st.Load(c.w.ctx, n, "")
	if err != nil {
		c.t.Fatal(err)
	}
	if ld.Conversation == nil {
		return ""
	}
	return ld.Conversation.State
}

func (c *caller) conversation() *dialog.Conversation {
	c.t.Helper()
	n, _ := dialog.NormaliseMsisdn(c.msisdn)
	ld, err := c.w.st.Load(c.w.ctx, n, "")
	if err != nil || ld.Conversation == nil {
		c.t.Fatalf("no conversation: %v", err)
	}
	return ld.Conversation
}

const end = "END"

// start dials anew (USSD: a new session) or sends a message that is not a
// keyword (SMS), and expects the screen of state.
func (c *caller) start(state string) {
	c.t.Helper()
	input := "Hello"
	if c.ussd() {
		c.dials++
		c.session = fmt.Sprintf("ATUid_run%d_%d", c.run, c.dials)
		c.fresh = true
		input = ""
	}
	c.step(input, state, "")
}

// step sends input and expects the screen of state (end: the reply ends
// the conversation), showing notice (lines, "" for none); then it checks
// the screen's pages.
func (c *caller) step(input, state, notice string) dialog.Reply {
	c.t.Helper()
	r := c.send(input)
	c.expect(input, r, state, notice)
	return r
}

// expect checks that reply r to input is the screen of state with notice.
func (c *caller) expect(input string, r dialog.Reply, state, notice string) {
	c.t.Helper()
	got := c.state()
	if state == end {
		if !r.End || got != "" {
			c.t.Fatalf("input %q: want the end of the conversation, got state %q (end %v):\n%s", input, got, r.End, r.Text)
		}
		if notice != "" && r.Text != notice {
			c.t.Errorf("input %q: last words %q, want %q", input, r.Text, notice)
		}
		return
	}
	if r.End || got != state {
		c.t.Fatalf("input %q: want screen %q, got state %q (end %v):\n%s", input, state, got, r.End, r.Text)
	}
	c.checkScreen(state, r, notice)
}

var optionPrefix = regexp.MustCompile(`^[0-9]+ `)

// checkScreen pages through the caller's current screen from reply r and
// checks every page and that every line of the unpaged screen was shown.
// It leaves the caller on the first page.
func (c *caller) checkScreen(state string, r dialog.Reply, notice string) {
	c.t.Helper()
	menu, budget, err := c.w.eng.ScreenMenu(c.w.ctx, c.turn(""))
	if err != nil {
		c.t.Fatalf("screen %q: ScreenMenu: %v", state, err)
	}
	if budget != c.b.want {
		c.t.Errorf("screen %q: budget %+v, want %+v", state, budget, c.b.want)
	}
	if more := "98 " + c.text("nav.more"); menu.More != more {
		c.t.Errorf("screen %q: More line %q, want %q", state, menu.More, more)
		menu.More = more
	}
	where := fmt.Sprintf("screen %q (%s, %s)", state, c.lang, c.b.name)
	var wantNotice []string
	if notice != "" {
		wantNotice = lines(notice)
	}
	if !slices.Equal(menu.Notice, wantNotice) {
		c.t.Errorf("%s: notice %q, want %q", where, menu.Notice, wantNotice)
	}
	want := menu.Pages(budget)

	// Pages are told apart by the page number the conversation stores, not
	// by their text: two pages of a long list may read the same.
	page := func() int { return c.conversation().Page }
	pages := []string{r.Text}
	seen := map[int]bool{}
	cur := page()
	if cur >= len(want) || want[cur] != r.Text {
		c.t.Errorf("%s: the reply is not page %d of the screen's %d pages:\n%s", where, cur+1, len(want), r.Text)
	}
	seen[cur] = true
	broke := false
	for presses := 0; len(want) > 1; presses++ {
		if cur == 0 && len(seen) == len(want) {
			break
		}
		if presses > 2*len(want)+2 {
			c.t.Errorf("%s: paging never came back to the first page", where)
			broke = true
			break
		}
		more := "98"
		if !c.ussd() && presses%2 == 1 {
			more = "MORE"
		}
		next := c.send(more)
		if next.End || c.state() != state {
			c.t.Fatalf("%s: %s left the screen (state %q):\n%s", where, more, c.state(), next.Text)
		}
		i := page()
		if i != (cur+1)%len(want) {
			c.t.Errorf("%s: %s on page %d went to page %d", where, more, cur+1, i+1)
		}
		if i >= len(want) || next.Text != want[i] {
			c.t.Errorf("%s: %s after page %d showed what is not page %d of the screen:\n%s", where, more, cur+1, i+1, next.Text)
			pages = append(pages, next.Text)
			broke = true
			break
		}
		seen[i] = true
		pages = append(pages, next.Text)
		cur = i
	}
	if !broke && len(seen) != len(want) {
		c.t.Errorf("%s: saw %d of %d pages", where, len(seen), len(want))
	}

	all := concat(menu.Notice, menu.Head, menu.Body, menu.Items, menu.Tail, []string{menu.More})
	limit := budget.For(strings.Join(all, ""))
	for i, p := range pages {
		c.fits(fmt.Sprintf("%s page %d", where, i+1), p)
		if c.lang == "en" && state != "lang" && dialog.NeedsUCS2(c.withoutNames(p)) {
			c.t.Errorf("%s: an English page needs UCS-2 (half the room):\n%s", where, p)
		}
		for _, l := range menu.Tail {
			if !slices.Contains(lines(p), l) {
				c.t.Errorf("%s: tail line %q missing from a page:\n%s", where, l, p)
			}
		}
	}
	c.shown(where, "item", "any page", menu.Items, pages, menu, limit)
	for _, p := range checkRules(menu, want) {
		c.t.Errorf("%s: %s", where, p)
	}
	// A menu's text gives way to its first option where both cannot fit
	// the first page (the fit tests check how); otherwise it is all there.
	beside := concat(menu.Head, menu.Notice, menu.Body, menu.Items[:min(1, len(menu.Items))], []string{menu.More}, menu.Tail)
	if !menu.Confirm && len(menu.Items) > 0 && dialog.Units(strings.Join(beside, "\n")) > limit {
		return
	}
	c.wrapped(where, "head line", menu.Head, want, menu)
	c.wrapped(where, "notice line", menu.Notice, want, menu)
	c.wrapped(where, "body line", menu.Body, want, menu)
}

// withoutNames is page without the names of the caller's people, which
// may be in any script.
func (c *caller) withoutNames(page string) string {
	n, _ := dialog.NormaliseMsisdn(c.msisdn)
	a, err := c.w.st.Account(c.w.ctx, n)
	if err != nil {
		return page
	}
	for _, b := range a.Beneficiaries {
		page = strings.ReplaceAll(page, b.Name, "")
		first, _, _ := strings.Cut(b.Name, " ")
		page = strings.ReplaceAll(page, first, "")
	}
	return page
}

// wrapped checks that each text line is on the pages whole, perhaps
// wrapped over consecutive lines (even across a page break), never cut:
// the pages' text, without the More and tail lines and without spaces,
// holds the line without spaces.
func (c *caller) wrapped(where, what string, want, pages []string, menu dialog.Menu) {
	c.t.Helper()
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	var text strings.Builder
	for i, p := range pages {
		ls := lines(p)
		headFirst := len(menu.Head) > 0 && len(ls) >= len(menu.Head) && slices.Equal(ls[:len(menu.Head)], menu.Head)
		for j, l := range ls {
			repeatedHead := i > 0 && headFirst && j < len(menu.Head)
			if l != menu.More && !slices.Contains(menu.Tail, l) && !repeatedHead {
				text.WriteString(squash(l))
			}
		}
	}
	for _, l := range want {
		if !strings.Contains(text.String(), squash(l)) {
			c.t.Errorf("%s: %s %q is not whole on the pages:\n%s", where, what, l, strings.Join(pages, "\n----\n"))
		}
	}
}

// shown checks that each line is on one of the pages whole, or shortened
// with an ellipsis because even alone (with only the tail and the More
// line) it could not fit a page, keeping its option number.
func (c *caller) shown(where, what, scope string, want, pages []string, menu dialog.Menu, limit int) {
	c.t.Helper()
next:
	for _, l := range want {
		for _, p := range pages {
			if slices.Contains(lines(p), l) {
				continue next
			}
		}
		ell := "..."
		if dialog.NeedsUCS2(l) {
			ell = "…"
		}
		for _, p := range pages {
			pl := lines(p)
			for _, got := range pl {
				cut, ok := strings.CutSuffix(got, ell)
				if !ok || cut == "" || !strings.HasPrefix(l, cut) {
					continue
				}
				if m := optionPrefix.FindString(l); m != "" && !strings.HasPrefix(got, m) {
					c.t.Errorf("%s: %s %q shortened without its option number: %q", where, what, l, got)
					continue next
				}
				// Alone: with only what every page of the screen must
				// carry (the tail, and the More line where there is one).
				// A line that is not the menu's last needs the More
				// line wherever it stands.
				alone := []string{l}
				if slices.Contains(pl, menu.More) || l != menu.Items[len(menu.Items)-1] {
					alone = append(alone, menu.More)
				}
				alone = append(alone, menu.Tail...)
				if u := dialog.Units(strings.Join(alone, "\n")); u <= limit {
					c.t.Errorf("%s: %s %q shortened to %q though it fits a page alone (%d ≤ %d units)", where, what, l, got, u, limit)
				} else if note := fmt.Sprintf("%s: %s %q → %q", where, what, l, got); !slices.Contains(c.shortened, note) {
					c.shortened = append(c.shortened, note)
				}
				continue next
			}
		}
		c.t.Errorf("%s: %s %q is not on %s, whole or rightly shortened:\n%s", where, what, l, scope, strings.Join(pages, "\n----\n"))
	}
}

func lines(page string) []string { return strings.Split(page, "\n") }

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ---------------------------------------------------------------------------
// the journey

func (c *caller) journey(langOption, lang, nextLang string, ppl []person) {
	t := c.t
	for _, p := range ppl {
		if n := utf8.RuneCountInString(p.name); n < 54 || n > 60 {
			t.Fatalf("test data: name %q has %d letters, want 54..60", p.name, n)
		}
	}
	// 1 Language (first contact), 2 Number with a bad other number, 3 OTP.
	c.start("lang")
	c.lang = lang
	c.step(langOption, "number", "")
	c.step("2", "other_number", "")
	c.step("12345", "other_number", c.text("hint.mobile"))
	c.step("0", "number", "")
	c.login(true)

	// 5 Add person, four times, then once too many.
	for i, p := range ppl {
		c.addPerson(i, p)
	}
	c.step("1", "home", c.text("home.full", "max", "4"))

	// 6 Book for all four at the worst-case centre.
	c.book(1, true)

	// Dial again: the finished conversation is gone; sign in again.
	c.start("number")
	c.login(false)

	// 7 My appointments: four long lines; the slips sent again, once.
	c.step("3", "my_appointments", "")
	c.backPages("my_appointments")
	c.step("7", "my_appointments", c.text("hint.back"))
	c.step("1", "my_appointments", c.text("mine.again_sent"))
	c.step("1", "my_appointments", c.text("mine.again_once"))
	c.step("0", "home", "")

	// Book all four again on another day: the summary lists four
	// "replaces" lines besides the worst-case centre.
	c.book(2, false)
	c.start("number")
	c.login(false)

	// Cancel one.
	c.step("4", "cancel_who", "")
	c.step("1", "cancel_confirm", "")
	c.step("1", "home", c.text("cancel.done"))
	c.step("3", "my_appointments", "")
	c.step("0", "home", "")

	// Language from Home, then exit in the new language.
	c.step("5", "lang", "")
	c.lang = dialog.Languages[mustAtoi(t, nextLang)-1]
	c.step(nextLang, "home", "")
	c.step("0", end, c.text("home.bye"))
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// backPages checks, on the first page of a screen of several pages, that
// 98 shows the second and that 0 there returns to the first page, not to
// the screen before.
func (c *caller) backPages(state string) {
	c.t.Helper()
	menu, budget, err := c.w.eng.ScreenMenu(c.w.ctx, c.turn(""))
	if err != nil {
		c.t.Fatal(err)
	}
	pages := menu.Pages(budget)
	if len(pages) < 2 {
		if !c.ussd() {
			return // three SMS segments hold it
		}
		c.t.Errorf("screen %q (%s, %s): one page; the worst case should need more", state, c.lang, c.b.name)
		return
	}
	if r := c.send("98"); r.Text != pages[1] || c.state() != state {
		c.t.Fatalf("screen %q: 98 on the first page showed (state %q):\n%s", state, c.state(), r.Text)
	}
	if r := c.send("0"); r.Text != pages[0] || c.state() != state {
		c.t.Fatalf("screen %q: 0 on the second page showed (state %q):\n%s", state, c.state(), r.Text)
	}
}

// login chooses the caller's own number and enters the code it receives,
// after a wrong one when wrong is set.
func (c *caller) login(wrong bool) {
	c.t.Helper()
	c.w.clock.Advance(time.Minute) // past the resend cool-down
	c.step("1", "otp", "")
	code := c.otp()
	if wrong {
		bad := []byte(code)
		bad[0] = '0' + (bad[0]-'0'+1)%10
		c.step(string(bad), "otp", c.text("otp.wrong", "left", "2"))
	}
	c.step(code, "home", "")
}

// otp is the latest code sent to the caller.
func (c *caller) otp() string {
	c.t.Helper()
	return c.w.lastCode(c.t, c.msisdn)
}

// lastCode is the latest code the world's engine sent to msisdn.
func (w *world) lastCode(t *testing.T, msisdn string) string {
	t.Helper()
	w.eng.Drain()
	code, ok := w.sms.LastCode(msisdn)
	if !ok {
		t.Fatalf("no code sent to %s", dialog.MaskMsisdn(msisdn))
	}
	return code
}

func (c *caller) account() dialog.Account {
	c.t.Helper()
	n, _ := dialog.NormaliseMsisdn(c.msisdn)
	a, err := c.w.st.Account(c.w.ctx, n)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// addPerson walks Add person from Home with a refused ID number and name;
// the second person's is interrupted by a dropped USSD session (resumed)
// or, over SMS, by HELP.
func (c *caller) addPerson(i int, p person) {
	c.t.Helper()
	typeLabel := c.text("id." + string(dialog.IDTypes[p.idType-1]))
	c.step("1", "id_type", "")
	c.step(strconv.Itoa(p.idType), "id_number", "")
	c.step(p.badID, "id_number", c.text("idnum.bad", "type", typeLabel))
	c.step(p.id, "name", "")
	if i == 1 {
		if c.ussd() {
			c.start("resume")
			c.step("1", "name", "")
		} else {
			c.step("HELP", "name", c.text("sms.help"))
		}
	}
	c.step(p.badName, "name", c.text("name.bad"))
	c.step(p.name, "birth_year", "")
	if i == 0 {
		c.step("2015", "birth_year", c.text("year.bad", "from", "1901", "to", "2003"))
	}
	c.step(p.year, "gender", "")
	c.step(p.gender, "confirm_person", "")
	r := c.send("1")
	bs := c.account().Beneficiaries
	if len(bs) != i+1 {
		c.t.Fatalf("after confirming person %d: %d registered", i+1, len(bs))
	}
	b := bs[i]
	c.expect("1", r, "home", c.text("person.added", "name", dialog.Shorten(b.Name, 24), "count", strconv.Itoa(i+1), "max", "4"))
}

// book books all four at the worst-case centre on the day-th date, the
// last slot, and ends with the appointment IDs. first marks the first
// booking, which also refuses a bad PIN and, over USSD, drops the session on
// the centre list and resumes.
func (c *caller) book(day int, first bool) {
	c.t.Helper()
	c.step("2", "book_who", "")
	c.step("5", "pin", "") // All
	if first {
		c.step("12", "pin", c.text("hint.pin"))
	}
	c.step(testPin, "centre", "")
	if first {
		c.backPages("centre")
	}
	if first && c.ussd() {
		c.start("resume")
		c.step("1", "centre", "")
	}
	conv := c.conversation()
	opt := slices.Index(conv.Booking.Centres, strconv.FormatInt(c.w.target.ID, 10))
	if opt < 0 {
		c.t.Fatalf("the worst-case centre %d is not offered: %v", c.w.target.ID, conv.Booking.Centres)
	}
	c.step(strconv.Itoa(opt+1), "date", "")
	c.step(strconv.Itoa(day), "slot", "")
	c.step(strconv.Itoa(len(c.w.target.Sessions[0].Slots)), "confirm_booking", "")

	// The summary holds the worst-case centre's name (its address only
	// where it fits one page, which the worst case does not).
	menu, _, err := c.w.eng.ScreenMenu(c.w.ctx, c.turn(""))
	if err != nil {
		c.t.Fatal(err)
	}
	if !slices.ContainsFunc(menu.Body, func(l string) bool { return strings.HasPrefix(l, c.w.target.Name) }) {
		c.t.Errorf("booking summary lacks the centre's name: %q", menu.Body)
	}
	if !first && len(menu.Body) < 7 {
		c.t.Errorf("rebooking summary without the four replaced bookings: %q", menu.Body)
	}

	r := c.send("1")
	a := c.account()
	var booked, codes []string
	for _, b := range a.Beneficiaries {
		ap, ok := a.AppointmentFor(b.Ref, 1)
		if !ok {
			c.t.Fatalf("%s not booked", b.Name)
		}
		first, _, _ := strings.Cut(b.Name, " ")
		booked = append(booked, c.text("book.line", "name", first, "id", ap.ID, "code", ap.Code))
		codes = append(codes, c.text("book.code", "name", first, "code", ap.Code))
	}
	// With the appointment ids where they fit one screen, else the codes.
	farewell := c.text("book.done") + "\n" + strings.Join(booked, "\n")
	if dialog.Units(farewell) > c.b.want.For(farewell) {
		farewell = c.text("book.done") + "\n" + strings.Join(codes, "\n")
	}
	if r.End {
		c.expect("1", r, end, farewell)
		return
	}
	// Too long for one screen: paged, then 0 ends.
	c.expect("1", r, "done", "")
	menu, _, err = c.w.eng.ScreenMenu(c.w.ctx, c.turn(""))
	if err != nil {
		c.t.Fatal(err)
	}
	if !slices.Equal(menu.Body, lines(farewell)) {
		c.t.Errorf("last words %q, want %q", menu.Body, lines(farewell))
	}
	c.step("0", end, c.text("home.bye"))
}

// checkSMS checks every SMS the caller received: at most three segments
// (the most a slip may take), and the slips of both bookings.
func (c *caller) checkSMS(t *testing.T) {
	t.Helper()
	c.w.eng.Drain()
	slips := 0
	for _, m := range c.w.sms.To(c.msisdn) {
		if strings.HasPrefix(m.Ref, "slip-") {
			slips++
		}
		if n := dialog.SMSSegments(m.Text); n > 3 {
			t.Errorf("SMS %s in %d segments (more than 3): %s", m.Ref, n, m.Text)
		}
	}
	if slips != 12 {
		t.Errorf("%d slips sent, want 12 (four people booked twice, the first four sent again)", slips)
	}
}

// replyKeeper hands every loaded conversation, or a caller without one,
// the replies kept for earlier deliveries, as the Redis store does, and
// notes the replies each save is given.
type replyKeeper struct {
	dialog.Conversations
	kept  []dialog.KeptReply
	saved [][]dialog.KeptReply
}

func (r *replyKeeper) Load(ctx context.Context, msisdn, replyKey string) (dialog.Loaded, error) {
	ld, err := r.Conversations.Load(ctx, msisdn, replyKey)
	if ld.Conversation != nil {
		ld.Conversation.Replies = slices.Clone(r.kept)
	} else {
		ld.Replies = slices.Clone(r.kept)
	}
	return ld, err
}

func (r *replyKeeper) Peek(string, string) (dialog.Loaded, bool) { return dialog.Loaded{}, false }

func (r *replyKeeper) Save(ctx context.Context, c *dialog.Conversation, ttl time.Duration, replyKey string, reply dialog.Reply, sms ...dialog.SMS) error {
	r.saved = append(r.saved, slices.Clone(c.Replies))
	return r.Conversations.Save(ctx, c, ttl, replyKey, reply, sms...)
}

// TestConversationCarriesReplies: the replies kept for earlier deliveries
// go on with a conversation that starts after another ended, and with one
// that starts again on a new USSD session.
func TestConversationCarriesReplies(t *testing.T) {
	kept := []dialog.KeptReply{{Key: "0123456789abcdef0123456789abcdef", Reply: dialog.Reply{Text: "Thank you", End: true}}}
	keeper := &replyKeeper{kept: kept}
	w := newCalendar(t).worldWith(t, func(c *dialog.Config) {
		keeper.Conversations = c.Conversations
		c.Conversations = keeper
	})
	for i, session := range []string{"s1", "s2"} { // a new conversation, then a restart
		turn := dialog.Turn{Channel: dialog.USSD, Provider: "test", Msisdn: "+919830000001", Session: session, NewSession: true,
			Delivery: session}
		if _, err := w.eng.Handle(w.ctx, turn); err != nil {
			t.Fatal(err)
		}
		if len(keeper.saved) != i+1 || !reflect.DeepEqual(keeper.saved[i], kept) {
			t.Errorf("session %s: saves were given replies %+v, want %+v last", session, keeper.saved, kept)
		}
	}
}
