package dialogtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store/cowin"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
)

// A Transcript is one caller's journey as JSON: what they type and, for
// each input, the screen they get and the SMS sent, exactly, except for
// the values that are random on every run, which stand as placeholders:
//
//   - in an input, {otp} types the code of the latest code SMS, and
//     {wrong-otp} a 6-digit code other than it;
//   - in a screen or an SMS, {otp} is the code of the SMS it stands in,
//     {ref1}, {ref2}… the people's reference numbers in the order they
//     were registered, {appt1}… and {code1}… the appointment ids and
//     security codes in the order they were first booked.
//
// The runner starts the Clock at Start and loads Calendar into the
// registry; only a step's wait moves the Clock.
type Transcript struct {
	Name       string         `json:"name"`
	Channel    dialog.Channel `json:"channel"`
	ScreenSize ScreenSize     `json:"screen_size"`
	Msisdn     string         `json:"msisdn"` // the caller (E.164)
	Vouched    bool           `json:"vouched,omitempty"`
	// VerifiedFor is the engine's Config.VerifiedFor ("24h"; none: 0).
	VerifiedFor string `json:"verified_for,omitempty"`
	// Calendar is a file of real Co-WIN data (see Calendar).
	Calendar string `json:"calendar"`
	Steps    []Step `json:"steps"`
}

// ScreenSize is how many characters a reply may take: GSM-7 text, and
// text that needs UCS-2 (Hindi, Bengali). On USSD it is the Turn's
// ScreenLimit and UCS2Limit; SMS replies always take up to three
// segments, 459 and 201.
type ScreenSize struct {
	GSM  int `json:"gsm"`
	UCS2 int `json:"ucs2"`
}

// Step is one input and what it shows.
type Step struct {
	Note  string `json:"note,omitempty"` // for the reader
	Wait  string `json:"wait,omitempty"` // moves the Clock on first ("40s")
	Dial  bool   `json:"dial,omitempty"` // USSD: dials, opening a session (no input)
	Input string `json:"input,omitempty"`
	// Screen is the reply, line by line; End marks the last of a session.
	Screen []string  `json:"screen"`
	End    bool      `json:"end,omitempty"`
	SMS    []SentSMS `json:"sms,omitempty"` // sent during the step, sorted
}

