package dlt

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func catalogue(t testing.TB) *dialog.Catalogue {
	t.Helper()
	cat, err := dialog.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// id makes the n-th 19-digit template id.
func id(n int) string { return fmt.Sprintf("12071612345678%05d", n) }

// idOf is the id registered gives the template of kind in lang: ids follow
// the order of Templates, kinds first, then languages.
func idOf(t testing.TB, name, lang string) string {
	t.Helper()
	k := slices.IndexFunc(kinds, func(k kind) bool { return k.name == name })
	l := slices.Index(dialog.Languages, lang)
	if k < 0 || l < 0 {
		t.Fatalf("no template for %s in %q", name, lang)
	}
	return id(k*len(dialog.Languages) + l + 1)
}

const entity = "1201160000000012345"

// registered is the registry of the catalogue's own templates, with ids.
func registered(t testing.TB) *Registry {
	t.Helper()
	ts := Templates(catalogue(t))
	for i := range ts {
		ts[i].ID = id(i + 1)
	}
	r, err := New(entity, ts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemplates(t *testing.T) {
	ts := Templates(catalogue(t))
	if want := len(Kinds()) * len(dialog.Languages); len(ts) != want {
		t.Fatalf("%d templates, want %d (every kind in every language)", len(ts), want)
	}
	vars := map[string]int{KindOTP: 1, KindSlip: SlipNameVars + SlipPlaceVars + 6, KindCancelled: 0, KindHelp: 0, KindStopped: 0, KindBusy: 0,
		KindQueued: 2, KindInvite: 2, KindAlert: AlertCentreVars + 3, KindHandoff: 1}
	for _, tm := range ts {
		if n := strings.Count(tm.Text, Var); n != vars[tm.Kind] {
			t.Errorf("%s/%s: %d variables, want %d: %s", tm.Kind, tm.Lang, n, vars[tm.Kind], tm.Text)
		}
		if placeholder.MatchString(tm.Text) || tm.ID != "" {
			t.Errorf("%s/%s: a placeholder left, or an id: %+v", tm.Kind, tm.Lang, tm)
		}
	}
	if ts[0] != (Template{Kind: "otp", Lang: "en", Text: "TikaSetu code: {#var#}. Valid 3 minutes. Do not share it with anyone."}) {
		t.Errorf("first template %+v", ts[0])
	}
	slip := ts[len(dialog.Languages)]
	if slip.Kind != KindSlip || !strings.HasPrefix(slip.Text, "TikaSetu slip: {#var#}{#var#}, ref {#var#}, appointment {#var#}") ||
		!strings.Contains(slip.Text, ". {#var#}{#var#}{#var#}{#var#}, {#var#} {#var#}, {#var#}.") {
		t.Errorf("slip template %+v", slip)
	}
}

// TestWriteLoadCheck writes the catalogue's templates, fills in the ids as
// an operator would, loads the file and checks it against the catalogue.
func TestWriteLoadCheck(t *testing.T) {
	cat := catalogue(t)
	var b bytes.Buffer
	if err := Write(&b, "", Templates(cat)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	draft := filepath.Join(dir, "draft.yaml")
	if err := os.WriteFile(draft, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// As printed: a draft, which Load refuses at the empty entity_id.
	_, err := Load(draft)
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 4 || !strings.Contains(fe.Msg, "empty entity_id") {
		t.Errorf("Load(draft) = %v, want a FileError at line 4 for the empty entity_id", err)
	}
	r, err := LoadDraft(draft)
	if err != nil {
		t.Fatalf("LoadDraft: %v", err)
	}
	if err := r.Check(cat); err != nil {
		t.Errorf("Check(draft): %v", err)
	}
	if _, err := r.Match(dialog.SMS{Kind: KindCancelled, Lang: "en", Text: cat.Text("en", "sms.cancelled")}); !isReason(err, NoID) {
		t.Errorf("Match with a draft: %v, want NoID", err)
	}

	// Filled in: entity_id first, then each id in turn.
	text := strings.Replace(b.String(), `entity_id: ""`, `entity_id: "`+entity+`"`, 1)
	n := 0
	for strings.Contains(text, `id: ""`) {
		n++
		text = strings.Replace(text, `id: ""`, `id: "`+id(n)+`"`, 1)
	}
	filled := filepath.Join(dir, "dlt.yaml")
	if err := os.WriteFile(filled, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = Load(filled)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := r.Check(cat); err != nil {
		t.Errorf("Check: %v", err)
	}
	if r.EntityID != entity || r.Draft() {
		t.Errorf("EntityID %q, draft %v", r.EntityID, r.Draft())
	}
	want := Templates(cat)
	got := r.Templates()
	if len(got) != len(want) {
		t.Fatalf("%d templates loaded, want %d", len(got), len(want))
	}
	for i := range want {
		want[i].ID = id(i + 1)
		if got[i] != want[i] {
			t.Errorf("template %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	odd := []Template{{Kind: "no", Lang: "yes", ID: "1", Text: "a \"quoted\" \\ back\tslash\nline: # not a comment {#var#}"}}
	var b bytes.Buffer
	if err := Write(&b, entity, odd); err != nil {
		t.Fatal(err)
	}
	_, err := parse("odd.yaml", b.Bytes(), false)
	// "no" is no kind: refused at line 6, after the text was read back.
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 6 || !strings.Contains(fe.Msg, `unknown kind "no"`) {
		t.Fatalf("parse: %v\n%s", err, b.String())
	}
	good := []Template{{Kind: KindOTP, Lang: "en", ID: "1", Text: odd[0].Text}}
	b.Reset()
	if err := Write(&b, entity, good); err != nil {
		t.Fatal(err)
	}
	r, err := parse("good.yaml", b.Bytes(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Templates(); len(got) != 1 || got[0] != good[0] {
		t.Errorf("read back %+v, want %+v", got, good)
	}
}

const goodFile = `entity_id: "1201160000000012345"
templates:
  - kind: otp
    lang: en
    id: "1207161234567890123"
    text: "TikaSetu code: {#var#}. Valid 3 minutes. Do not share it with anyone."
`

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		draft bool
		line  int    // of the FileError; -1: no error
		msg   string // in the error
	}{
		{name: "good", file: goodFile, line: -1},
		{name: "unquoted ids", file: strings.NewReplacer(`"1201160000000012345"`, "1201160000000012345",
			`"1207161234567890123"`, "01207161234567890123").Replace(goodFile), line: -1},
		{name: "bad yaml", file: goodFile + "  - kind: [slip\n", line: 7},
		{name: "bad indentation", file: strings.Replace(goodFile, "    lang: en", "   lang: en", 1), line: 4},
		{name: "unknown field", file: goodFile + "    header: TKSETU\n", line: 7, msg: "header"},
		{name: "empty id", file: strings.Replace(goodFile, `"1207161234567890123"`, `""`, 1), line: 5, msg: "empty id"},
		{name: "empty id in a draft", file: strings.Replace(goodFile, `"1207161234567890123"`, `""`, 1), draft: true, line: -1},
		{name: "missing id", file: strings.Replace(goodFile, "    id: \"1207161234567890123\"\n", "", 1), line: 3, msg: "empty id"},
		{name: "letters in id", file: strings.Replace(goodFile, `"1207161234567890123"`, `"12071612345678901AB"`, 1), line: 5, msg: "not all digits"},
		{name: "letters in id of a draft", file: strings.Replace(goodFile, `"1207161234567890123"`, `"T-1"`, 1), draft: true, line: 5, msg: "not all digits"},
		{name: "empty entity", file: strings.Replace(goodFile, `"1201160000000012345"`, `""`, 1), line: 1, msg: "empty entity_id"},
		{name: "entity not digits", file: strings.Replace(goodFile, `"1201160000000012345"`, `"PE12"`, 1), line: 1, msg: "not all digits"},
		{name: "unknown kind", file: strings.Replace(goodFile, "kind: otp", "kind: promo", 1), line: 3, msg: `unknown kind "promo"`},
		{name: "unknown language", file: strings.Replace(goodFile, "lang: en", "lang: ur", 1), line: 4, msg: `unknown language "ur"`},
		{name: "twice", file: goodFile + goodFile[strings.Index(goodFile, "  - kind"):], line: 7, msg: "first is at line 3"},
		{name: "bad variable", file: strings.Replace(goodFile, "{#var#}", "{#VAR#}", 1), line: 6, msg: "variable"},
		{name: "empty text", file: strings.Replace(goodFile, `"TikaSetu code: {#var#}. Valid 3 minutes. Do not share it with anyone."`, `""`, 1), line: 6, msg: "empty text"},
		{name: "no templates", file: "entity_id: \"1\"\n", line: 0, msg: "no templates"},
		{name: "two documents", file: goodFile + "---\n" + goodFile, line: 8, msg: "more than one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dlt.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			load := Load
			if tc.draft {
				load = LoadDraft
			}
			r, err := load(path)
			if tc.line < 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if r.EntityID != entity || len(r.Templates()) != 1 {
					t.Errorf("loaded %q %+v", r.EntityID, r.Templates())
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *FileError", err)
			}
			if fe.Line != tc.line || !strings.Contains(fe.Msg, tc.msg) || fe.File != path {
				t.Errorf("Load = %v, want line %d and %q", err, tc.line, tc.msg)
			}
			t.Log(err)
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) = %v", err)
	}
}

// TestCheck changes one character of a catalogue message (through the
// same code Check runs on a *dialog.Catalogue), or of the file's template,
// and expects the error to name the kind, language and first difference.
func TestCheck(t *testing.T) {
	cat := catalogue(t)
	text := func(lang, key string) string { return cat.Text(lang, key) }
	changed := func(lang, key, old, new string) func(string, string) string {
		return func(l, k string) string {
			s := text(l, k)
			if l == lang && k == key {
				s = strings.Replace(s, old, new, 1)
			}
			return s
		}
	}
	r := registered(t)
	last := dialog.Languages[len(dialog.Languages)-1]
	tests := []struct {
		name string
		reg  func() *Registry
		want []Template
		errs []string // each in the error; none: no error
	}{
		{name: "same", reg: func() *Registry { return r }, want: templates(text)},
		{name: "catalogue: a letter", reg: func() *Registry { return r },
			want: templates(changed("hi", "sms.slip", "पर्ची", "पर्चा")),
			errs: []string{`slip SMS in "hi"`, "character 14", `the catalogue gives "…etu पर्चा: {#var#}`, `the file has "…etu पर्ची: {#var#}`, idOf(t, KindSlip, "hi")}},
		{name: "catalogue: a full stop", reg: func() *Registry { return r },
			want: templates(changed("en", "sms.otp", "minutes.", "minutes")),
			errs: []string{`otp SMS in "en"`, "character 40", `gives "… minutes Do not share it…"`, `has "… minutes. Do not share i…"`}},
		{name: "catalogue: a placeholder more", reg: func() *Registry { return r },
			want: templates(changed("bn", "sms.cancelled", "বাতিল", "{id} বাতিল")),
			errs: []string{`cancelled SMS in "bn"`, "character 23", `gives "…র বুকিং {#var#} বাতিল হয…"`}},
		{name: "file: a letter", reg: func() *Registry {
			ts := r.Templates()
			ts[0].Text = strings.Replace(ts[0].Text, "Valid", "valid", 1)
			m, err := New(entity, ts)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}, want: templates(text), errs: []string{`otp SMS in "en"`, "character 25", "template " + idOf(t, KindOTP, "en"), `has "…#var#}. valid 3 minutes.…"`}},
		{name: "file: a template missing", reg: func() *Registry {
			m, err := New(entity, r.Templates()[1:])
			if err != nil {
				t.Fatal(err)
			}
			return m
		}, want: templates(text), errs: []string{`no template for otp SMS in "en"`}},
		{name: "file: a template too many", reg: func() *Registry { return r },
			want: templates(text)[:len(dialog.Languages)*len(kinds)-1],
			errs: []string{"template " + idOf(t, kinds[len(kinds)-1].name, last) + fmt.Sprintf(` is for %s SMS in %q, which the gateway does not send`, kinds[len(kinds)-1].name, last)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.reg().check(tc.want)
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("check passed")
			}
			for _, s := range tc.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q\nlacks %q", err, s)
				}
			}
			if n := strings.Count(err.Error(), "\n"); n != 0 {
				t.Errorf("%d problems, want 1: %v", n+1, err)
			}
		})
	}
	if err := r.Check(cat); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func isReason(err error, r Reason) bool {
	var me *MatchError
	return errors.As(err, &me) && me.Reason == r
}
