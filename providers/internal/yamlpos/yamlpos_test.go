package yamlpos

import (
	"strings"
	"testing"

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

func TestDecode(t *testing.T) {
	type doc struct {
		Name string  `yaml:"name"`
		Rate float64 `yaml:"rate"`
	}
	for _, tc := range []struct {
		name, src, want string // want: the error's text, "" for none
	}{
		{"good", "name: a\nrate: 2\n", ""},
		{"bad YAML", "name: a\nrate: [\n", "f.yaml:2:"},
		{"a wrong type", "name: a\nrate: fast\n", "f.yaml:2: rate must be a number, not \"fast\""},
		{"an unknown field", "name: a\nspeed: 2\n", "f.yaml:2:"},
		{"two documents", "name: a\n---\nname: b\n", "f.yaml:3: more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			tree, err := Decode("", "f.yaml", []byte(tc.src), &d)
			if tc.want == "" {
				if err != nil || tree == nil || d.Name != "a" || d.Rate != 2 {
					t.Fatalf("Decode = %+v, %v", d, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to start with %q", err, tc.want)
			}
		})
	}
}
