package dialog

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestUnitsAndEncoding(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		ucs2     bool
		units    int
		segments int
	}{
		{"plain", "Hello", false, 5, 1},
		{"extension chars count two", "[]{}|^€~\\", false, 18, 1},
		{"gsm accents", "àéñü", false, 4, 1},
		{"rupee sign needs UCS-2", "Rs ₹780", true, 7, 1},
		{"hindi", "टीका", true, 4, 1},
		{"bengali", "টিকা", true, 4, 1},
		{"160 gsm fits one", strings.Repeat("a", 160), false, 160, 1},
		{"161 gsm needs two", strings.Repeat("a", 161), false, 161, 2},
		{"extension tips over", strings.Repeat("a", 159) + "€", false, 161, 2},
		{"70 ucs2 fits one", strings.Repeat("टी", 35), true, 70, 1},
		{"71 ucs2 needs two", strings.Repeat("टी", 35) + "क", true, 71, 2},
		{"135 ucs2 needs three", strings.Repeat("क", 135), true, 135, 3},
		{"emoji is two code units", "😀", true, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsUCS2(tt.in); got != tt.ucs2 {
				t.Errorf("NeedsUCS2 = %v, want %v", got, tt.ucs2)
			}
			if got := Units(tt.in); got != tt.units {
				t.Errorf("Units = %d, want %d", got, tt.units)
			}
			if got := SMSSegments(tt.in); got != tt.segments {
				t.Errorf("SMSSegments = %d, want %d", got, tt.segments)
			}
		})
	}
}

func TestMenuPagesKeepEveryItem(t *testing.T) {
	long := "Urban Primary Health Centre Number Twelve Sector Fifty Five Noida Gautam Buddha Nagar Extension Block B"
	tests := []struct {
		name   string
		items  int
		label  string
		budget Budget
		head   string
	}{
		{"short list one page", 3, "Centre", USSDBudget, "Centres at 700001:"},
		{"long list pages", 40, "Primary Health Centre", USSDBudget, "Centres at 700001:"},
		{"hindi list pages in 80", 12, "प्राथमिक स्वास्थ्य केंद्र", USSDBudget, "केंद्र चुनें:"},
		{"sms one segment", 20, "Centre with a name", SMSBudget, "Centres:"},
		{"item too long alone", 5, long + long, USSDBudget, "Centres:"},
		{"tiny operator limit", 9, "Centre", Budget{GSM: 60, UCS2: 40}, "Pick:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := make([]string, tt.items)
			for i := range labels {
				labels[i] = fmt.Sprintf("%s %d", tt.label, i+1)
			}
			m := Menu{Head: []string{tt.head}, Items: options(labels...), Tail: []string{"0 Back"}, More: "98 More"}
			pages := m.Pages(tt.budget)
			seen := 0
			for pi, p := range pages {
				if lim := tt.budget.For(strings.Join(m.Items, "") + tt.head); Units(p) > lim {
					t.Errorf("page %d has %d units, limit %d:\n%s", pi, Units(p), lim, p)
				}
				if !strings.Contains(p, "0 Back") {
					t.Errorf("page %d lost the Back line", pi)
				}
				if last := pi == len(pages)-1; strings.Contains(p, "98 More") == last {
					t.Errorf("page %d: More shown=%v on last=%v", pi, !last, last)
				}
				for _, line := range strings.Split(p, "\n") {
					if seen < len(m.Items) && strings.HasPrefix(line, fmt.Sprintf("%d ", seen+1)) {
						seen++
					}
				}
			}
			if seen != tt.items {
				t.Fatalf("saw %d of %d options across %d pages:\n%s", seen, tt.items, len(pages), strings.Join(pages, "\n---\n"))
			}
		})
	}
}

func TestShorten(t *testing.T) {
	if got := Shorten("Short", 10); got != "Short" {
		t.Errorf("Shorten kept = %q", got)
	}
	got := Shorten("A very long centre name indeed", 12)
	if Units(got) > 12 || !strings.HasSuffix(got, "...") {
		t.Errorf("Shorten GSM = %q (%d units)", got, Units(got))
	}
	got = Shorten("प्राथमिक स्वास्थ्य केंद्र", 10)
	if Units(got) > 10 || !strings.HasSuffix(got, "…") {
		t.Errorf("Shorten UCS-2 = %q (%d units)", got, Units(got))
	}
}

