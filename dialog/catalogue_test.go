package dialog

import (
	"strings"
	"testing"
)

func TestCatalogueComplete(t *testing.T) {
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if problems := c.Check(); len(problems) > 0 {
		t.Fatalf("catalogue problems:\n%s", strings.Join(problems, "\n"))
	}
}

func TestCatalogueCheckFindsProblems(t *testing.T) {
	c := &Catalogue{texts: map[string]map[string]string{
		"en": {"a": "Hello {name}", "b": "Bye"},
		"hi": {"a": "नमस्ते {nam}"},
		"bn": {"a": "{name}", "b": "x", "c": "extra"},
	}}
	got := strings.Join(c.Check(), "\n")
	for _, want := range []string{`hi: missing "b"`, `hi: "a" has placeholders {nam}`, `bn: "c" is not an English key`} {
		if !strings.Contains(got, want) {
			t.Errorf("Check() missed %q in:\n%s", want, got)
		}
	}
}

func TestCatalogueText(t *testing.T) {
	c := &Catalogue{texts: map[string]map[string]string{
		"en": {"a": "Hello {name}, {n} left", "only": "English only"},
		"hi": {"a": "{name} नमस्ते"},
	}}
	if got := c.Text("en", "a", "name", "Ram", "n", "2"); got != "Hello Ram, 2 left" {
		t.Errorf("en = %q", got)
	}
	if got := c.Text("hi", "a", "name", "राम"); got != "राम नमस्ते" {
		t.Errorf("hi = %q", got)
	}
	if got := c.Text("hi", "only"); got != "English only" {
		t.Errorf("fallback = %q", got)
	}
}

// fillPlaceholders gives what replacing each placeholder in turn would, where no value
// holds a placeholder itself; a value that does is not filled again.
func TestFillPlaceholders(t *testing.T) {
	tests := []struct {
		text string
		args []string
		want string
	}{
		{"Hello {name}, {n} left", []string{"name", "Ram", "n", "2"}, "Hello Ram, 2 left"},
		{"{n}{n}", []string{"n", "7"}, "77"},
		{"{a} and {b}", []string{"b", "2"}, "{a} and 2"},
		{"{name} booked for {date}", []string{"name", "{date}", "date", "5 May"}, "{date} booked for 5 May"},
		{"first {n} wins", []string{"n", "1", "n", "2"}, "first 1 wins"},
		{"{{n}}", []string{"n", "x"}, "{x}"},
		{"{ {n}", []string{"n", "x"}, "{ x"},
		{"open { never closed", []string{"n", "x"}, "open { never closed"},
		{"} {n", []string{"n", "x"}, "} {n"},
		{"{}", []string{"", "empty"}, "empty"},
		{"नमस्ते {name}!", []string{"name", "राम"}, "नमस्ते राम!"},
	}
	for _, tt := range tests {
		if got := fillPlaceholders(tt.text, tt.args); got != tt.want {
			t.Errorf("fillPlaceholders(%q, %q) = %q, want %q", tt.text, tt.args, got, tt.want)
		}
	}
	// Every catalogue text filled with plain values reads as replacing
	// each placeholder in turn did.
	c, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for lang, texts := range c.texts {
		for key, text := range texts {
			var args []string
			for _, p := range placeholder.FindAllString(text, -1) {
				args = append(args, p[1:len(p)-1], "v-"+p[1:len(p)-1])
			}
			want := text
			for i := 0; i+1 < len(args); i += 2 {
				want = strings.ReplaceAll(want, "{"+args[i]+"}", args[i+1])
			}
			if got := c.Text(lang, key, args...); got != want {
				t.Errorf("%s %s: %q, want %q", lang, key, got, want)
			}
		}
	}
}
