package yamlpos

import (
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

func TestLines(t *testing.T) {
	src := "entity_id: \"1\"\ntemplates:\n  - kind: otp\n    lang: en\n  - kind: slip\n"
	tree, err := parser.ParseBytes([]byte(src), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, field string
		want        int
	}{
		{"$", "entity_id", 1},
		{"$.templates[0]", "kind", 3},
		{"$.templates[0]", "lang", 4},
		{"$.templates[1]", "kind", 5},
		{"$.templates[1]", "lang", 5}, // absent: the entry's line
		{"$.templates[7]", "kind", 0},
		{"$.nothing", "", 0},
	} {
		if got := FieldLine(tree, tc.path, tc.field); got != tc.want {
			t.Errorf("FieldLine(%s, %s) = %d, want %d", tc.path, tc.field, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	var v struct{ A int }
	err := yaml.Unmarshal([]byte("a: 1\nb: [\n"), &v)
	msg, line, ye := Error(err)
	if ye == nil || line != 2 || msg == "" {
		t.Fatalf("Error(%v) = %q, %d, %v; want a YAML error at line 2", err, msg, line, ye)
	}
	if msg, line, ye := Error(errString("plain")); ye != nil || line != 0 || msg != "plain" {
		t.Fatalf("plain error read as %q, %d, %v", msg, line, ye)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestFileError(t *testing.T) {
	for _, tc := range []struct {
		e    FileError
		want string
	}{
		{FileError{File: "p.yaml", Line: 3, Msg: "bad"}, "p.yaml:3: bad"},
		{FileError{File: "p.yaml", Msg: "bad"}, "p.yaml: bad"},
		{FileError{What: "dlt file", File: "d.yaml", Line: 4, Msg: "bad"}, "dlt file d.yaml:4: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}
