package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// USSDPath is the gateway's Africa's Talking route.
const USSDPath = "/ussd/africastalking"

// RealJourneyHops is the number of requests of a journey registering one
// person: dial, language, number, OTP (4), add a person (7), book (7).
const RealJourneyHops = 18

// maxAnswerBytes bounds a USSD answer read; a screen is under 1 KiB.
const maxAnswerBytes = 64 << 10

// Outcome is how one journey ended and where.
type Outcome struct {
	Kind   Kind
	Step   string // the step at which it ended, e.g. "otp", "confirm"
	Reason string // short and of few values, for counting: "status 503", "unexpected screen"
	Detail string // the screen or error behind Reason
	OTP    bool   // a timeout waiting for the OTP SMS rather than for an answer
	Hops   int    // requests answered
}

func (o Outcome) Error() string {
	s := o.Kind.String() + " at " + o.Step
	if o.Reason != "" {
		s += ": " + o.Reason
	}
	if o.Detail != "" {
		s += ": " + strconv.Quote(o.Detail)
	}
	return s
}

// target is what journeys need to reach and check the gateway; shared by all
// journeys of a run.
type target struct {
	client      *http.Client
	ussdURL     string // base URL + USSDPath
	serviceCode string
	timeout     time.Duration // per request, and for the OTP SMS to arrive
	think       time.Duration // mean pause before every request after the first
	busy        []string      // lower-cased markers of the busy screen
	queued      []string      // lower-cased markers of the queued screen (a place in the surge queue)
	retry       *Retry        // nil: a caller turned away at the dial does not try again
	pin         string
	sink        *Sink // nil in floor mode
	ids         *identities
	stats       *stats
}

// journey is one simulated caller's USSD session.
type journey struct {
	t       *target
	rng     *rand.Rand
	msisdn  string // E.164, as the aggregator sends it and the gateway's SMS addresses it
	session string
	inputs  []string
	dialled bool
	hops    int
	people  int   // people to register; 0: 1 or 2 at random
	away    *away // set once turned away at the dial (with retries)
}

func (t *target) newJourney(session string, rng *rand.Rand) *journey {
	return &journey{t: t, rng: rng, msisdn: "+91" + t.ids.Msisdn(), session: session}
}

func (j *journey) end(k Kind, step, reason, detail string) *Outcome {
	return &Outcome{Kind: k, Step: step, Reason: reason, Detail: detail, Hops: j.hops}
}

// thinkTime draws one pause of a caller reading and typing: uniform between
// half and one and a half times mean, so that callers who were held up
// together do not all come back at the same instant.
func thinkTime(rng *rand.Rand, mean time.Duration) time.Duration {
	return mean/2 + time.Duration(rng.Int64N(int64(mean)+1))
}

// send makes one request: input appended to the session's inputs (nothing
// on the dial). It returns the screen and whether it was END, or the
// journey's Outcome when this answer ends it otherwise: no answer in time
// (timeout), not 200 or not "CON …"/"END …" (error), the busy screen (shed).
func (j *journey) send(ctx context.Context, step, input string) (string, bool, *Outcome) {
	if j.dialled {
		j.inputs = append(j.inputs, input)
		if j.t.think > 0 {
			select {
			case <-ctx.Done():
				return "", false, j.end(Abandoned, step, "", "")
			case <-time.After(thinkTime(j.rng, j.t.think)):
			}
		}
	}
	j.dialled = true
	form := url.Values{
		"sessionId": {j.session}, "serviceCode": {j.t.serviceCode}, "phoneNumber": {j.msisdn},
		"networkCode": {"99999"}, "text": {strings.Join(j.inputs, "*")},
	}
	hctx, cancel := context.WithTimeout(ctx, j.t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodPost, j.t.ussdURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", false, j.end(Errored, step, "request", err.Error())
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	start := time.Now()
	resp, err := j.t.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		resp.Body.Close()
	}
	took := time.Since(start)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return "", false, j.end(Abandoned, step, "", "")
	case hctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return "", false, j.end(TimedOut, step, "no answer within "+j.t.timeout.String(), "")
	default:
		return "", false, j.end(Errored, step, transportReason(err), err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, j.end(Errored, step, "status "+strconv.Itoa(resp.StatusCode), clip(string(body)))
	}
	s := string(body)
	var end bool
	switch {
	case strings.HasPrefix(s, "CON "):
		s = s[4:]
	case strings.HasPrefix(s, "END "):
		s, end = s[4:], true
	default:
		return "", false, j.end(Errored, step, "not a CON/END answer", clip(s))
	}
	j.hops++
	j.t.stats.hop(took)
	if end && (j.t.isBusy(s) || j.t.isQueued(s)) {
		return s, true, j.end(Shed, step, "busy screen", s)
	}
	return s, end, nil
}