func TestMenuPagesWrapTextNeverCut(t *testing.T) {
	long := "Registered Venkatanarasimha Lakshmi Subrahmanya Sastry Bhattacharjee. Ref 3811162014051"
	tests := []struct {
		name   string
		menu   Menu
		budget Budget
	}{
		{"long notice above a confirmation", Menu{Notice: []string{long}, Head: []string{"Register?"}, Body: []string{"Sita Devi, 1962, Female"},
			Items: options("Yes", "Start again"), Tail: []string{"0 Back"}, Confirm: true}, Budget{GSM: 60, UCS2: 40}},
		{"long text, no options", Menu{Notice: []string{long}, Head: []string{"Enter the 6-digit PIN code of the area:"}, Tail: []string{"0 Back"}}, Budget{GSM: 60, UCS2: 30}},
		{"summary body in Hindi", Menu{Head: []string{"बुक करें?"}, Body: []string{"श्रीमती अन्नपूर्णा देवी रामकृष्ण चतुर्वेदी त्रिपाठी शर्मा, मोहम्मद अब्दुल क़ादिर",
			"Smruti Mandir Opp. Mirani Nagar 1st And 2nd Floor Ganesh Gawade Road Mulund West"}, Items: options("हाँ", "पीछे"), Confirm: true}, USSDBudget},
		{"a word longer than a line", Menu{Body: []string{strings.Repeat("x", 300)}, Tail: []string{"0 Back"}}, USSDBudget},
	}
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.menu.More = "98 More"
			pages := tt.menu.Pages(tt.budget)
			var text strings.Builder
			for i, p := range pages {
				if lim := tt.budget.For(p); Units(p) > lim {
					t.Errorf("page %d: %d units over %d:\n%s", i, Units(p), lim, p)
				}
				if strings.Contains(p, "...") || strings.Contains(p, "…") {
					t.Errorf("page %d cut text:\n%s", i, p)
				}
				for _, l := range strings.Split(p, "\n") {
					if l != tt.menu.More && !slices.Contains(tt.menu.Tail, l) && !(i > 0 && slices.Contains(tt.menu.Head, l)) {
						text.WriteString(squash(l))
					}
				}
			}
			for _, l := range concat(tt.menu.Notice, tt.menu.Body, tt.menu.Items) {
				if !strings.Contains(text.String(), squash(l)) {
					t.Errorf("%q not whole on the pages:\n%s", l, strings.Join(pages, "\n---\n"))
				}
			}
		})
	}
}

// TestMenuPagesKeepWordsWhole: a word that does not fit what is left of a
// page starts the next one whole; only a word longer than a page is split.
func TestMenuPagesKeepWordsWhole(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // the words, as they must appear whole on some page
	}{
		{"Latin", "Jaynagar Majilpur Rural Hospital Gate 2", []string{"Jaynagar", "Majilpur", "Hospital"}},
		{"Gujarati", "મંગળ 21 સપ્ટે સવારે 10 વાગ્યે", []string{"મંગળ", "સપ્ટે", "વાગ્યે"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Menu{Head: []string{"Book?"}, Body: []string{"Sita Devi", tt.body}, Items: options("Yes", "Back"), More: "98 More", Confirm: true}
			pages := m.Pages(Budget{GSM: 30, UCS2: 24})
			all := strings.Join(pages, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("%q split across pages:\n%s", w, strings.Join(pages, "\n---\n"))
				}
			}
		})
	}
}

