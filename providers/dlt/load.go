package dlt

import (
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/ast"

	"github.com/tikasetu/tikasetu/providers/internal/yamlpos"
)

// maxFileBytes bounds the registration file.
const maxFileBytes = 1 << 20

// FileError is a problem in the registration file, with its line.
type FileError = yamlpos.FileError

// file is the registration file as written (Write prints one).
type file struct {
	EntityID  string         `yaml:"entity_id"`
	Templates []fileTemplate `yaml:"templates"`
}

type fileTemplate struct {
	Kind string `yaml:"kind"`
	Lang string `yaml:"lang"`
	ID   string `yaml:"id"`
	Text string `yaml:"text"`
}

// Load reads the registration file at path (the value of
// TIKASETU_DLT_FILE), in the form Write prints, with entity_id and every
// template id filled in: digits, as the DLT portal gave them. Bad YAML,
// unknown fields, unknown kinds or languages, a kind and language twice,
// or an empty or non-digit id are refused with a *FileError naming the
// line at fault.
func Load(path string) (*Registry, error) { return load(path, false) }

// LoadDraft is Load for a file not yet registered: empty ids are taken
// (others must still be digits). Such a registry can be Checked against
// the catalogue, but Match refuses every message whose template has no id.
func LoadDraft(path string) (*Registry, error) { return load(path, true) }

func load(path string, draft bool) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dlt file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("dlt file %s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, &FileError{What: "dlt file", File: path, Msg: fmt.Sprintf("larger than %d bytes", maxFileBytes)}
	}
	return parse(path, data, draft)
}

// parse is load on bytes already read; name is used in errors.
func parse(name string, data []byte, draft bool) (*Registry, error) {
	fail := func(line int, format string, args ...any) (*Registry, error) {
		return nil, &FileError{What: "dlt file", File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var raw file
	tree, err := yamlpos.Decode("dlt file", name, data, &raw)
	if err != nil {
		return nil, err
	}
	// Ids are digit strings: taken as written, so that an unquoted id is
	// not read as a number (and a leading zero or a 20th digit lost).
	raw.EntityID = scalar(tree, "$.entity_id", raw.EntityID)
	if msg := checkID("entity_id", raw.EntityID, draft); msg != "" {
		return fail(yamlpos.FieldLine(tree, "$", "entity_id"), "%s", msg)
	}
	if len(raw.Templates) == 0 {
		return fail(0, `no templates: expected a list under "templates"`)
	}
	ts := make([]Template, len(raw.Templates))
	firstLine := map[string]int{}
	for i, ft := range raw.Templates {
		at := fmt.Sprintf("$.templates[%d]", i)
		t := Template{Kind: ft.Kind, Lang: ft.Lang, ID: scalar(tree, at+".id", ft.ID), Text: ft.Text}
		if field, msg := checkTemplate(t, draft); msg != "" {
			return fail(yamlpos.FieldLine(tree, at, field), "template %d (%s): %s", i+1, key(t.Kind, t.Lang), msg)
		}
		k := key(t.Kind, t.Lang)
		if first, dup := firstLine[k]; dup {
			return fail(yamlpos.FieldLine(tree, at, "kind"), "a second template for %s (the first is at line %d)", k, first)
		}
		firstLine[k] = yamlpos.FieldLine(tree, at, "kind")
		ts[i] = t
	}
	r, err := build(raw.EntityID, ts, draft)
	if err != nil {
		return nil, fmt.Errorf("dlt file %s: %w", name, err)
	}
	return r, nil
}

// scalar is the text of the scalar at path as written in the file, or
// decoded when it is not a plain scalar.
func scalar(tree *ast.File, path, decoded string) string {
	n := yamlpos.Node(tree, path)
	if n == nil || n.GetToken() == nil {
		return decoded
	}
	switch n.Type() {
	case ast.IntegerType, ast.FloatType:
		return n.GetToken().Value
	}
	return decoded
}
