package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// The loadgen package's journey driver is not exported (and walks one fixed
// journey); the scenarios need to stop a journey at a chosen screen, resume
// it later and read each screen, so this file drives the Africa's Talking
// route itself, with loadgen's HTTP client and the same screen markers.

// serviceCode is the USSD code the callers dial.
const serviceCode = "*123*45#"

// requestTimeout is the USSD deadline: an answer later than this is none.
const requestTimeout = 2 * time.Second

// Screen is one answer of the USSD route.
type Screen struct {
	Text    string // without "CON "/"END "
	End     bool
	Latency time.Duration
}

// busy reports whether s is the busy screen ("TikaSetu is very busy…").
func (s Screen) busy() bool { return s.End && strings.Contains(strings.ToLower(s.Text), "busy") }

// errStatus is an answer other than 200.
type errStatus struct {
	Code int
	Body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("status %d: %s", e.Code, e.Body) }

// parseAnswer reads an answer of the Africa's Talking route.
func parseAnswer(status int, body string) (Screen, error) {
	if status != http.StatusOK {
		return Screen{}, &errStatus{Code: status, Body: clip(strings.TrimSpace(body), 120)}
	}
	switch {
	case strings.HasPrefix(body, "CON "):
		return Screen{Text: body[4:]}, nil
	case strings.HasPrefix(body, "END "):
		return Screen{Text: body[4:], End: true}, nil
	}
	return Screen{}, fmt.Errorf("not a CON/END answer: %q", clip(body, 120))
}

// Caller is one phone's USSD session on the Africa's Talking route: text is
// the whole '*'-joined input history of the session.
type Caller struct {
	Msisdn string // E.164
	client *http.Client
	url    string
	sessID string
	inputs []string
	dialed bool
}

// newCaller returns a caller with a new session on gateway base URL.
func newCaller(client *http.Client, base, msisdn, session string) *Caller {
	return &Caller{Msisdn: msisdn, client: client, url: strings.TrimRight(base, "/") + loadgen.USSDPath, sessID: session}
}

// Redial starts a new session for the same phone.
func (c *Caller) Redial(session string) {
	c.sessID, c.inputs, c.dialed = session, nil, false
}

// form is the request of the session's next turn.
func (c *Caller) form(input string) url.Values {
	inputs := c.inputs
	if c.dialed {
		inputs = append(inputs[:len(inputs):len(inputs)], input)
	}
	return url.Values{
		"sessionId": {c.sessID}, "serviceCode": {serviceCode}, "phoneNumber": {c.Msisdn},
		"networkCode": {"99999"}, "text": {strings.Join(inputs, "*")},
	}
}

// Send makes one turn: the dial when the session has none yet (input is
// then ignored), else input. A turn that got no 200 answer is not added to
// the history.
func (c *Caller) Send(ctx context.Context, input string) (Screen, error) {
	status, body, took, err := post(ctx, c.client, c.url, c.form(input))
	if err != nil {
		return Screen{Latency: took}, err
	}
	s, err := parseAnswer(status, body)
	s.Latency = took
	if err != nil {
		return s, err
	}
	if c.dialed {
		c.inputs = append(c.inputs, input)
	}
	c.dialed = true
	return s, nil
}

// post sends a USSD form within requestTimeout.
func post(ctx context.Context, client *http.Client, u string, form url.Values) (int, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", 0, fmt.Errorf("ussd request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", time.Since(start), fmt.Errorf("ussd request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	took := time.Since(start)
	if err != nil {
		return resp.StatusCode, "", took, fmt.Errorf("ussd answer: %w", err)
	}
	return resp.StatusCode, string(body), took, nil
}

// StepError is a journey that did not get the screen it expected.
type StepError struct {
	Step   string
	Screen string
	Err    error
}

func (e *StepError) Error() string {
	if e.Err != nil {
		return e.Step + ": " + e.Err.Error()
	}
	return e.Step + ": unexpected screen " + strconv.Quote(clip(e.Screen, 120))
}

func (e *StepError) Unwrap() error { return e.Err }

// errBusy is the busy screen where a journey expected another.
var errBusy = errors.New("busy screen")

