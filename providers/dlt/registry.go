package dlt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tikasetu/tikasetu/dialog"
)

// Registry is a loaded registration: the principal entity id and a
// compiled template for each kind and language. It is read-only once
// built, and safe for concurrent use.
type Registry struct {
	EntityID string
	draft    bool
	list     []*compiled // in file order
	by       map[string]*compiled
}

func key(kind, lang string) string { return kind + "/" + lang }

// New builds a Registry from templates that are registered: entityID and
// every template's id must be digits. Load is New on a file.
func New(entityID string, ts []Template) (*Registry, error) {
	return build(entityID, ts, false)
}

func build(entityID string, ts []Template, draft bool) (*Registry, error) {
	if msg := checkID("entity_id", entityID, draft); msg != "" {
		return nil, fmt.Errorf("dlt: %s", msg)
	}
	r := &Registry{EntityID: entityID, draft: draft, by: make(map[string]*compiled, len(ts))}
	for i, t := range ts {
		if _, msg := checkTemplate(t, draft); msg != "" {
			return nil, fmt.Errorf("dlt: template %d (%s): %s", i+1, key(t.Kind, t.Lang), msg)
		}
		k := key(t.Kind, t.Lang)
		if _, dup := r.by[k]; dup {
			return nil, fmt.Errorf("dlt: template %d: a second template for %s", i+1, k)
		}
		c := compile(t)
		r.list, r.by[k] = append(r.list, c), c
	}
	return r, nil
}

// checkTemplate returns the field at fault and why, or "", "".
func checkTemplate(t Template, draft bool) (field, msg string) {
	switch {
	case !knownKind(t.Kind):
		return "kind", fmt.Sprintf("unknown kind %q (kinds are %s)", t.Kind, strings.Join(Kinds(), ", "))
	case !knownLang(t.Lang):
		return "lang", fmt.Sprintf("unknown language %q (languages are %s)", t.Lang, strings.Join(dialog.Languages, ", "))
	case strings.TrimSpace(t.Text) == "":
		return "text", "empty text"
	case strings.Contains(strings.ReplaceAll(t.Text, Var, ""), "{#"):
		return "text", "a variable written otherwise than " + Var
	}
	if msg := checkID("id", t.ID, draft); msg != "" {
		return "id", msg
	}
	return "", ""
}

// checkID checks a DLT id: digits (19 as the portals issue them, but any
// length is taken); empty only in a draft.
func checkID(field, id string, draft bool) string {
	if id == "" {
		if draft {
			return ""
		}
		return "empty " + field + ": register the templates on the DLT portal and fill in the ids it gives"
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return fmt.Sprintf("%s %q is not all digits", field, id)
		}
	}
	return ""
}

// Templates returns the registry's templates, in file order.
func (r *Registry) Templates() []Template {
	out := make([]Template, len(r.list))
	for i, c := range r.list {
		out[i] = c.Template
	}
	return out
}

// Draft reports whether the registry was loaded as a draft (LoadDraft):
// ids may be empty, and Match refuses a template without one.
func (r *Registry) Draft() bool { return r.draft }

// Match checks an outbound message against the template of its kind and
// language: the fixed text identical, each variable holding 0 to VarMax
// characters. It returns the template id, or a *MatchError.
func (r *Registry) Match(m dialog.SMS) (templateID string, err error) {
	c, ok := r.by[key(m.Kind, m.Lang)]
	if !ok {
		return "", &MatchError{Kind: m.Kind, Lang: m.Lang, Reason: NoTemplate}
	}
	if e := c.match(m.Text); e != nil {
		return "", e
	}
	if c.ID == "" {
		return "", &MatchError{Kind: m.Kind, Lang: m.Lang, Reason: NoID}
	}
	return c.ID, nil
}

// Check proves the registry against the catalogue: every kind in every
// language has a template, its text is character for character what
// Templates gives, and no template is for a kind or language that does
// not exist. The error lists every problem; each names the kind, the
// language and, for a text, the first difference.
func (r *Registry) Check(cat *dialog.Catalogue) error {
	return r.check(Templates(cat))
}

func (r *Registry) check(want []Template) error {
	var errs []error
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		k := key(w.Kind, w.Lang)
		wanted[k] = true
		c, ok := r.by[k]
		if !ok {
			errs = append(errs, fmt.Errorf("dlt: no template for %s SMS in %q: register %q", w.Kind, w.Lang, w.Text))
			continue
		}
		if i, ok := firstDiff(w.Text, c.Text); ok {
			errs = append(errs, fmt.Errorf("dlt: template %s for %s SMS in %q differs from the catalogue at %s: the catalogue gives %q, the file has %q",
				orDraft(c.ID), w.Kind, w.Lang, position(i), around(w.Text, i), around(c.Text, i)))
		}
	}
	for _, c := range r.list {
		if !wanted[key(c.Kind, c.Lang)] {
			errs = append(errs, fmt.Errorf("dlt: template %s is for %s SMS in %q, which the gateway does not send", orDraft(c.ID), c.Kind, c.Lang))
		}
	}
	return errors.Join(errs...)
}

func orDraft(id string) string {
	if id == "" {
		return `""`
	}
	return id
}

// firstDiff is the index of the first character at which a and b differ
// (the length of the shorter when one starts the other), and whether they
// differ at all.
func firstDiff(a, b string) (int, bool) {
	ra, rb := []rune(a), []rune(b)
	for i := 0; ; i++ {
		if i == len(ra) || i == len(rb) {
			return i, len(ra) != len(rb)
		}
		if ra[i] != rb[i] {
			return i, true
		}
	}
}

// around is the text from a few characters before character i on.
func around(s string, i int) string {
	rs := []rune(s)
	from := max(i-8, 0)
	to := min(i+16, len(rs))
	out := string(rs[from:to])
	if from > 0 {
		out = "…" + out
	}
	if to < len(rs) {
		out += "…"
	}
	return out
}