// step sends input and checks that the answer continues the session (CON)
// with a screen showing every want.
func (j *journey) step(ctx context.Context, step, input string, want ...string) (string, *Outcome) {
	s, end, o := j.send(ctx, step, input)
	if o != nil {
		return s, o
	}
	if end {
		return s, j.end(Errored, step, "unexpected END", clip(s))
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			return s, j.end(Errored, step, "unexpected screen (want "+strconv.Quote(w)+")", clip(s))
		}
	}
	return s, nil
}

// isBusy reports whether an END screen is the busy screen: one of the
// markers appears in it as a word of its own. A marker inside a word does
// not count: appointment ids on the "Booked!" screen are random letters and
// digits, and one in about ten thousand contains "BUSY".
func (t *target) isBusy(screen string) bool {
	low := strings.ToLower(screen)
	for _, m := range t.busy {
		if m != "" && containsWord(low, m) {
			return true
		}
	}
	return false
}

// containsWord reports whether w occurs in s with neither a letter nor a
// digit just before or just after it.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !wordRune(before) && !wordRune(after) {
			return true
		}
		i = start + 1
	}
}

func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

var (
	homeCount = regexp.MustCompile(`(\d+)/(\d+) people registered`)
	glance    = regexp.MustCompile(`(?m)^[^\n:]+: (booked|not booked)`)
)

// run walks a whole registration and booking: dial, language 1, "1 Register
// with" own number, the OTP from the sink, then people (1 or 2, half each)
// with an Aadhaar number, and a booking for them at the first centre, date
// and slot of the PIN code. A number that the store already knows (from an
// earlier run) is handled: no language screen, "Welcome back", people already
// registered.
func (j *journey) run(ctx context.Context) Outcome {
	o := j.walk(ctx)
	o.Hops = j.hops
	return o
}

