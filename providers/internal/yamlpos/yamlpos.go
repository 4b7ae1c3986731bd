// Package yamlpos finds where in a YAML file a value or an error is, so that
// a configuration file that is refused is refused with the line at fault.
package yamlpos

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
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

// Error reads a parser or decoder error: its message and the line of the
// token it points at (0 when none); ye is nil when err is not the YAML
// library's.
func Error(err error) (msg string, line int, ye yaml.Error) {
	if !errors.As(err, &ye) {
		return err.Error(), 0, nil
	}
	if tk := ye.GetToken(); tk != nil {
		line = tk.Position.Line
	}
	return ye.GetMessage(), line, ye
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
