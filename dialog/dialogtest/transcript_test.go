package dialogtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestRandomValues(t *testing.T) {
	rv := &randomValues{}
	rv.learn(dialog.Account{
		Beneficiaries: []dialog.Beneficiary{{Ref: "1234567890123"}, {Ref: "2234567890123"}},
		Appointments:  []dialog.Appointment{{ID: "ABCDEFGHJKLM", Code: "1962"}},
	})
	rv.learn(dialog.Account{Appointments: []dialog.Appointment{{ID: "ZZZZZZZZZZZZ", Code: "4321"}, {ID: "ABCDEFGHJKLM", Code: "1962"}}})
	for _, tc := range []struct{ text, masked string }{
		{"ref 1234567890123, 2234567890123", "ref {ref1}, {ref2}"},
		{"ID ABCDEFGHJKLM code 1962", "ID {appt1} code {code1}"},
		{"ID ZZZZZZZZZZZZ code 4321।", "ID {appt2} code {code2}।"},
		{"19620 and 41962 stay", "19620 and 41962 stay"}, // only whole words
	} {
		if got := rv.mask(tc.text); got != tc.masked {
			t.Errorf("mask(%q) = %q, want %q", tc.text, got, tc.masked)
		}
		if got := rv.fill(tc.masked); got != tc.text {
			t.Errorf("fill(%q) = %q, want %q", tc.masked, got, tc.text)
		}
	}
	rv.learnCodes([]dialog.SMS{{Kind: dialog.SMSKindOTP, Text: "TikaSetu code: 654321."}})
	if rv.input("{otp}") != "654321" || rv.input("{wrong-otp}") != "000000" || rv.input("12") != "12" {
		t.Errorf("inputs %q %q", rv.input("{otp}"), rv.input("{wrong-otp}"))
	}
}

// errorLog is a testing.TB that keeps the errors reported to it.
type errorLog struct {
	*testing.T
	errs []string
}

func (l *errorLog) Errorf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

// TestReplayFindsDifferences: the English first call replays as recorded,
// and each change to what it expects is reported.
func TestReplayFindsDifferences(t *testing.T) {
	last := func(tr *Transcript) *Step { return &tr.Steps[len(tr.Steps)-1] }
	for _, tc := range []struct {
		name   string
		file   string // default ussd-first-time-en
		change func(*Transcript)
		want   string // in the errors; "" for none
	}{
		{"as recorded", "", func(*Transcript) {}, ""},
		{"a screen line", "", func(tr *Transcript) { tr.Steps[0].Screen[0] += "!" }, "step 1 (dial): the screen differs"},
		{"the end", "", func(tr *Transcript) { last(tr).End = false }, "the screen differs"},
		{"codes swapped", "", func(tr *Transcript) {
			s := last(tr)
			s.Screen[1] = strings.ReplaceAll(s.Screen[1], "{code1}", "{code2}")
		}, "the screen differs"},
		{"an SMS text", "", func(tr *Transcript) { last(tr).SMS[0].Text += "!" }, "the SMS differ"},
		{"an SMS missing", "", func(tr *Transcript) { last(tr).SMS = last(tr).SMS[1:] }, "the SMS differ"},
		// Over SMS the size is not the engine's to follow: a check.
		{"replies over the size", "sms-first-time", func(tr *Transcript) { tr.ScreenSize.GSM = 100 }, "over the screen's 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file == "" {
				tc.file = "ussd-first-time-en"
			}
			tr, err := readTranscript(filepath.Join("..", "testdata", "transcripts", tc.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			tc.change(tr)
			log := &errorLog{T: t}
			if replay(log, tr, Memory, false) {
				t.Error("a replay without update changed the transcript")
			}
			got := strings.Join(log.errs, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("errors:\n%s\nwant one with %q", got, tc.want)
			}
		})
	}
}

// TestReplayUpdates: with update, a transcript with no screens gets those
// recorded, and a second update changes nothing.
func TestReplayUpdates(t *testing.T) {
	want, err := readTranscript(filepath.Join("..", "testdata", "transcripts", "ussd-wrong-otp.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := readTranscript(filepath.Join("..", "testdata", "transcripts", "ussd-wrong-otp.json"))
	for i := range tr.Steps {
		tr.Steps[i].Screen, tr.Steps[i].SMS, tr.Steps[i].End = nil, nil, false
	}
	if !replay(t, tr, Memory, true) {
		t.Fatal("update found nothing to change")
	}
	if replay(t, tr, Memory, true) {
		t.Error("a second update changed the transcript again")
	}
	file := filepath.Join(t.TempDir(), "t.json")
	if err := writeTranscript(file, tr); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if w, _ := os.ReadFile(filepath.Join("..", "testdata", "transcripts", "ussd-wrong-otp.json")); string(got) != string(w) {
		t.Errorf("updated transcript differs from the file:\n%s", got)
	}
	if len(tr.Steps) != len(want.Steps) {
		t.Errorf("%d steps, want %d", len(tr.Steps), len(want.Steps))
	}
}

func TestReadTranscriptRefusesUnknownFields(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(file, []byte(`{"name": "x", "stpes": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readTranscript(file); err == nil {
		t.Error("a misspelt field was read")
	}
}

// TestCalendar: the real centres, every session within the five days after
// Start, open to 18+, with CalendarSeats seats.
func TestCalendar(t *testing.T) {
	cs := Calendar(t, "01-west-bengal-743337.json", Start)
	if len(cs) != 3 {
		t.Fatalf("%d centres, want the file's 3", len(cs))
	}
	first, last := time.Date(2021, 9, 21, 0, 0, 0, 0, dialog.IST), time.Date(2021, 9, 26, 0, 0, 0, 0, dialog.IST)
	for _, c := range cs {
		for _, s := range c.Sessions {
			if s.Date.Before(first) || !s.Date.Before(last) || s.MinAge != 18 || s.Capacity != [2]int{CalendarSeats, CalendarSeats} {
				t.Errorf("session %s: %v, %d+, %v", s.ID, s.Date, s.MinAge, s.Capacity)
			}
		}
	}
}
