// Package dlt keeps TikaSetu's SMS within India's DLT registration (TRAI's
// TCCCPR 2018, the Distributed Ledger Technology platform of the telecom
// operators): every commercial SMS must match a content template registered
// under the sender's principal entity (PE ID) and header, in which each
// variable part is written {#var#} and holds at most 30 characters. An SMS
// that does not match is dropped by the operator's scrubbing, silently.
//
// Templates derives the template texts from the message catalogues and
// Write prints them as the registration file to fill in (docs/sms-india.md).
// Load reads that file, filled in with the ids the DLT portal gave;
// Registry.Check proves at start that it matches the catalogues character
// for character; Registry.Match checks each message at send time; and Guard
// wraps a dialog.Sender so that only matching messages, with their entity
// and template ids, are sent.
package dlt

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
)

// Var is a variable part of a DLT content template.
const Var = "{#var#}"

// VarMax is the most characters (Unicode code points) one Var holds.
const VarMax = 30

// Kinds of message that have a template: the three the journey sends
// through a dialog.Sender (dialog.SMSKind*), and the replies given on the
// SMS channel itself.
const (
	KindOTP       = dialog.SMSKindOTP       // sms.otp
	KindSlip      = dialog.SMSKindSlip      // sms.slip
	KindCancelled = dialog.SMSKindCancelled // sms.cancelled
	KindHelp      = "help"                  // sms.help, the reply to HELP
	KindStopped   = "stopped"               // sms.stopped, the reply to STOP
	KindBusy      = "busy"                  // busy.sms, the reply under load
	KindQueued    = "queued"                // busy.queued, the reply under load with a place in the queue
	KindInvite    = dialog.SMSKindInvite    // sms.invite
	KindAlert     = dialog.SMSKindAlert     // sms.alert
	KindHandoff   = dialog.SMSKindHandoff   // sms.handoff
)

// Variables the slip gives its longer placeholders; every other placeholder
// of every message has one. dialog's slip keeps each value within them.
const (
	SlipNameVars  = 2 // {name}: up to 60 characters (names have 2 to 60)
	SlipPlaceVars = 4 // {centre}, the centre's name and address: up to 120
	// AlertCentreVars is what a seat alert's {centre}, the centre's name
	// alone, takes: up to 60 characters.
	AlertCentreVars = 2
)

// kind is a kind of message: its catalogue key and how many Vars each
// placeholder takes (1 when not listed).
type kind struct {
	name string
	key  string
	vars map[string]int
}

var kinds = []kind{
	{name: KindOTP, key: "sms.otp"},
	{name: KindSlip, key: "sms.slip", vars: map[string]int{"name": SlipNameVars, "centre": SlipPlaceVars}},
	{name: KindCancelled, key: "sms.cancelled"},
	{name: KindHelp, key: "sms.help"},
	{name: KindStopped, key: "sms.stopped"},
	{name: KindBusy, key: "busy.sms"},
	{name: KindQueued, key: "busy.queued"},
	{name: KindInvite, key: "sms.invite"},
	{name: KindAlert, key: "sms.alert", vars: map[string]int{"centre": AlertCentreVars}},
	{name: KindHandoff, key: "sms.handoff"},
}

// Kinds lists every kind of message that needs a template, in file order.
func Kinds() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}

func knownKind(name string) bool {
	for _, k := range kinds {
		if k.name == name {
			return true
		}
	}
	return false
}

func knownLang(lang string) bool {
	for _, l := range dialog.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Template is one content template: the message kind and language it is
// for, the id the DLT portal gave it ("" until registered), and its text.
type Template struct {
	Kind string
	Lang string
	ID   string
	Text string
}

// placeholder is a catalogue placeholder, as dialog writes them.
var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// Templates returns the template of every kind of message in every language
// of the catalogue (dialog.Languages), kinds in Kinds order: the catalogue
// message with each {placeholder} replaced by as many Vars as its longest
// value needs. IDs are empty.
func Templates(cat *dialog.Catalogue) []Template {
	return templates(func(lang, key string) string { return cat.Text(lang, key) })
}

// templates is Templates over any source of raw catalogue texts.
func templates(text func(lang, key string) string) []Template {
	var out []Template
	for _, k := range kinds {
		for _, lang := range dialog.Languages {
			t := placeholder.ReplaceAllStringFunc(text(lang, k.key), func(p string) string {
				n := k.vars[p[1:len(p)-1]]
				if n == 0 {
					n = 1
				}
				return strings.Repeat(Var, n)
			})
			out = append(out, Template{Kind: k.name, Lang: lang, Text: t})
		}
	}
	return out
}

// Write prints ts as the registration file that Load reads, with entityID
// (normally "", to fill in) and each template's ID (normally "").
func Write(w io.Writer, entityID string, ts []Template) error {
	b := bufio.NewWriter(w)
	b.WriteString("# TikaSetu's DLT content templates (docs/sms-india.md). Register each text\n")
	b.WriteString("# exactly as written here on your operator's DLT portal, then fill in\n")
	b.WriteString("# entity_id (your PE ID) and the id the portal gives each template.\n")
	fmt.Fprintf(b, "entity_id: %s\n", quote(entityID))
	b.WriteString("templates:\n")
	for _, t := range ts {
		fmt.Fprintf(b, "  - kind: %s\n", quote(t.Kind))
		fmt.Fprintf(b, "    lang: %s\n", quote(t.Lang))
		fmt.Fprintf(b, "    id: %s\n", quote(t.ID))
		fmt.Fprintf(b, "    text: %s\n", quote(t.Text))
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("dlt: write templates: %w", err)
	}
	return nil
}

// quote writes s as a YAML scalar: plain when it is a simple word (kinds,
// languages), double-quoted otherwise, escaping only what YAML requires.
func quote(s string) string {
	if plainWord.MatchString(s) && !yamlWords[s] {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			b.WriteString(`\u`)
			b.WriteString(fmt.Sprintf("%04x", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainWord is a scalar YAML reads back as the same string unquoted.
var plainWord = regexp.MustCompile(`^[a-z][a-z_]*$`)

// yamlWords are words some YAML readers take for something else than text.
var yamlWords = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

// position describes a 1-based character position.
func position(i int) string { return "character " + strconv.Itoa(i+1) }