// TestMenuFirstPageShowsFirstOption: on a menu the first page shows the
// first option at every size a partner may set; text before it is whole
// when it fits beside it, and otherwise shortened there, never pushing the
// option to the next page. A confirmation shows its options only after
// all of its text.
func TestMenuFirstPageShowsFirstOption(t *testing.T) {
	notice := "Registered Venkatanarasimha Lakshmi Subrahmanya Sastry Bhattacharjee. Ref 3811162014051"
	home := Menu{Notice: []string{notice}, Head: []string{"Home"}, More: "98 More",
		Items: options("Add person", "Book", "My appointments", "Cancel", "Language"), Tail: []string{"0 Exit"}}
	hiHome := Menu{Notice: []string{"सीता देवी दर्ज (1/4)"}, More: "98 और",
		Items: options("नाम जोड़ें", "टीका बुक करें", "मेरी बुकिंग", "बुकिंग रद्द", "भाषा"), Tail: []string{"0 बंद करें"}}
	confirm := Menu{Head: []string{"बुक करें?"}, Body: []string{"श्रीमती अन्नपूर्णा देवी रामकृष्ण चतुर्वेदी त्रिपाठी शर्मा",
		"गुरु 23 सित 10:00AM-12:00PM", "Smruti Mandir Opp. Mirani Nagar 1st And 2nd Floor Ganesh Gawade Road Mulund West"},
		Items: options("हाँ", "पीछे"), More: "98 और", Confirm: true}
	tests := []struct {
		name     string
		menu     Menu
		budget   Budget
		shortens bool // the text before the first option must give way
	}{
		{"english home, full screen", home, USSDBudget, false},
		{"english home, smallest screen", home, Budget{GSM: 60, UCS2: 30}, true},
		{"hindi home, full screen", hiHome, USSDBudget, false},
		{"hindi home, smallest screen", hiHome, Budget{GSM: 60, UCS2: 30}, true},
		{"hindi confirmation, full screen", confirm, USSDBudget, false},
		{"hindi confirmation, smallest screen", confirm, Budget{GSM: 60, UCS2: 30}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := tt.menu.Pages(tt.budget)
			all := strings.Join(pages, "\n")
			first := strings.Split(pages[0], "\n")
			if !tt.menu.Confirm && !slices.Contains(first, tt.menu.Items[0]) {
				t.Errorf("first page lacks %q:\n%s", tt.menu.Items[0], pages[0])
			}
			cut := strings.Contains(all, "...") || strings.Contains(all, "…")
			if cut != tt.shortens {
				t.Errorf("text shortened: %v, want %v:\n%s", cut, tt.shortens, strings.Join(pages, "\n----\n"))
			}
			if tt.menu.Confirm {
				// Every option after the last line of the body.
				lastBody := 0
				for i, p := range pages {
					for _, b := range tt.menu.Body {
						if strings.Contains(strings.Join(strings.Fields(p), ""), lastWord(b)) {
							lastBody = max(lastBody, i)
						}
					}
				}
				for i, p := range pages {
					if i < lastBody && slices.Contains(strings.Split(p, "\n"), tt.menu.Items[0]) {
						t.Errorf("confirm option on page %d, before the body ends on page %d", i+1, lastBody+1)
					}
				}
			}
			if err := checkPages(tt.menu, pages, tt.budget.For(all)); err != nil {
				t.Error(err)
			}
		})
	}
}

func lastWord(s string) string {
	f := strings.Fields(s)
	return f[len(f)-1]
}

