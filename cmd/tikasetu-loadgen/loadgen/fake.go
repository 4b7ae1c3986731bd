package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// FakeGateway is a stand-in for the gateway, for testing the load generator
// (and its wiring in the binary) without Redis: it answers the Africa's
// Talking route with the journey's screens, worked out from the inputs
// alone, and posts each OTP and booking slip to an SMS sink as the gateway's
// "http" sender does, signed. It checks what a journey sends (the Aadhaar
// check digit, the code), not the rules of the domain. It also measures the
// load generator's own ceiling: the rate it reaches against a target that
// costs almost nothing.
//
// With MaxJourneys it also plays admission control and the surge queue:
// past MaxJourneys journeys in progress a new caller is turned away at the
// dial, with a place in the queue (Queue) or with the plain busy screen;
// as journeys end ("Booked!") the first callers in the queue are invited
// by SMS, one after the other, and let in ahead of new callers when they
// dial. A caller dialling again mid-journey keeps their place, and
// invitations do not expire.
type FakeGateway struct {
	SinkURL    string
	SinkSecret []byte
	// Fault, when set, is asked about each request after its screen is
	// worked out; a non-nil answer replaces the reply.
	Fault func(FakeRequest) *FakeAnswer
	// NoSMS sends no SMS at all (for an OTP that never arrives).
	NoSMS bool
	// MaxJourneys above 0 turns new callers away past that many journeys
	// in progress; Queue gives them a place in the queue and invites them.
	MaxJourneys int
	Queue       bool
	// PlainSMS posts no kind nor language with an SMS, as a sender that
	// does not tell them: the sink knows invitations by the code in them.
	PlainSMS bool

	once      sync.Once
	client    *http.Client
	mu        sync.Mutex
	codes     map[string]string // session → its OTP
	inJourney map[string]bool   // numbers with a journey in progress
	invited   map[string]bool   // numbers invited, not yet dialled
	waiting   []string          // numbers in the queue, first first
	sms       sync.WaitGroup
	inviting  sync.Mutex // one round of invitations at a time, posted in order
}

// Fake screens and SMS of the surge queue, as the gateway's in English.
const (
	FakeBusyScreen = "TikaSetu is very busy right now. Please dial again in a few minutes."
	fakeQueued     = "Very busy. You are number %d in the queue, about %d min. We will SMS you when it is your turn."
	FakeInvitation = "TikaSetu: your turn has come. Within 15 min dial *123*45# or send REG to register or book."
)

// FakeRequest is one request as FakeGateway.Fault sees it.
type FakeRequest struct {
	Session, Msisdn string
	Inputs          []string // empty on the dial
	State           string   // the screen it would answer: "lang", "number", "otp", "home", …, "booked"
}

// FakeAnswer replaces a reply: Body with Status (0 means 200), after Delay
// (or when the client gives up, whichever is first).
type FakeAnswer struct {
	Status int
	Body   string
	Delay  time.Duration
}

func (f *FakeGateway) init() {
	f.once.Do(func() {
		f.codes, f.inJourney, f.invited = map[string]string{}, map[string]bool{}, map[string]bool{}
		f.client = &http.Client{Timeout: 5 * time.Second}
	})
}

// Wait waits for the SMS posts in flight.
func (f *FakeGateway) Wait() { f.sms.Wait() }