// step sends input and checks that the answer continues the session and
// shows want.
func (c *Caller) step(ctx context.Context, name, input, want string) (Screen, error) {
	s, err := c.Send(ctx, input)
	switch {
	case err != nil:
		return s, &StepError{Step: name, Err: err}
	case s.busy():
		return s, &StepError{Step: name, Screen: s.Text, Err: errBusy}
	case s.End || !strings.Contains(s.Text, want):
		return s, &StepError{Step: name, Screen: s.Text}
	}
	return s, nil
}

// maxMenuSteps bounds the turns spent getting to the number menu.
const maxMenuSteps = 4

// ToNumberMenu dials and walks to the "Register with … / Use another
// number" menu: language 1 on a first call, "Start again" on a caller who
// is remembered mid-journey.
func (c *Caller) ToNumberMenu(ctx context.Context) (Screen, error) {
	s, err := c.Send(ctx, "")
	for i := 0; ; i++ {
		switch {
		case err != nil:
			return s, &StepError{Step: "dial", Err: err}
		case s.busy():
			return s, &StepError{Step: "dial", Screen: s.Text, Err: errBusy}
		case s.End:
			return s, &StepError{Step: "dial", Screen: s.Text}
		case strings.Contains(s.Text, "Use another number"):
			return s, nil
		case i >= maxMenuSteps:
			return s, &StepError{Step: "dial", Screen: s.Text}
		case strings.Contains(s.Text, "Welcome back"):
			s, err = c.Send(ctx, "2")
		case strings.Contains(s.Text, "1 English"):
			s, err = c.Send(ctx, "1")
		default:
			return s, &StepError{Step: "dial", Screen: s.Text}
		}
	}
}

// codeTimeout bounds the wait for an OTP SMS at the sink.
const codeTimeout = 10 * time.Second

// Login verifies the caller's own number with the code from sink, and
// returns Home.
func (c *Caller) Login(ctx context.Context, sink *Sink) (Screen, error) {
	if s, err := c.ToNumberMenu(ctx); err != nil {
		return s, err
	}
	if s, err := c.step(ctx, "own number", "1", "Enter the 6-digit code"); err != nil {
		return s, err
	}
	code, err := sink.Code(ctx, c.Msisdn, 0, codeTimeout)
	if err != nil {
		return Screen{}, &StepError{Step: "otp sms", Err: err}
	}
	return c.step(ctx, "otp", code, "0 Exit") // Home
}

// AddPerson registers one person with an Aadhaar number, from Home.
func (c *Caller) AddPerson(ctx context.Context, aadhaar, name string) error {
	steps := []struct{ name, input, want string }{
		{"add", "1", "1 Aadhaar"},
		{"id type", "1", "Aadhaar number"},
		{"id number", aadhaar, "Name as on the ID"},
		{"name", name, "Year of birth"},
		{"year", "1980", "1 Male"},
		{"gender", "1", "Register this person?"},
		{"person confirm", "1", "0 Exit"}, // Home
	}
	for _, st := range steps {
		if _, err := c.step(ctx, st.name, st.input, st.want); err != nil {
			return err
		}
	}
	return nil
}

// ToConfirm walks from Home (one person registered) to "Book this
// appointment?" at the first centre, date and slot of pin.
func (c *Caller) ToConfirm(ctx context.Context, pin string) error {
	steps := []struct{ name, input, want string }{
		{"book", "2", "Book for:"},
		{"who", "1", "PIN code"},
		{"pin", pin, "Centres at"},
		{"centre", "1", "Choose a date"},
		{"date", "1", "time:"},
		{"slot", "1", "2 Back"}, // the confirmation
	}
	for _, st := range steps {
		if _, err := c.step(ctx, st.name, st.input, st.want); err != nil {
			return err
		}
	}
	return nil
}

// Confirm answers "1 Confirm" on the confirmation screen and checks for
// "Booked!".
func (c *Caller) Confirm(ctx context.Context) (Screen, error) {
	s, err := c.Send(ctx, "1")
	switch {
	case err != nil:
		return s, &StepError{Step: "confirm", Err: err}
	case !strings.Contains(s.Text, "Booked!"):
		return s, &StepError{Step: "confirm", Screen: s.Text}
	}
	return s, nil
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