func TestMenuPagesNavigationTooLong(t *testing.T) {
	bnConfirm := Menu{Head: []string{"এঁকে রেজিস্টার করবেন?"},
		Body:  []string{"শ্রীমতী অন্নপূর্ণা দেবী চট্টোপাধ্যায়, 1961, মহিলা", "আধার XXXX XXXX 2346"},
		Items: options("হ্যাঁ", "আবার শুরু"), Tail: []string{"0 পিছনে"}, More: "98 আরও", Confirm: true}
	centres := Menu{Head: []string{"Centres at 700001:"}, Items: options("Urban PHC Ward 12", "Sub Centre Behala", "District Hospital Barasat", "Kolkata Medical College"),
		Tail: []string{"0 Back"}}
	tests := []struct {
		name   string
		menu   Menu
		more   string
		budget Budget
		// whole: the More line and the tail are on the pages unshortened.
		whole bool
	}{
		{"more line longer than the screen", centres, "98 " + strings.Repeat("More centres ", 20), Budget{GSM: 60, UCS2: 30}, false},
		{"long hindi more line", Menu{Head: []string{"केंद्र चुनें:"}, Items: options("प्राथमिक स्वास्थ्य केंद्र", "जिला अस्पताल", "सामुदायिक केंद्र"), Tail: []string{"0 पीछे"}},
			"98 और केंद्र देखने के लिए यहां दबाएं", Budget{GSM: 60, UCS2: 30}, false},
		{"bengali confirmation on the smallest screen", bnConfirm, bnConfirm.More, Budget{GSM: 60, UCS2: 30}, false},
		{"bengali confirmation on a small screen", bnConfirm, bnConfirm.More, Budget{GSM: 140, UCS2: 60}, true},
		{"navigation within two thirds", centres, "98 More", Budget{GSM: 60, UCS2: 30}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.menu.More = tt.more
			pages := tt.menu.Pages(tt.budget)
			if len(pages) < 2 {
				t.Fatalf("want several pages, got %q", pages)
			}
			limit := tt.budget.For(strings.Join(concat(tt.menu.Head, tt.menu.Body, tt.menu.Items, tt.menu.Tail, []string{tt.more}), ""))
			for i, p := range pages {
				if Units(p) > limit {
					t.Errorf("page %d: %d units over %d:\n%s", i, Units(p), limit, p)
				}
				lines := strings.Split(p, "\n")
				nav := lines[len(lines)-len(tt.menu.Tail):]
				if i < len(pages)-1 {
					nav = lines[len(lines)-len(tt.menu.Tail)-1:]
				}
				for j, l := range nav {
					want := append(slices.Clone(tt.menu.Tail), tt.more)[j]
					if i < len(pages)-1 {
						want = append([]string{tt.more}, tt.menu.Tail...)[j]
					}
					if tt.whole && l != want {
						t.Errorf("page %d: navigation line %q, want %q", i, l, want)
					}
					num, _, _ := strings.Cut(want, " ")
					if !strings.HasPrefix(l, num) || !shortOf(l, want) {
						t.Errorf("page %d: navigation line %q is not %q or its shortening with the option number", i, l, want)
					}
				}
				if content := len(lines) - len(nav); content < 1 {
					t.Errorf("page %d has no content:\n%s", i, p)
				}
			}
		})
	}
}

// shortOf reports whether line is orig, orig shortened by Shorten, or the
// option number of orig.
func shortOf(line, orig string) bool {
	if num, _, _ := strings.Cut(orig, " "); line == orig || line == num {
		return true
	}
	cut, ok := cutEllipsis(line)
	return ok && strings.HasPrefix(orig, cut)
}

// cutEllipsis returns line without the ellipsis Shorten ends it with.
func cutEllipsis(line string) (string, bool) {
	if cut, ok := strings.CutSuffix(line, "..."); ok {
		return cut, true
	}
	return strings.CutSuffix(line, "…")
}

// Partners may set screens down to these sizes (providers/partner).
const minScreen, minScreenUCS2 = 60, 30

