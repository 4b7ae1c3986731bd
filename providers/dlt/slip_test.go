package dlt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store/cowin"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
)

// TestRealSlipsMatch has the dialog engine send the appointment slips
// ("My appointments", "Send slip again") for every session and slot of
// every centre in the real Co-WIN files, plus a centre made of the longest
// values the importer takes, to four people with names of 60 letters, in
// every language, and checks that every slip matches its template.
func TestRealSlipsMatch(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(cowintest.Dir(t), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Co-WIN files: %v", err)
	}
	var centres []dialog.Centre
	for _, f := range files {
		cs, err := cowin.ParseFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		centres = append(centres, cs...)
	}
	longest := map[string]string{}
	keep := func(what, s string) {
		if utf8.RuneCountInString(s) > utf8.RuneCountInString(longest[what]) {
			longest[what] = s
		}
	}
	for _, c := range centres {
		keep("centre name", c.Name)
		keep("address", c.Address)
		if !strings.Contains(c.Name, c.Address) {
			keep("place", c.Name+", "+c.Address)
		}
		for _, s := range c.Sessions {
			keep("vaccine", s.Vaccine)
			for _, sl := range s.Slots {
				keep("slot", sl)
			}
		}
	}
	for _, what := range []string{"centre name", "address", "place", "vaccine", "slot"} {
		t.Logf("longest real %s: %d characters: %q", what, utf8.RuneCountInString(longest[what]), longest[what])
	}
	// The importer's limits (store/cowin): name 200, address 500, vaccine
	// and slot 50.
	day := time.Date(2021, 9, 29, 0, 0, 0, 0, dialog.IST)
	centres = append(centres, dialog.Centre{ID: 999999001, Name: runes("Centre Name ", 200),
		Address: runes("অনেক লম্বা ঠিকানা ", 500), Pincode: "700001",
		Sessions: []dialog.Session{{ID: "worst", Date: day, Vaccine: strings.Repeat("V", 50), Slots: []string{strings.Repeat("9", 50)}}}})

	r := registered(t)
	names := map[string][]string{
		"en": {
			"Venkatanarasimha Lakshmi Subrahmanya Sastry Bhattacharjee",
			"Annapurna Devi Ramakrishnan Chaturvedi-Tripathi Mukhopadhyay",
			"Mohammed Abdul Qadir Siddiqui Hussaini Chowdhury Ansari Khan",
			strings.Repeat("Ab", 30),
		},
		"hi": {
			"श्रीमती अन्नपूर्णा देवी रामकृष्ण चतुर्वेदी त्रिपाठी शर्मा",
			"वेंकटनरसिंह लक्ष्मी सुब्रह्मण्य शास्त्री भट्टाचार्य अय्यर",
			"मोहम्मद अब्दुल क़ादिर सिद्दीक़ी हुसैनी चौधरी अंसारी ख़ान",
			"Annapurna Devi Ramakrishnan Chaturvedi-Tripathi Mukhopadhyay",
		},
		"bn": {
			"শ্রীমতী অন্নপূর্ণা দেবী রামকৃষ্ণ চট্টোপাধ্যায় মুখার্জি",
			"বেঙ্কটনরসিংহ লক্ষ্মী সুব্রহ্মণ্য শাস্ত্রী ভট্টাচার্য আয়ার",
			"শিবপ্রসাদ রামচন্দ্র বিশ্বনাথ বন্দ্যোপাধ্যায় মুখোপাধ্যায়",
			"Mohammed Abdul Qadir Siddiqui Hussaini Chowdhury Ansari Khan",
		},
	}
	// Every appointment a slip can be for: each session and slot of each
	// centre, four to an account.
	type booking struct {
		c    dialog.Centre
		s    dialog.Session
		slot string
	}
	var all []booking
	for _, c := range centres {
		for _, s := range c.Sessions {
			for _, sl := range s.Slots {
				all = append(all, booking{c, s, sl})
			}
		}
	}
	convs, reg := &conversations{}, &registry{}
	e, err := dialog.NewEngine(dialog.Config{Conversations: convs, OTPs: otps{}, Registry: reg, Outbox: outbox{}, Sealer: sealer{}})
	if err != nil {
		t.Fatal(err)
	}
	slips, longestSlip := 0, map[string]string{}
	for _, lang := range dialog.Languages {
		for _, gsm7 := range []bool{false, true} {
			if gsm7 && lang != "en" && lang != "hi" {
				continue // a GSM-7-only channel shows English, or Roman Hindi for every Indic language
			}
			ns := names[lang]
			if ns == nil {
				ns = names["en"] // as long, and a UCS-2 slip counts Latin letters as any other
			}
			for i := 0; i < len(all); i += 4 {
				reg.centres = map[int64]dialog.Centre{}
				acct := dialog.Account{Msisdn: "+919876543210"}
				for j, b := range all[i:min(i+4, len(all))] {
					reg.centres[b.c.ID] = b.c
					ref := fmt.Sprintf("10000000000%02d", j)
					acct.Beneficiaries = append(acct.Beneficiaries, dialog.Beneficiary{Ref: ref, Name: ns[j]})
					acct.Appointments = append(acct.Appointments, dialog.Appointment{
						ID: "K7M2Q9XW4RTA", Code: "4821", Beneficiary: ref, Msisdn: acct.Msisdn,
						SessionID: b.s.ID, CentreID: b.c.ID, Date: b.s.Date, Slot: b.slot, Dose: 1})
				}
				sent := resend(t, e, convs, acct, lang, gsm7)
				if len(sent) != len(acct.Appointments) {
					t.Fatalf("%d slips sent for %d appointments", len(sent), len(acct.Appointments))
				}
				for _, m := range sent {
					slips++
					if m.Kind != KindSlip {
						t.Fatalf("kind %q", m.Kind)
					}
					if _, err := r.Match(m); err != nil {
						t.Errorf("%v\n%s", err, m.Text)
					}
					if utf8.RuneCountInString(m.Text) > utf8.RuneCountInString(longestSlip[lang]) {
						longestSlip[lang] = m.Text
					}
				}
			}
		}
	}
	for _, lang := range dialog.Languages {
		t.Logf("longest slip in %s: %d characters: %s", lang, utf8.RuneCountInString(longestSlip[lang]), longestSlip[lang])
	}
	t.Logf("%d slips from %d centres, all matching", slips, len(centres))
}

