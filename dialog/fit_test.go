package dialog

import (
	"fmt"
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
		{"long notice above a menu", Menu{Notice: []string{long}, Head: []string{"Home"},
			Items: options("Add person", "Book", "My appointments", "Cancel", "Language"), Tail: []string{"0 Exit"}}, Budget{GSM: 60, UCS2: 40}},
		{"summary body in Hindi", Menu{Head: []string{"बुक करें?"}, Body: []string{"श्रीमती अन्नपूर्णा देवी रामकृष्ण चतुर्वेदी त्रिपाठी शर्मा, मोहम्मद अब्दुल क़ादिर",
			"Smruti Mandir Opp. Mirani Nagar 1st And 2nd Floor Ganesh Gawade Road Mulund West"}, Tail: options("हाँ", "पीछे")}, USSDBudget},
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
