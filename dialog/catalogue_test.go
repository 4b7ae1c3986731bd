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