// resend runs "Send slip again" on an account and returns the slips.
func resend(t *testing.T, e *dialog.Engine, convs *conversations, acct dialog.Account, lang string, gsm7 bool) []dialog.SMS {
	t.Helper()
	convs.c = &dialog.Conversation{Msisdn: acct.Msisdn, State: "my_appointments", Lang: lang,
		Channel: dialog.SMSChannel, Account: acct.Msisdn, Snapshot: &acct}
	convs.sms = nil
	if _, err := e.Handle(context.Background(), dialog.Turn{Channel: dialog.SMSChannel, Provider: "test",
		Msisdn: acct.Msisdn, Input: "1", GSM7Only: gsm7}); err != nil {
		t.Fatal(err)
	}
	return convs.sms
}

// conversations holds one conversation and keeps the SMS saved with it.
type conversations struct {
	mu  sync.Mutex
	c   *dialog.Conversation
	sms []dialog.SMS
}

func (s *conversations) Load(context.Context, string, string) (dialog.Loaded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return dialog.Loaded{Conversation: s.c.Clone(), Lang: s.c.Lang}, nil
}

func (s *conversations) Save(_ context.Context, c *dialog.Conversation, _ time.Duration, _ string, _ dialog.Reply, sms ...dialog.SMS) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c, s.sms = c.Clone(), append(s.sms, sms...)
	return nil
}

func (s *conversations) Peek(string, string) (dialog.Loaded, bool) { return dialog.Loaded{}, false }

var errUnused = errors.New("not used by this test")

// registry serves centres; the account comes from the conversation.
type registry struct{ centres map[int64]dialog.Centre }

func (r *registry) Centre(_ context.Context, id int64) (dialog.Centre, error) {
	c, ok := r.centres[id]
	if !ok {
		return c, dialog.ErrNotFound
	}
	return c, nil
}
func (r *registry) Account(context.Context, string) (dialog.Account, error) {
	return dialog.Account{}, errUnused
}
func (r *registry) AddBeneficiary(context.Context, string, dialog.NewBeneficiary) (dialog.Beneficiary, error) {
	return dialog.Beneficiary{}, errUnused
}
func (r *registry) CentresByPin(context.Context, string) ([]dialog.Centre, error) {
	return nil, errUnused
}
func (r *registry) Seats(context.Context, []string) ([]dialog.Seats, error) { return nil, errUnused }
func (r *registry) Book(context.Context, dialog.BookRequest) (dialog.Appointment, error) {
	return dialog.Appointment{}, errUnused
}
func (r *registry) Cancel(context.Context, string, string, int) error { return errUnused }

type otps struct{}

func (otps) Issue(context.Context, dialog.OTPRequest) (string, error) { return "", errUnused }
func (otps) Verify(context.Context, string, string) error             { return errUnused }
func (otps) MarkUndelivered(context.Context, string) error            { return errUnused }
func (otps) Undelivered(context.Context, string) (bool, error)        { return false, errUnused }
func (otps) Remember(context.Context, string, time.Duration) error    { return errUnused }
func (otps) Remembered(context.Context, string) (bool, error)         { return false, errUnused }

type outbox struct{}

func (outbox) Deliver(string, []dialog.SMS) {}
func (outbox) Drain()                       {}

type sealer struct{}

func (sealer) Seal(s string) (string, error) { return s, nil }
func (sealer) Open(s string) (string, error) { return s, nil }

// runes is s repeated to n characters.
func runes(s string, n int) string {
	rs := []rune(strings.Repeat(s, n/utf8.RuneCountInString(s)+1))
	return string(rs[:n])
}