func (j *journey) walk(ctx context.Context) Outcome {
	s, o := j.dial(ctx)
	if o != nil {
		return *o
	}
	if strings.Contains(s, "Welcome back") {
		if s, o = j.step(ctx, "resume", "2"); o != nil {
			return *o
		}
	}
	switch {
	case strings.Contains(s, "1 English"):
		if _, o = j.step(ctx, "language", "1", "Register with"); o != nil {
			return *o
		}
	case strings.Contains(s, "Register with"):
	default:
		return *j.end(Errored, "dial", "unexpected screen (want the language or number menu)", clip(s))
	}

	codes := j.t.sink.Expect(j.msisdn)
	defer j.t.sink.Forget(j.msisdn, codes)
	if _, o = j.step(ctx, "number", "1", "Enter the 6-digit code"); o != nil {
		return *o
	}
	var code string
	timer := time.NewTimer(j.t.timeout)
	select {
	case code = <-codes:
		timer.Stop()
		j.t.sink.Forget(j.msisdn, codes) // a repeated post of the code is not ours now
	case <-timer.C:
		o := j.end(TimedOut, "otp", "no OTP SMS within "+j.t.timeout.String(), "")
		o.OTP = true
		return *o
	case <-ctx.Done():
		timer.Stop()
		return *j.end(Abandoned, "otp", "", "")
	}
	if s, o = j.step(ctx, "otp", code, "0 Exit"); o != nil { // Home
		return *o
	}

	// Home counts the people ("2/4 people registered") or lists them at a
	// glance ("Sita: not booked"); with the household full it offers no
	// "1 Add person".
	have, room := len(glance.FindAllString(s, -1)), 4
	room -= have
	if m := homeCount.FindStringSubmatch(s); m != nil {
		have, _ = strconv.Atoi(m[1])
		most, _ := strconv.Atoi(m[2])
		room = most - have
	}
	if !strings.Contains(s, "1 Add person") {
		room = 0
	}
	add := j.people
	if add <= 0 {
		add = 1 + j.rng.IntN(2) // 1 or 2, half each
	}
	add = min(add, room)
	first := j.rng.IntN(len(names))
	for i := range add {
		if o = j.addPerson(ctx, names[(first+i)%len(names)]); o != nil {
			return *o
		}
	}

	if s, o = j.step(ctx, "book", "2", "Book for:"); o != nil {
		return *o
	}
	who := "1"
	if have+add > 1 {
		if who = optionNumber(s, "All"); who == "" {
			return *j.end(Errored, "book", "unexpected screen (no All option)", clip(s))
		}
	}
	steps := []struct{ name, input, want string }{
		{"who", who, "PIN code"},
		{"pin", j.t.pin, "Centres at"},
		{"centre", "1", "Choose a date"},
		{"date", "1", "time:"},
		{"slot", "1", "2 Back"}, // the confirmation
	}
	for _, st := range steps {
		if _, o = j.step(ctx, st.name, st.input, st.want); o != nil {
			return *o
		}
	}
	// With three or four people (a number that came back) the last words
	// take more than one page (CON … 98 More): the caller hangs up there.
	s, _, op := j.send(ctx, "confirm", "1")
	switch {
	case op != nil:
		return *op
	case !strings.Contains(s, "Booked!"):
		return *j.end(Errored, "confirm", "unexpected screen (want Booked!)", clip(s))
	}
	return Outcome{Kind: Completed, Step: "confirm"}
}

// addPerson registers one person from Home.
func (j *journey) addPerson(ctx context.Context, name string) *Outcome {
	year := strconv.Itoa(1960 + j.rng.IntN(31))
	gender := strconv.Itoa(1 + j.rng.IntN(3))
	steps := []struct{ name, input, want string }{
		{"add", "1", "1 Aadhaar"},
		{"id-type", "1", "Aadhaar number"},
		{"id-number", j.t.ids.Aadhaar(), "Name as on the ID"},
		{"name", name, "Year of birth"},
		{"year", year, "1 Male"},
		{"gender", gender, "Register this person?"},
		{"person-confirm", "1", "0 Exit"}, // Home
	}
	for _, st := range steps {
		if _, o := j.step(ctx, st.name, st.input, st.want); o != nil {
			return o
		}
	}
	return nil
}

// floor sends hops requests of no meaning to a floor handler: the cost of
// a journey's HTTP and session traffic without the conversation.
func (j *journey) floor(ctx context.Context, hops int) Outcome {
	for i := range hops {
		input := ""
		if i > 0 {
			input = "1"
		}
		s, end, o := j.send(ctx, "floor", input)
		if o != nil {
			o.Hops = j.hops
			return *o
		}
		if end {
			return Outcome{Kind: Errored, Step: "floor", Reason: "unexpected END", Detail: clip(s), Hops: j.hops}
		}
	}
	return Outcome{Kind: Completed, Step: "floor", Hops: j.hops}
}

var optionLine = regexp.MustCompile(`^(\d+) (.*)$`)

// optionNumber returns the number of the option whose label contains label.
func optionNumber(screen, label string) string {
	for _, line := range strings.Split(screen, "\n") {
		if m := optionLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil && strings.Contains(m[2], label) {
			return m[1]
		}
	}
	return ""
}

// transportReason names a failed request in few words, for counting.
func transportReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port free"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "network: " + op.Op
	}
	return "transport"
}

// clip shortens a screen or body for a report.
func clip(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// String describes the outcome briefly.
func (o Outcome) String() string { return fmt.Sprintf("%s (%d hops)", o.Error(), o.Hops) }