// SentSMS is one SMS as a transcript records it.
type SentSMS struct {
	To   string `json:"to"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// CalendarSeats is the capacity per dose Calendar gives every session.
const CalendarSeats = 50

// Calendar returns the centres of a file of real Co-WIN responses
// (store/cowin/testdata) with their sessions moved to the five days after
// now, open to 18+, with CalendarSeats seats per dose.
func Calendar(t testing.TB, file string, now time.Time) []dialog.Centre {
	t.Helper()
	centres, err := cowin.ParseFile(cowintest.File(t, file))
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := now.In(dialog.IST).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, dialog.IST)
	for i := range centres {
		for j := range centres[i].Sessions {
			s := &centres[i].Sessions[j]
			s.Date = today.AddDate(0, 0, 1+j%5)
			s.MinAge = 18
			s.Capacity = [2]int{CalendarSeats, CalendarSeats}
		}
	}
	return centres
}

// RunTranscripts replays every transcript (*.json) in dir on backend, one
// subtest each. With update set it writes back what the engine now shows
// instead of comparing.
func RunTranscripts(t *testing.T, dir string, backend Backend, update bool) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s: %v", dir, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			tr, err := readTranscript(f)
			if err != nil {
				t.Fatal(err)
			}
			if !replay(t, tr, backend, update) || !update {
				return
			}
			if err := writeTranscript(f, tr); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// readTranscript reads a transcript file.
func readTranscript(path string) (*Transcript, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tr := new(Transcript)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(tr); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tr, nil
}

// writeTranscript writes tr as indented JSON, text unescaped.
func writeTranscript(path string, tr *Transcript) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tr); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// replay runs tr on fresh Ports of backend. It reports a difference from
// the transcript as a test error; with update it writes what the engine
// shows into tr instead. It returns whether tr changed.
func replay(t testing.TB, tr *Transcript, backend Backend, update bool) bool {
	t.Helper()
	ctx := context.Background()
	clock := NewClock(Start)
	p := backend(t, Options{Clock: clock})
	if err := p.Import(ctx, Calendar(t, tr.Calendar, Start)); err != nil {
		t.Fatal(err)
	}
	verifiedFor, err := optionalDuration(tr.VerifiedFor)
	if err != nil {
		t.Fatalf("verified_for: %v", err)
	}
	eng := p.Engine(t, clock, func(c *dialog.Config) { c.VerifiedFor = verifiedFor })
	rv := &randomValues{}
	changed, sent, session := false, 0, 0
	for i := range tr.Steps {
		st := &tr.Steps[i]
		wait, err := optionalDuration(st.Wait)
		if err != nil {
			t.Fatalf("step %d: wait: %v", i+1, err)
		}
		clock.Advance(wait)
		turn := dialog.Turn{Channel: tr.Channel, Provider: "transcript", Msisdn: tr.Msisdn,
			Delivery: "d" + strconv.Itoa(i+1), ScreenLimit: tr.ScreenSize.GSM, UCS2Limit: tr.ScreenSize.UCS2,
			Vouched: tr.Vouched, Input: rv.input(st.Input)}
		if st.Dial {
			session++
			turn.Input, turn.NewSession = "", true
		}
		if tr.Channel == dialog.USSD {
			turn.Session = "S" + strconv.Itoa(session)
		}
		reply, err := eng.Handle(ctx, turn)
		if err != nil {
			t.Fatalf("step %d (%s): %v", i+1, st.shown(), err)
		}
		eng.Drain()
		all := p.SMS.All()
		news := all[sent:]
		sent = len(all)
		rv.learnCodes(news)
		acc, err := p.Registry.Account(ctx, tr.Msisdn)
		if err != nil {
			t.Fatal(err)
		}
		rv.learn(acc)
		if limit := (dialog.Budget{GSM: tr.ScreenSize.GSM, UCS2: tr.ScreenSize.UCS2}).For(reply.Text); dialog.Units(reply.Text) > limit {
			t.Errorf("step %d (%s): %d units, over the screen's %d:\n%s", i+1, st.shown(), dialog.Units(reply.Text), limit, rv.mask(reply.Text))
		}
		gotSMS := rv.maskSMS(news)
		if update {
			screen := strings.Split(rv.mask(reply.Text), "\n")
			changed = changed || !slices.Equal(screen, st.Screen) || st.End != reply.End || !slices.Equal(gotSMS, st.SMS)
			st.Screen, st.End, st.SMS = screen, reply.End, gotSMS
			continue
		}
		if want := rv.fill(strings.Join(st.Screen, "\n")); want != reply.Text || st.End != reply.End {
			t.Errorf("step %d (%s): the screen differs\n--- want (end %v)\n%s\n--- got (end %v)\n%s",
				i+1, st.shown(), st.End, strings.Join(st.Screen, "\n"), reply.End, rv.mask(reply.Text))
		}
		if !rv.sameSMS(st.SMS, news) {
			t.Errorf("step %d (%s): the SMS differ\n--- want\n%s\n--- got\n%s", i+1, st.shown(), smsLines(st.SMS), smsLines(gotSMS))
		}
	}
	return changed
}

func optionalDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// shown is the step's input as the transcript writes it.
func (st *Step) shown() string {
	if st.Dial {
		return "dial"
	}
	return strconv.Quote(st.Input)
}

func smsLines(ms []SentSMS) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s %s: %s\n", dialog.MaskMsisdn(m.To), m.Kind, m.Text)
	}
	return b.String()
}

// randomValues are the random values a replay has met, with their
// placeholders.
type randomValues struct {
	code   string            // the latest code sent
	values map[string]string // value → placeholder
	order  []string          // values, in the order met
	counts map[string]int    // placeholder kind → how many
}

// learnCodes notes the code of the latest code SMS.
func (rv *randomValues) learnCodes(sms []dialog.SMS) {
	for _, m := range sms {
		if c := otpCode(m); c != "" {
			rv.code = c
		}
	}
}

// learn numbers the account's refs, appointment ids and codes not met yet.
func (rv *randomValues) learn(acc dialog.Account) {
	for _, b := range acc.Beneficiaries {
		rv.name("ref", b.Ref)
	}
	for _, a := range acc.Appointments {
		rv.name("appt", a.ID)
		rv.name("code", a.Code)
	}
}

func (rv *randomValues) name(kind, value string) {
	if _, ok := rv.values[value]; ok || value == "" {
		return
	}
	if rv.values == nil {
		rv.values, rv.counts = map[string]string{}, map[string]int{}
	}
	rv.counts[kind]++
	rv.values[value] = "{" + kind + strconv.Itoa(rv.counts[kind]) + "}"
	rv.order = append(rv.order, value)
}

// input replaces {otp} and {wrong-otp}.
func (rv *randomValues) input(s string) string {
	switch s {
	case "{otp}":
		return rv.code
	case "{wrong-otp}":
		return otherCode(rv.code)
	}
	return s
}

// mask puts placeholders for the values met, where they stand as words.
func (rv *randomValues) mask(text string) string {
	for _, v := range rv.order {
		text = wordPattern(v).ReplaceAllLiteralString(text, rv.values[v])
	}
	return text
}

func wordPattern(v string) *regexp.Regexp {
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(v) + `\b`)
}

// fill puts the values met for their placeholders: what the caller must
// see. (Comparing filled text rather than masked text cannot be fooled by a
// random value that happens to equal other text.)
func (rv *randomValues) fill(text string) string {
	for _, v := range rv.order {
		text = strings.ReplaceAll(text, rv.values[v], v)
	}
	return text
}

// maskSMS is sms as a transcript records them, sorted: SMS of one step may
// be sent in any order.
func (rv *randomValues) maskSMS(sms []dialog.SMS) []SentSMS {
	var out []SentSMS
	for _, m := range sms {
		text := m.Text
		if c := otpCode(m); c != "" {
			text = wordPattern(c).ReplaceAllLiteralString(text, "{otp}")
		}
		out = append(out, SentSMS{To: m.To, Kind: m.Kind, Text: rv.mask(text)})
	}
	slices.SortFunc(out, func(a, b SentSMS) int { return strings.Compare(a.To+a.Kind+a.Text, b.To+b.Kind+b.Text) })
	return out
}

// sameSMS reports whether got are the SMS want records, in any order.
func (rv *randomValues) sameSMS(want []SentSMS, got []dialog.SMS) bool {
	if len(want) != len(got) {
		return false
	}
	key := func(to, kind, text string) string { return to + "\x00" + kind + "\x00" + text }
	var w, g []string
	for _, m := range want {
		w = append(w, key(m.To, m.Kind, rv.fill(m.Text)))
	}
	for _, m := range got {
		text := m.Text
		if c := otpCode(m); c != "" {
			text = strings.ReplaceAll(text, c, "{otp}") // the one value learned from the SMS itself
		}
		g = append(g, key(m.To, m.Kind, text))
	}
	slices.Sort(w)
	slices.Sort(g)
	return slices.Equal(w, g)
}
