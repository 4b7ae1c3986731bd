package partner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/goccy/go-yaml/token"
	"github.com/tikasetu/tikasetu/providers/internal/yamlpos"
)

// maxConfigBytes bounds the partners file.
const maxConfigBytes = 1 << 20

// ConfigError is a problem in the partners file, with its line.
type ConfigError = yamlpos.FileError

// file is the partners file as written (docs/partners.md shows an example).
// Numbers are decoded as float64 and checked here, so that 2.5 for a whole
// number or "5" for a number is refused instead of rounded or converted.
type file struct {
	Partners []filePartner `yaml:"partners"`
}

type filePartner struct {
	ID             string   `yaml:"id"`
	Secret         string   `yaml:"secret"`
	Unicode        *bool    `yaml:"unicode"`
	USSDScreen     *float64 `yaml:"ussd_screen"`
	USSDScreenUCS2 *float64 `yaml:"ussd_screen_ucs2"`
	Rate           *float64 `yaml:"rate"`
	Burst          *float64 `yaml:"burst"`
	SMSURL         string   `yaml:"sms_url"`
	Languages      []string `yaml:"languages"`
}

// LoadConfig reads the partners file at path (the value of
// TIKASETU_PARTNERS_FILE): YAML for .yaml or .yml, JSON for .json. Unknown
// fields, duplicate keys or ids, missing required fields, short secrets and
// numbers out of range are refused with a *ConfigError naming the file and
// the line at fault. Default screen sizes are filled in.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("partners file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("partners file: %w", err)
	}
	if len(data) > maxConfigBytes {
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxConfigBytes)}
	}
	return parseConfig(path, data)
}

// parseConfig is LoadConfig on bytes already read; name is used in errors
// and chooses the format by its extension.
func parseConfig(name string, data []byte) (Config, error) {
	fail := func(line int, format string, args ...any) (Config, error) {
		return Config{}, &ConfigError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
	case ".json":
		// The YAML parser reads JSON too, but also much that is not JSON:
		// a .json file must be JSON.
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fail(lineAt(data, se.Offset), "not valid JSON: %v", se)
			}
			return fail(0, "not valid JSON: %v", err)
		}
	default:
		return fail(0, "unknown format: the name must end in .yaml, .yml or .json")
	}

	var raw file
	tree, err := yamlpos.Decode("", name, data, &raw)
	if err != nil {
		return Config{}, err
	}
	if len(raw.Partners) == 0 {
		return fail(0, `no partners: expected a list under "partners"`)
	}

	cfg := Config{Partners: make([]Partner, 0, len(raw.Partners))}
	firstLine := map[string]int{} // id → line of its first definition
	for i, fp := range raw.Partners {
		p, fe := fp.partner(tree, i)
		if fe == nil {
			fe = p.check()
		}
		if fe != nil {
			return fail(fieldLine(tree, i, fe.field), "partner %s: %s", label(fp.ID, i), fe.msg)
		}
		if first, dup := firstLine[p.ID]; dup {
			return fail(fieldLine(tree, i, "id"), "partner %q: duplicate id (first defined at line %d)", p.ID, first)
		}
		firstLine[p.ID] = fieldLine(tree, i, "id")
		cfg.Partners = append(cfg.Partners, p.withDefaults())
	}
	return cfg, nil
}

// partner converts entry i of the file, checking that required fields are
// present and numbers are numbers; the ranges are Partner.check's.
func (fp filePartner) partner(tree *ast.File, i int) (Partner, *fieldError) {
	p := Partner{ID: fp.ID, Secret: Secret(fp.Secret), SMSURL: fp.SMSURL, Languages: fp.Languages}
	if p.ID == "" {
		return p, &fieldError{"id", "missing id"}
	}
	for _, field := range []string{"ussd_screen", "ussd_screen_ucs2", "rate", "burst"} {
		if quoted(yamlpos.Node(tree, fmt.Sprintf("$.partners[%d].%s", i, field))) {
			return p, &fieldError{field, field + " must be a number, not a quoted string"}
		}
	}
	if fp.Unicode == nil {
		return p, &fieldError{"", "missing unicode (true when the network shows Indic scripts such as Hindi and Bengali, else false)"}
	}
	p.Unicode = *fp.Unicode
	if fp.Rate == nil {
		return p, &fieldError{"", "missing rate (requests per second)"}
	}
	p.Rate = *fp.Rate
	if fp.Burst == nil {
		return p, &fieldError{"", "missing burst"}
	}
	var ok bool
	if p.Burst, ok = whole(*fp.Burst); !ok {
		return p, &fieldError{"burst", "burst must be a whole number"}
	}
	if fp.USSDScreen != nil {
		if p.USSDScreen, ok = whole(*fp.USSDScreen); !ok || p.USSDScreen == 0 {
			return p, &fieldError{"ussd_screen", fmt.Sprintf("ussd_screen must be a whole number from %d to %d", MinUSSDScreen, DefaultUSSDScreen)}
		}
	}
	if fp.USSDScreenUCS2 != nil {
		if p.USSDScreenUCS2, ok = whole(*fp.USSDScreenUCS2); !ok || p.USSDScreenUCS2 == 0 {
			return p, &fieldError{"ussd_screen_ucs2", fmt.Sprintf("ussd_screen_ucs2 must be a whole number from %d to %d", MinUSSDScreenUCS2, DefaultUSSDScreenUCS2)}
		}
	}
	return p, nil
}

// quoted reports whether n is a quoted string: the YAML decoder would turn
// "5" into the number 5, but a number written as text is a mistake.
func quoted(n ast.Node) bool {
	if n == nil || n.Type() != ast.StringType || n.GetToken() == nil {
		return false
	}
	t := n.GetToken().Type
	return t == token.DoubleQuoteType || t == token.SingleQuoteType
}

// whole converts a decoded number that must be a whole number.
func whole(v float64) (int, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) || math.Abs(v) > 1e9 {
		return 0, false
	}
	return int(v), true
}

// fieldLine is the line of a partner's field, or of the partner's entry
// when the field is absent (or field is ""), or 0.
func fieldLine(tree *ast.File, i int, field string) int {
	return yamlpos.FieldLine(tree, fmt.Sprintf("$.partners[%d]", i), field)
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
