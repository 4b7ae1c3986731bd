package dialog

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Catalogue holds every screen text, hint and SMS in each language, keyed
// the same way in every language. Placeholders are written {name}.
type Catalogue struct {
	texts map[string]map[string]string // lang → key → text
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// LoadCatalogue reads the embedded message files (messages/<lang>.json).
func LoadCatalogue() (*Catalogue, error) {
	c := &Catalogue{texts: map[string]map[string]string{}}
	for _, lang := range Languages {
		b, err := messageFiles.ReadFile(path.Join("messages", lang+".json"))
		if err != nil {
			return nil, fmt.Errorf("dialog: catalogue %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("dialog: catalogue %s: %w", lang, err)
		}
		c.texts[lang] = m
	}
	return c, nil
}

// Check reports every key that a language lacks or whose placeholders
// differ from the English text's, one problem per line; nil when complete.
func (c *Catalogue) Check() []string {
	var problems []string
	en := c.texts["en"]
	for _, lang := range Languages[1:] {
		m := c.texts[lang]
		for key, text := range en {
			t, ok := m[key]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: missing %q", lang, key))
				continue
			}
			if a, b := placeholders(text), placeholders(t); a != b {
				problems = append(problems, fmt.Sprintf("%s: %q has placeholders %s, English has %s", lang, key, b, a))
			}
		}
		for key := range m {
			if _, ok := en[key]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %q is not an English key", lang, key))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

func placeholders(s string) string {
	p := placeholder.FindAllString(s, -1)
	sort.Strings(p)
	return strings.Join(p, ",")
}

// Text returns the message key in lang (English when lang has none) with
// placeholders filled from args, given as name, value pairs.
func (c *Catalogue) Text(lang, key string, args ...string) string {
	s, ok := c.texts[lang][key]
	if !ok {
		s, ok = c.texts["en"][key]
		if !ok {
			return key
		}
	}
	if len(args) < 2 || strings.IndexByte(s, '{') < 0 {
		return s
	}
	return fillPlaceholders(s, args)
}

// fillPlaceholders replaces each {name} in s with the value args (name, value pairs)
// give it first, in one pass: a value is never searched for placeholders
// itself, so a caller's name reading "{date}" stays as typed. A
// placeholder args do not name stays as it is.
func fillPlaceholders(s string, args []string) string {
	n := len(s)
	for i := 1; i < len(args); i += 2 {
		n += len(args[i])
	}
	var b strings.Builder
	b.Grow(n)
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		name := s[open+1 : open+end]
		if i := strings.IndexByte(name, '{'); i >= 0 { // "{{x}": the first brace is text
			b.WriteString(s[:open+1+i])
			s = s[open+1+i:]
			continue
		}
		b.WriteString(s[:open])
		value, ok := "", false
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] == name {
				value, ok = args[i+1], true
				break
			}
		}
		if ok {
			b.WriteString(value)
		} else {
			b.WriteString(s[open : open+end+1])
		}
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return b.String()
}
