package partner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	secretA = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	secretB = "0123456789abcdef0123456789abcdef"
)

// writeFile writes content to a file of that name in a fresh directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var wantGood = Config{Partners: []Partner{
	{ID: "example-ussd", Secret: secretA, Unicode: true, Languages: []string{"bn", "en", "hi"}, USSDScreen: 160, USSDScreenUCS2: 80, Rate: 200, Burst: 400},
	{ID: "sms_2", Secret: secretB, Unicode: false, USSDScreen: 182, USSDScreenUCS2: 70, Rate: 0.5, Burst: 1,
		SMSURL: "https://sms.example.net/tikasetu/replies"},
}}

func TestLoadConfigGood(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"YAML", "partners.yaml", `# partners of the test gateway
partners:
  - id: example-ussd
    secret: ` + secretA + `
    unicode: true
    languages: [bn, en, hi]
    ussd_screen: 160
    rate: 200
    burst: 400
  - id: sms_2
    secret: "` + secretB + `"
    unicode: false
    ussd_screen_ucs2: 70
    rate: 0.5
    burst: 1
    sms_url: https://sms.example.net/tikasetu/replies
`},
		{"YML in flow style", "partners.yml", `partners:
  - {id: example-ussd, secret: ` + secretA + `, unicode: true, languages: [bn, en, hi], ussd_screen: 160, rate: 2e2, burst: 400}
  - {id: sms_2, secret: ` + secretB + `, unicode: false, ussd_screen_ucs2: 70, rate: 0.5, burst: 1, sms_url: "https://sms.example.net/tikasetu/replies"}
`},
		{"JSON", "partners.json", `{
	"partners": [
		{"id": "example-ussd", "secret": "` + secretA + `", "unicode": true, "languages": ["bn", "en", "hi"],
		 "ussd_screen": 160, "rate": 200, "burst": 400},
		{"id": "sms_2", "secret": "` + secretB + `", "unicode": false, "ussd_screen_ucs2": 70,
		 "rate": 0.5, "burst": 1, "sms_url": "https://sms.example.net/tikasetu/replies"}
	]
}
`},
		{"JSON on one line, upper-case extension", "PARTNERS.JSON", `{"partners":[{"id":"example-ussd","secret":"` + secretA + `","unicode":true,"languages":["bn","en","hi"],"ussd_screen":160,"rate":200,"burst":400},{"id":"sms_2","secret":"` + secretB + `","unicode":false,"ussd_screen_ucs2":70,"rate":0.5,"burst":1,"sms_url":"https://sms.example.net/tikasetu/replies"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(writeFile(t, tc.file, tc.content))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantGood) {
				t.Errorf("config\n got %+v\nwant %+v", got, wantGood)
			}
		})
	}
}

// partnerYAML is a valid partner entry, one field a line at indentation 2:
// id (left out when ""), secret, unicode, rate and burst. Each extra
// "key: value" replaces the field of that key, or is added at the end;
// "key: -" leaves the field out.
func partnerYAML(id string, extra ...string) string {
	fields := []string{"id: " + id, "secret: " + secretA, "unicode: true", "rate: 10", "burst: 20"}
	if id == "" {
		fields = fields[1:]
	}
	for _, e := range extra {
		key, _, _ := strings.Cut(e, ":")
		i := slices.IndexFunc(fields, func(f string) bool { return strings.HasPrefix(f, key+":") })
		switch {
		case strings.HasSuffix(e, ": -"):
			fields = slices.Delete(fields, i, i+1)
		case i >= 0:
			fields[i] = e
		default:
			fields = append(fields, e)
		}
	}
	return "  - " + strings.Join(fields, "\n    ") + "\n"
}

func TestLoadConfigBad(t *testing.T) {
	good := partnerYAML("first") // lines 2-6 after "partners:"
	tests := []struct {
		name    string
		file    string
		content string
		line    int    // 0: no line expected
		want    string // substring of the message
	}{
		{name: "the brief's example", file: "partners.yaml",
			content: "partners:\n" + good + "  - id: x\n    secret: too-short\n    unicode: true\n    rate: 1\n    burst: 1\n",
			line:    8, want: `partner "x": secret shorter than 32 characters`},
		{name: "unknown field", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "secert: x"), line: 12, want: `unknown field "secert"`},
		{name: "unknown top-level field", file: "partners.yaml",
			content: "partners:\n" + good + "version: 2\n", line: 7, want: `unknown field "version"`},
		{name: "duplicate key", file: "partners.yaml",
			content: "partners:\n" + good + "    rate: 5\n", line: 7, want: `"rate" already defined`},
		{name: "duplicate id", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("second") + partnerYAML("first"), line: 12,
			want: `partner "first": duplicate id (first defined at line 2)`},
		{name: "missing id", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("", "rate: 1"), line: 7, want: "partner #2: missing id"},
		{name: "null entry", file: "partners.yaml",
			content: "partners:\n" + good + "  -\n", line: 7, want: "partner #2: missing id"},
		{name: "missing secret", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "secret: -"), line: 7, want: `partner "b": missing secret`},
		{name: "missing unicode", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "unicode: -"), line: 7, want: "missing unicode"},
		{name: "unknown language", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "languages: [bn, xx]"), line: 12, want: `partner "b": unknown language "xx" in languages`},
		{name: "language twice", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "languages: [hi, en, hi]"), line: 12, want: `partner "b": language "hi" listed twice`},
		{name: "languages not a list", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "languages: bn"), line: 12, want: "languages"},
		{name: "missing rate", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "rate: -"), line: 7, want: "missing rate"},
		{name: "missing burst", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "burst: -"), line: 7, want: "missing burst"},
		{name: "upper-case id", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("Jio"), line: 2, want: `partner "Jio": id must be`},
		{name: "id with slash", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("a/b"), line: 2, want: "id must be"},
		{name: "id too long", file: "partners.yaml",
			content: "partners:\n" + partnerYAML(strings.Repeat("a", 65)), line: 2, want: "id must be 1 to 64"},
		{name: "rate zero", file: "partners.yaml",
			content: "partners:\n" + good + partnerYAML("b", "rate: 0"), line: 10, want: `partner "b": rate must be`},
		{name: "rate negative", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "rate: -3"), line: 5, want: "rate must be"},
		{name: "rate quoted", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", `rate: "5"`), line: 5, want: "rate must be a number"},
		{name: "rate a word", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "rate: fast"), line: 5, want: `rate must be a number, not "fast"`},
		{name: "rate infinite", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "rate: .inf"), line: 5, want: "rate must be"},
		{name: "rate too high", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "rate: 1e9"), line: 5, want: "at most 100000"},
		{name: "burst fractional", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "burst: 2.5"), line: 6, want: "burst must be a whole number"},
		{name: "burst zero", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "burst: 0"), line: 6, want: "burst must be a whole number from 1"},
		{name: "burst quoted", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", `burst: "3"`), line: 6, want: "burst must be a number, not a quoted string"},
		{name: "burst overflow", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "burst: 99999999999999999999"), line: 6, want: "burst must be a whole number"},
		{name: "screen too large", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "ussd_screen: 200"), line: 7, want: "ussd_screen must be from 60 to 182"},
		{name: "screen too small", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "ussd_screen: 10"), line: 7, want: "ussd_screen must be"},
		{name: "screen zero", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "ussd_screen: 0"), line: 7, want: "ussd_screen must be"},
		{name: "screen fractional", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "ussd_screen: 150.5"), line: 7, want: "ussd_screen must be a whole number"},
		{name: "UCS-2 screen too large", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "ussd_screen_ucs2: 91"), line: 7, want: "ussd_screen_ucs2 must be from 30 to 80"},
		{name: "unicode as yes", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "unicode: yes"), line: 4, want: `unicode must be true or false, not "yes"`},
		{name: "unicode quoted", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", `unicode: "true"`), line: 4, want: `unicode must be true or false, not "true"`},
		{name: "sms_url plain http", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "sms_url: http://sms.example.net/r"), line: 7, want: "sms_url must use https"},
		{name: "sms_url relative", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "sms_url: /replies"), line: 7, want: "sms_url must be an absolute https URL"},
		{name: "sms_url ftp", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "sms_url: ftp://sms.example.net/"), line: 7, want: "sms_url must be"},
		{name: "sms_url with credentials", file: "partners.yaml",
			content: "partners:\n" + partnerYAML("b", "sms_url: https://u:p@sms.example.net/"), line: 7, want: "credentials"},
		{name: "YAML syntax error", file: "partners.yaml",
			content: "partners:\n" + good + "  - id: [b\n", line: 7, want: ""},
		{name: "tab indentation", file: "partners.yaml",
			content: "partners:\n" + good + "\t- id: b\n", line: 7, want: ""},
		{name: "two documents", file: "partners.yaml",
			content: "partners:\n" + good + "---\npartners:\n" + partnerYAML("b"), line: 8, want: "more than one YAML document"},
		{name: "no partners", file: "partners.yaml", content: "partners: []\n", want: "no partners"},
		{name: "empty file", file: "partners.yaml", content: "", want: "no partners"},
		{name: "partners not a list", file: "partners.yaml", content: "partners:\n  id: a\n", line: 2, want: ""},
		{name: "unknown extension", file: "partners.toml", content: "partners:\n" + good, want: "must end in .yaml, .yml or .json"},
		{name: "no extension", file: "partners", content: "partners:\n" + good, want: "must end in"},
		{name: "JSON syntax error", file: "partners.json",
			content: "{\n  \"partners\": [\n    {\"id\": \"a\",}\n  ]\n}\n", line: 3, want: "not valid JSON"},
		{name: "JSON truncated", file: "partners.json",
			content: "{\n  \"partners\": [\n", line: 3, want: "not valid JSON"},
		{name: "YAML in a .json file", file: "partners.json", content: "partners:\n" + good, line: 1, want: "not valid JSON"},
		{name: "JSON unknown field", file: "partners.json",
			content: "{\n  \"partners\": [\n    {\"id\": \"a\",\n     \"secrett\": \"x\"}\n  ]\n}\n", line: 4, want: `unknown field "secrett"`},
		{name: "JSON short secret", file: "partners.json",
			content: "{\"partners\": [\n  {\"id\": \"a\", \"secret\": \"" + secretA + "\", \"unicode\": true, \"rate\": 1, \"burst\": 1},\n  {\"id\": \"b\",\n   \"secret\": \"short\", \"unicode\": true, \"rate\": 1, \"burst\": 1}\n]}\n",
			line:    4, want: `partner "b": secret shorter than 32 characters`},
		{name: "JSON duplicate id", file: "partners.json",
			content: "{\"partners\": [\n  {\"id\": \"a\", \"secret\": \"" + secretA + "\", \"unicode\": true, \"rate\": 1, \"burst\": 1},\n  {\"id\": \"a\", \"secret\": \"" + secretA + "\", \"unicode\": true, \"rate\": 1, \"burst\": 1}\n]}\n",
			line:    3, want: `duplicate id (first defined at line 2)`},
		{name: "JSON duplicate key", file: "partners.json",
			content: "{\"partners\": [\n  {\"id\": \"a\",\n   \"id\": \"b\"}\n]}\n", line: 3, want: "already defined"},
		{name: "JSON string for a number", file: "partners.json",
			content: "{\"partners\": [\n  {\"id\": \"a\", \"secret\": \"" + secretA + "\", \"unicode\": true,\n   \"rate\": \"1\", \"burst\": 1}\n]}\n",
			line:    3, want: "rate must be a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			cfg, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("loaded %+v, want an error", cfg)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v, want *ConfigError", err, err)
			}
			prefix := path + ":"
			if tc.line > 0 {
				prefix = fmt.Sprintf("%s:%d: ", path, tc.line)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\nwant prefix %q and %q", msg, prefix, tc.want)
			}
			if strings.Contains(err.Error(), secretA) {
				t.Errorf("error holds a secret: %v", err)
			}
			if tc.line == 0 && ce.Line != 0 {
				t.Errorf("line %d, want none", ce.Line)
			}
		})
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := writeFile(t, "big.yaml", "partners:\n"+strings.Repeat("# padding\n", maxConfigBytes/10+1))
	if _, err := LoadConfig(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

// The exact message of the brief, on the line of the offending secret.
func TestConfigErrorMessage(t *testing.T) {
	content := "# partners\n\npartners:\n" + partnerYAML("a") + "  - id: x\n    secret: short\n    unicode: true\n    rate: 1\n    burst: 1\n"
	_, err := parseConfig("partners.yaml", []byte(content))
	if want := `partners.yaml:10: partner "x": secret shorter than 32 characters`; err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Partner{ID: "a", Secret: secretB, Rate: 1, Burst: 1}
	tests := []struct {
		name string
		edit func(p *Partner)
		want string // "" valid
	}{
		{"valid", func(*Partner) {}, ""},
		{"loopback http", func(p *Partner) { p.SMSURL = "http://127.0.0.1:9000/sms" }, ""},
		{"localhost http", func(p *Partner) { p.SMSURL = "http://localhost:9000/sms" }, ""},
		{"IPv6 loopback http", func(p *Partner) { p.SMSURL = "http://[::1]:9000/sms" }, ""},
		{"screen sizes at the limits", func(p *Partner) { p.USSDScreen, p.USSDScreenUCS2 = 60, 30 }, ""},
		{"empty id", func(p *Partner) { p.ID = "" }, "missing id"},
		{"id starting with dash", func(p *Partner) { p.ID = "-a" }, "id must be"},
		{"empty secret", func(p *Partner) { p.Secret = "" }, "missing secret"},
		{"31-character secret", func(p *Partner) { p.Secret = Secret(secretB[:31]) }, "secret shorter"},
		{"negative screen", func(p *Partner) { p.USSDScreen = -1 }, "ussd_screen"},
		{"zero rate", func(p *Partner) { p.Rate = 0 }, "rate"},
		{"zero burst", func(p *Partner) { p.Burst = 0 }, "burst"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			err := Config{Partners: []Partner{p}}.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// A Partner or Config printed in a log line does not show the secret.
func TestSecretRedacted(t *testing.T) {
	cfg := Config{Partners: []Partner{{ID: "a", Secret: secretA}}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(verb, cfg); strings.Contains(out, secretA) || !strings.Contains(out, "redacted") {
			t.Errorf("%s: %s", verb, out)
		}
	}
}
