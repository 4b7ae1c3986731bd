// Package yamlpos finds where in a YAML file a value or an error is, so that
// a configuration file that is refused is refused with the line at fault.
package yamlpos

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Node finds the node at a YAML path ("$.partners[0].id"), nil when there
// is none.
func Node(tree *ast.File, path string) ast.Node {
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(tree)
	if err != nil {
		return nil
	}
	return n
}

// Line is the 1-based line of n, 0 when it has none.
func Line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// FieldLine is the line of field under the node at path, or of that node
// when the field is absent (or field is ""), or 0.
func FieldLine(tree *ast.File, path, field string) int {
	if field != "" {
		if n := Node(tree, path+"."+field); n != nil {
			return Line(n)
		}
	}
	return Line(Node(tree, path))
}

// Decode parses data as one YAML document into v, refusing unknown fields,
// and returns the tree, in which FieldLine finds the line of any value.
// Its errors are *FileError with the line at fault, what and name naming
// the file.
func Decode(what, name string, data []byte, v any) (*ast.File, error) {
	tree, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fileError(what, name, err)
	}
	docs := 0
	for _, d := range tree.Docs {
		if d.Body != nil {
			if docs++; docs > 1 {
				return nil, &FileError{What: what, File: name, Line: Line(d.Body), Msg: "more than one YAML document"}
			}
		}
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.DisallowUnknownField()); err != nil {
		return nil, fileError(what, name, err)
	}
	return tree, nil
}

// fileError turns a parser or decoder error into a *FileError with the
// line its token points at, a wrong type in words an operator can act on.
func fileError(what, name string, err error) *FileError {
	fe := &FileError{What: what, File: name, Msg: err.Error()}
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return fe
	}
	fe.Msg = ye.GetMessage()
	tk := ye.GetToken()
	if tk == nil {
		return fe
	}
	fe.Line = tk.Position.Line
	var te *yaml.TypeError
	if errors.As(err, &te) && te.DstType != nil {
		want := map[reflect.Kind]string{
			reflect.Float64: "a number", reflect.Bool: "true or false", reflect.String: "a string",
			reflect.Slice: "a list", reflect.Struct: "a mapping",
		}[te.DstType.Kind()]
		if want != "" {
			fe.Msg = fmt.Sprintf("%s must be %s, not %q", keyOf(tk), want, tk.Value)
		}
	}
	return fe
}

// keyOf names the mapping key whose value tk is ("value" when it has none).
func keyOf(tk *token.Token) string {
	if p := tk.Prev; p != nil && p.Type == token.MappingValueType && p.Prev != nil {
		return p.Prev.Value
	}
	return "value"
}

// FileError is a problem in a configuration file. Line is 1-based, 0 when
// the problem is not tied to a line; What, when set, names the kind of
// file before its name.
type FileError struct {
	What string
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	name := e.File
	if e.What != "" {
		name = e.What + " " + name
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", name, e.Msg)
}