// FuzzPages pages random menus on every screen size from none to past the
// largest. On any size paging ends, keeps every item (whole, or shortened
// with an ellipsis where it could not fit a page alone) and every word of
// the text in order, and repeats the same navigation lines (whole, or
// shortened keeping their option numbers) on every page; on the sizes
// partners may set every page is within the budget.
func FuzzPages(f *testing.F) {
	f.Add("Centres at 700001:", "", "", "1 Urban PHC Ward 12|2 Sub Centre Behala|3 District Hospital Barasat|4 Kolkata Medical College", "0 Back", "98 More", uint16(0))
	f.Add("केंद्र चुनें:", "", "", "1 प्राथमिक स्वास्थ्य केंद्र|2 जिला अस्पताल|3 सामुदायिक केंद्र", "0 पीछे", "98 और केंद्र देखने के लिए यहां दबाएं", uint16(0))
	f.Add("এঁকে রেজিস্টার করবেন?", "", "শ্রীমতী অন্নপূর্ণা দেবী চট্টোপাধ্যায়, 1961, মহিলা|আধার XXXX XXXX 2346", "", "1 হ্যাঁ|2 আবার শুরু|0 পিছনে", "98 আরও", uint16(0))
	f.Add("Home", "Registered Venkatanarasimha Lakshmi Subrahmanya Sastry Bhattacharjee. Ref 3811162014051", "", "1 Add person|2 Book|3 My appointments|4 Cancel|5 Language", "0 Exit", "98 More", uint16(0))
	f.Add("Pick a centre with a title long enough to flow", "Wrong choice, try again", "Book for Ram|Date 12-06", "1 centre one two three four five six seven eight nine ten eleven twelve|2 b", "1 Yes|0 Back", "98 More", uint16(0b11_10_01_00_01_10))
	f.Add("", "", strings.Repeat("x", 300), "", "0 Back", "98 More", uint16(0))
	f.Add("", "", "aaaa bbbb {{{{ cccc", "", "", "", uint16(0b111111111111))
	f.Add("t", "   |", "", "", "0 "+strings.Repeat("back ", 30), "98 "+strings.Repeat("more ", 40), uint16(0b10_01_10_01_10_01))
	f.Add("t", "", "a b", "x", "0", "98 More", uint16(0))
	// Found by fuzzing: only the More line needs UCS-2, so a page of
	// extension characters is longer without it.
	f.Add("", "", "aaaa0aaaa0aaaa0aa", "", "", "\xdc", uint16(4095))
	f.Add("0", "", "0", "^^^^^^", "0", "\x9d", uint16(68))
	// Found by fuzzing: dropping the only line outside GSM-7 to make room
	// for the first option turns the page to GSM-7, where "€" counts two.
	f.Add("", "", "0क| €", "|€", "", " ", uint16(0))
	// Found by fuzzing: a More line "shortened" to a longer ellipsis.
	f.Add("", "0", "", "||€", "\uFFFDक", "€", uint16(0))
	f.Fuzz(func(t *testing.T, head, notice, body, items, tail, more string, script uint16) {
		// Each field is in Latin (as given), Devanagari, Bengali or GSM-7
		// extension characters: two bits of script each.
		text := func(s string, field int) string {
			return transliterate(strings.ReplaceAll(s, "\n", " "), int(script>>(2*field))&3)
		}
		list := func(s string, field int) []string {
			if s == "" {
				return nil
			}
			return strings.Split(text(s, field), "|")
		}
		if len(head+notice+body+items+tail+more) > 4096 {
			return // keep an input quick: it is paged some two hundred times
		}
		m := Menu{Head: list(head, 0), Notice: list(notice, 1), Body: list(body, 2), Items: list(items, 3), Tail: list(tail, 4), More: text(more, 5),
			Confirm: script&(1<<12) != 0}
		if len(m.Tail) > 3 {
			return // no screen has more than three tail lines
		}
		all := strings.Join(concat(m.Notice, m.Head, m.Body, m.Items, m.Tail, []string{m.More}), "")
		for size := -1; size <= SMSReplyBudget.GSM; size++ {
			if size > USSDBudget.GSM+10 {
				size = SMSReplyBudget.GSM
			}
			b := Budget{GSM: size, UCS2: size}
			limit := b.For(all)
			pages := m.Pages(b)
			if err := checkPages(m, pages, limit); err != nil {
				t.Fatalf("size %d: %v\n%s", size, err, strings.Join(pages, "\n----\n"))
			}
			if size < minScreenUCS2 || size < minScreen && !NeedsUCS2(all) {
				continue // smaller than any partner's screen: only paging must end
			}
			for i, p := range pages {
				if Units(p) > limit {
					t.Fatalf("size %d: page %d has %d units, over %d:\n%s", size, i, Units(p), limit, strings.Join(pages, "\n----\n"))
				}
			}
		}
	})
}

// transliterate writes the Latin small letters of s in another script:
// 1 Devanagari, 2 Bengali, 3 GSM-7 extension characters (two units each).
func transliterate(s string, script int) string {
	if script == 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 'a' || r > 'z' {
			return r
		}
		switch script {
		case 1:
			return 'क' + r - 'a'
		case 2:
			return 'ক' + r - 'a'
		}
		if ext := []rune("€{}[]~^|\\"); int(r-'a') < len(ext) {
			return ext[r-'a']
		}
		return r
	}, s)
}