// ServeHTTP answers POST /ussd/africastalking.
func (f *FakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.init()
	if r.Method != http.MethodPost || r.URL.Path != USSDPath {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("sessionId") == "" || r.PostForm.Get("phoneNumber") == "" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req := FakeRequest{Session: r.PostForm.Get("sessionId"), Msisdn: r.PostForm.Get("phoneNumber")}
	if t := r.PostForm.Get("text"); t != "" {
		req.Inputs = strings.Split(t, "*")
	}
	var state, screen, kind, text string
	if len(req.Inputs) == 0 {
		state, screen = f.admit(req.Msisdn)
	}
	if state == "" {
		state, screen, kind, text = f.walk(req)
	}
	req.State = state
	if f.Fault != nil {
		if a := f.Fault(req); a != nil {
			if a.Delay > 0 {
				select {
				case <-r.Context().Done():
				case <-time.After(a.Delay):
				}
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(orElse(a.Status, http.StatusOK))
			w.Write([]byte(a.Body))
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(screen))
	if text != "" && !f.NoSMS {
		f.sms.Add(1)
		go func() { defer f.sms.Done(); f.send(req.Msisdn, text, kind) }()
	}
	if state == "booked" && f.MaxJourneys > 0 {
		f.mu.Lock()
		delete(f.inJourney, req.Msisdn)
		f.mu.Unlock()
		f.sms.Add(1)
		go func() { defer f.sms.Done(); f.invite() }()
	}
}

// admit decides a dial under MaxJourneys: "" lets the caller in; otherwise
// the state ("queued" or "busy") and the END screen turning them away.
func (f *FakeGateway) admit(msisdn string) (state, screen string) {
	if f.MaxJourneys <= 0 {
		return "", ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.inJourney[msisdn]:
		return "", ""
	case f.invited[msisdn]:
		delete(f.invited, msisdn)
	case len(f.inJourney)+len(f.invited) < f.MaxJourneys && (!f.Queue || len(f.waiting) == 0):
	case f.Queue:
		pos := slices.Index(f.waiting, msisdn) + 1
		if pos == 0 {
			f.waiting = append(f.waiting, msisdn)
			pos = len(f.waiting)
		}
		return "queued", "END " + fmt.Sprintf(fakeQueued, pos, (pos+f.MaxJourneys-1)/f.MaxJourneys)
	default:
		return "busy", "END " + FakeBusyScreen
	}
	f.inJourney[msisdn] = true
	return "", ""
}

// invite invites the first callers in the queue while there is room,
// posting the invitations in queue order.
func (f *FakeGateway) invite() {
	f.inviting.Lock()
	defer f.inviting.Unlock()
	f.mu.Lock()
	var next []string
	for len(f.waiting) > 0 && len(f.inJourney)+len(f.invited) < f.MaxJourneys {
		m := f.waiting[0]
		f.waiting = f.waiting[1:]
		f.invited[m] = true
		next = append(next, m)
	}
	f.mu.Unlock()
	if f.NoSMS {
		return
	}
	for _, m := range next {
		f.send(m, FakeInvitation, KindInvite)
	}
}

func orElse(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// send posts one SMS of a kind to the sink, signed.
func (f *FakeGateway) send(to, text, kind string) {
	n, err := dialog.NormaliseMsisdn(to)
	if err != nil {
		return
	}
	p := sms{To: n, Text: text, Ref: rand.Text(), Kind: kind, Lang: "en"}
	if f.PlainSMS {
		p.Kind, p.Lang = "", ""
	}
	body, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.SinkURL, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(smshttp.SignatureHeader, smshttp.Sign(f.SinkSecret, body))
	if resp, err := f.client.Do(req); err == nil {
		resp.Body.Close()
	}
}

// walk replays the inputs from the dial and returns the state reached, the
// answer, and an SMS to send, and its kind, when the last input caused one.
func (f *FakeGateway) walk(req FakeRequest) (state, answer, kind, sms string) {
	state = "lang"
	var people []string
	var name, year, hint string
	pin := ""
	for i, in := range req.Inputs {
		last := i == len(req.Inputs)-1
		hint = ""
		next := ""
		switch state {
		case "lang":
			next = pick(in, map[string]string{"1": "number"})
		case "number":
			if next = pick(in, map[string]string{"1": "otp"}); next == "otp" && last {
				code := fmt.Sprintf("%06d", mrand.IntN(1_000_000))
				f.mu.Lock()
				f.codes[req.Session] = code
				f.mu.Unlock()
				kind, sms = KindOTP, "TikaSetu code: "+code+". Valid 3 minutes. Do not share it with anyone."
			}
		case "otp":
			f.mu.Lock()
			code := f.codes[req.Session]
			f.mu.Unlock()
			if in == code && code != "" {
				next = "home"
			} else {
				hint = "Wrong code. 2 tries left.\n"
			}
		case "home":
			next = pick(in, map[string]string{"1": "idtype", "2": "who"})
			if next == "who" && len(people) == 0 {
				next, hint = "", "Nobody registered yet. Choose 1 to add a person.\n"
			}
		case "idtype":
			next = pick(in, map[string]string{"1": "idnum", "0": "home"})
		case "idnum":
			if len(in) == 12 && in[0] >= '2' && in[11] == dialog.VerhoeffDigit(in[:11]) {
				next = "name"
			} else {
				hint = "That is not a valid Aadhaar number. Check it and try again.\n"
			}
		case "name":
			name, next = in, "year"
		case "year":
			year, next = in, "gender"
		case "gender":
			next = pick(in, map[string]string{"1": "pconfirm", "2": "pconfirm", "3": "pconfirm"})
		case "pconfirm":
			if next = pick(in, map[string]string{"1": "home", "2": "idtype"}); next == "home" {
				people = append(people, name)
				hint = "Registered " + name + ". Ref R" + fmt.Sprint(len(people)) + "\n"
			}
		case "who":
			opts := map[string]string{"0": "home"}
			for k := range people {
				opts[fmt.Sprint(k+1)] = "pin"
			}
			if len(people) > 1 {
				opts[fmt.Sprint(len(people)+1)] = "pin"
			}
			next = pick(in, opts)
		case "pin":
			if len(in) == 6 {
				pin, next = in, "centre"
			} else {
				hint = "Enter a 6-digit PIN code.\n"
			}
		case "centre":
			next = pick(in, map[string]string{"1": "date", "0": "pin"})
		case "date":
			next = pick(in, map[string]string{"1": "slot", "0": "centre"})
		case "slot":
			next = pick(in, map[string]string{"1": "confirm", "0": "date"})
		case "confirm":
			if next = pick(in, map[string]string{"1": "booked", "2": "slot"}); next == "booked" && last {
				kind, sms = "slip", "TikaSetu slip: "+people[0]+", appointment A1, security code 1234. Bring this SMS and your photo ID."
			}
		case "booked":
			return "booked", "END Session over.", "", ""
		}
		if next == "" && hint == "" {
			hint = "Please choose a number from the list.\n"
		}
		if next != "" {
			state = next
		}
	}
	var s string
	switch state {
	case "lang":
		s = "CON TikaSetu. Language:\n1 English\n2 हिन्दी\n3 বাংলা\n4 मराठी\n5 తెలుగు\n6 தமிழ்\n98 More"
	case "number":
		s = "CON COVID vaccine registration\n1 Register with " + dialog.MaskMsisdn(strings.TrimPrefix(req.Msisdn, "+91")) + "\n2 Use another number"
	case "otp":
		s = "CON " + hint + "Enter the 6-digit code sent by SMS to " + dialog.MaskMsisdn(req.Msisdn) + "\n0 Send a new code"
	case "home":
		s = fmt.Sprintf("CON %sTikaSetu: %d/4 people registered\n1 Add person\n2 Book or change\n3 My appointments\n5 Language\n0 Exit", hint, len(people))
	case "idtype":
		s = "CON Photo ID of the person:\n1 Aadhaar\n2 PAN card\n3 Driving licence\n4 Voter ID\n5 Passport\n0 Back"
	case "idnum":
		s = "CON " + hint + "Enter Aadhaar number (12 digits)\n0 Back"
	case "name":
		s = "CON Name as on the ID:\n0 Back"
	case "year":
		s = "CON Year of birth (like 1985):\n0 Back"
	case "gender":
		s = "CON Gender:\n1 Male\n2 Female\n3 Other\n0 Back"
	case "pconfirm":
		s = "CON Register this person?\n" + name + ", " + year + "\n1 Confirm\n2 Start again"
	case "who":
		s = "CON Book for:"
		for k, p := range people {
			s += fmt.Sprintf("\n%d %s", k+1, p)
		}
		if len(people) > 1 {
			s += fmt.Sprintf("\n%d All", len(people)+1)
		}
		s += "\n0 Back"
	case "pin":
		s = "CON " + hint + "Enter the 6-digit PIN code of the area:\n0 Back"
	case "centre":
		s = "CON Centres at " + pin + ":\n1 Loadgen Centre 1 Free\n0 Back"
	case "date":
		s = "CON Loadgen Centre 1\nChoose a date:\n1 Mon 3 May\n0 Back"
	case "slot":
		s = "CON Mon 3 May time:\n1 09:00AM-11:00AM\n0 Back"
	case "confirm":
		s = "CON Book this appointment?\n" + strings.Join(people, ", ") + "\nMon 3 May 09:00AM-11:00AM, Free\n1 Confirm\n2 Back"
	case "booked":
		s = "END Booked! Slip sent by SMS. Show it and the photo ID.\n" + people[0] + ": ID A1 code 1234"
	}
	if hint != "" && !strings.Contains(s, hint) {
		s = strings.Replace(s, "CON ", "CON "+hint, 1)
	}
	return state, s, kind, sms
}

func pick(in string, next map[string]string) string { return next[in] }