// checkPages checks pages of m against what Pages promises on any screen
// size but the budget itself.
func checkPages(m Menu, pages []string, limit int) error {
	if len(pages) == 0 {
		return errors.New("no pages")
	}
	if n := len(strings.Join(concat(m.Head, m.Notice, m.Body, m.Items), "")) + len(m.Head) + len(m.Notice) + len(m.Body) + len(m.Items); len(pages) > n+1 {
		return fmt.Errorf("%d pages for %d bytes and lines of content", len(pages), n)
	}
	more, tail := m.More, make([]string, len(m.Tail))
	bodies := make([][]string, len(pages))
	for i, p := range pages {
		lines := strings.Split(p, "\n")
		last := i == len(pages)-1
		n := len(m.Tail)
		if !last {
			n++
		}
		if len(lines) < n {
			return fmt.Errorf("page %d has %d lines, fewer than the navigation", i, len(lines))
		}
		bodies[i], lines = lines[:len(lines)-n], lines[len(lines)-n:]
		if !last {
			if i == 0 {
				more = lines[0]
			}
			if lines[0] != more || !shortOf(more, m.More) {
				return fmt.Errorf("page %d: More line %q is not %q on page 1, nor a shortening of %q", i, lines[0], more, m.More)
			}
			lines = lines[1:]
		}
		for j, l := range lines {
			if i == 0 {
				tail[j] = l
			}
			if l != tail[j] || !shortOf(l, m.Tail[j]) {
				return fmt.Errorf("page %d: tail line %q is not %q on page 1, nor a shortening of %q", i, l, tail[j], m.Tail[j])
			}
		}
	}
	// From outside, a head that repeats and a head that flows can read
	// alike: the pages must be right as one or the other.
	errRepeat := checkContent(m, bodies, true, tail, more, limit)
	if errRepeat == nil {
		return nil
	}
	if err := checkContent(m, bodies, false, tail, more, limit); err != nil {
		return fmt.Errorf("%v (as a head that repeats: %v)", err, errRepeat)
	}
	return nil
}

// checkContent checks that the content lines of the pages (bodies) hold the
// text of m in order, words unchanged, and then each item, whole or, first
// on its page, shortened because alone it could not fit.
func checkContent(m Menu, bodies [][]string, repeat bool, tail []string, more string, limit int) error {
	var lines []string
	var first []bool // the line is the first content on its page
	for i, b := range bodies {
		if repeat {
			if len(b) < len(m.Head) || !slices.Equal(b[:len(m.Head)], m.Head) {
				return fmt.Errorf("page %d does not start with the head", i)
			}
			b = b[len(m.Head):]
		}
		for j, l := range b {
			lines, first = append(lines, l), append(first, j == 0)
		}
	}
	if len(lines) < len(m.Items) {
		return fmt.Errorf("%d content lines for %d items", len(lines), len(m.Items))
	}
	k := len(lines) - len(m.Items)
	var head []string
	if repeat {
		head = m.Head
	}
	for j, it := range m.Items {
		l := lines[k+j]
		if l == it {
			continue
		}
		if cut, ok := cutEllipsis(l); !ok || !strings.HasPrefix(it, cut) {
			return fmt.Errorf("item %q shown as %q", it, l)
		}
		if !first[k+j] {
			return fmt.Errorf("item %q shortened to %q, not first on its page", it, l)
		}
		// Alone, on a page that may end the screen or go on: with the
		// tail, and with or without the More line.
		alone := max(Units(strings.Join(concat(head, []string{it, more}, tail), "\n")), Units(strings.Join(concat(head, []string{it}, tail), "\n")))
		if alone <= limit {
			return fmt.Errorf("item %q shortened to %q, though alone it takes %d units of %d", it, l, alone, limit)
		}
	}
	text := concat(m.Notice, m.Body)
	if !repeat {
		text = concat(m.Head, text)
	}
	squash := func(lines []string) string { return strings.Join(strings.Fields(strings.Join(lines, " ")), "") }
	got, want := squash(lines[:k]), squash(text)
	if got == want {
		return nil
	}
	if m.Confirm || len(m.Items) == 0 {
		return fmt.Errorf("the text reads %q, want %q", got, want)
	}
	// A menu's text may have given way to its first option: then it is all
	// on the first page, before the option, each line whole or shortened,
	// in order, some perhaps dropped; and whole it would not have fitted.
	if len(bodies[0])-len(head) < k+1 {
		return fmt.Errorf("the text reads %q, want %q, and is not all on the first page", got, want)
	}
	j := 0
	for _, l := range lines[:k] {
		for j < len(text) && !shortOf(l, text[j]) {
			j++
		}
		if j == len(text) {
			return fmt.Errorf("the text reads %q, want %q: line %q is no shortening of the text, in order", got, want, l)
		}
		j++
	}
	// On a page that may end the screen or go on: with or without More.
	withMore, without := concat(head, text, []string{m.Items[0], more}, tail), concat(head, text, []string{m.Items[0]}, tail)
	if u := max(Units(strings.Join(withMore, "\n")), Units(strings.Join(without, "\n"))); u <= limit {
		return fmt.Errorf("the text reads %q, want %q, though whole it fits beside the first option (%d of %d units)", got, want, u, limit)
	}
	return nil
}

// TestFittingIsLinear compares the work of fitting 10 KB and 100 KB of text,
// counted as bytes and objects allocated: ten times the text may cost about
// ten times as much, not a hundred.
func TestFittingIsLinear(t *testing.T) {
	const words = "Urban Primary Health Centre प्राथमिक स्वास्थ्य केंद्र প্রাথমিক স্বাস্থ্য কেন্দ্র {Ward} 12 "
	text := func(unit string, n int) string { return strings.Repeat(unit, n/len(unit)+1)[:n] }
	back, more := []string{"0 Back"}, "98 More"
	tests := []struct {
		name string
		unit string // repeated to the length of the text
		fit  func(s string)
	}{
		{"shorten latin", "Primary Health Centre ", func(s string) { Shorten(s, 20) }},
		{"shorten devanagari", "प्राथमिक स्वास्थ्य केंद्र ", func(s string) { Shorten(s, 20) }},
		{"shorten mixed", words, func(s string) { Shorten(s, 60) }},
		{"units", words, func(s string) { Units(s) }},
		{"page a long body", words, func(s string) {
			Menu{Head: []string{"Summary"}, Body: []string{s}, Tail: back, More: more}.Pages(USSDBudget)
		}},
		{"page a long word", "x", func(s string) { Menu{Body: []string{s}, Tail: back, More: more}.Pages(USSDBudget) }},
		{"page a long word past a wide one", "€", func(s string) { Menu{Body: []string{"क " + s}, Tail: back, More: more}.Pages(USSDBudget) }},
		{"page a long head", words, func(s string) {
			Menu{Head: []string{s}, Items: options("Yes", "No"), Tail: back, More: more}.Pages(USSDBudget)
		}},
		{"page a long item", words, func(s string) {
			Menu{Head: []string{"Centres"}, Items: options("A", s, "B"), Tail: back, More: more}.Pages(USSDBudget)
		}},
		{"page many items", "Centre {12} ", func(s string) {
			Menu{Head: []string{"Centres"}, Items: options(strings.Split(s, "{")...), Tail: back, More: more}.Pages(Budget{GSM: 60, UCS2: 30})
		}},
		{"page a long More line", words, func(s string) {
			Menu{Items: options("A", "B", "C", "D", "E", "F"), Tail: back, More: "98 " + s}.Pages(Budget{GSM: 20, UCS2: 20})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			small, large := text(tt.unit, 10_000), text(tt.unit, 100_000)
			var ws, wl work
			// Allocation elsewhere in the process only adds: the least of
			// a few tries is the fitting's own.
			for try := 0; try < 3; try++ {
				ws, wl = measureWork(func() { tt.fit(small) }), measureWork(func() { tt.fit(large) })
				if wl.bytes <= 15*ws.bytes+4096 && wl.objects <= 15*ws.objects+32 {
					return
				}
			}
			t.Errorf("10 KB: %d bytes in %d objects; 100 KB: %d bytes in %d objects, more than 15 times", ws.bytes, ws.objects, wl.bytes, wl.objects)
		})
	}
}

type work struct{ bytes, objects uint64 }

func measureWork(f func()) work {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return work{after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs}
}
