package cowin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
)

// dateLayout is Co-WIN's session date format, DD-MM-YYYY.
const dateLayout = "02-01-2006"

// FormatError is a reason why a calendar file cannot be imported. Parse and
// ParseFile wrap it; errors.As finds it, so that a caller can tell bad input
// (a 4xx at the admin route) from an I/O failure.
type FormatError struct {
	// Where locates the fault, e.g. `centers[3] (center_id 660836) sessions[1] date`;
	// empty when it concerns the whole document.
	Where string
	// Reason says what is wrong.
	Reason string
}

func (e *FormatError) Error() string {
	if e.Where == "" {
		return e.Reason
	}
	return e.Where + ": " + e.Reason
}

// Parse reads one Co-WIN calendar response ({"centers":[…]}) and returns its
// centres with their sessions, in file order.
//
// Rules:
//   - centers must be present and an array (empty or null: no centres). Each
//     centre needs center_id (a positive integer), a non-empty name and a
//     6-digit pincode (a number or a string); center_id may not repeat.
//   - each session needs session_id and date (DD-MM-YYYY, read as midnight dialog.IST).
//     A session_id repeated for another date (18-rajasthan-kota.json does this)
//     is made unique by appending "@YYYY-MM-DD" of the repeat's date; a repeat
//     for the same date is an error.
//   - capacity: available_capacity_dose1/_dose2 when present (they win over
//     available_capacity when the figures disagree); when both are absent all of
//     available_capacity goes to dose 1; when one is absent it gets what is left
//     of available_capacity. No capacity may be negative.
//   - fee_type is "Free" or "Paid" in any case; when absent it is Paid if
//     vaccine_fees holds a non-zero fee, else Free. vaccine_fees[].fee may be a
//     number or a string ("780"); an empty or null fee is left out (unknown).
//   - vaccine names are trimmed and upper-cased; slots may be strings or
//     {"time": …} objects; unknown fields are ignored.
//   - text and lists are bounded (maxName and the other max constants): a
//     centre name of more than 200 characters, say, or more than 100
//     sessions to a centre, refuses the whole calendar, naming the centre
//     and the field.
//
// Parse reads all of r; a caller reading from the network should bound it
// (http.MaxBytesReader). Errors are "cowin: " and a *FormatError, or the
// reader's error.
func Parse(r io.Reader) ([]dialog.Centre, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cowin: read: %w", err)
	}
	centres, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("cowin: %w", err)
	}
	return centres, nil
}

// ParseFile parses the calendar file at path. Errors read
// "cowin: PATH: reason".
func ParseFile(path string) ([]dialog.Centre, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cowin: %s: %w", path, err)
	}
	centres, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("cowin: %s: %w", path, err)
	}
	return centres, nil
}

// Bounds on a calendar's free text, in characters, and on its lists. A
// centre's text reaches the screens that name it, so a calendar with a
// value past a bound is refused whole. The 2021 responses in
// testdata stay far below them: at most a 30-character name, an
// 80-character address, 30 for a block, 36 for a session id, 15 for a
// slot; 8 sessions to a centre, 4 slots to a session, 2 fees.
const (
	maxName      = 200
	maxAddress   = 500
	maxPlace     = 100 // state, district and block names
	maxTime      = 32  // from, to
	maxFeeType   = 16
	maxVaccine   = 50
	maxSessionID = 100
	maxDate      = 32
	maxSlot      = 50
	maxFees      = 20  // vaccine_fees of a centre
	maxSessions  = 100 // sessions of a centre
	maxSlots     = 50  // slots of a session
)

// wireCentre and wireSession hold the raw values of the fields we read, so
// that each can be checked and converted with its name in the error.
type wireCentre struct {
	CenterID    json.RawMessage `json:"center_id"`
	Name        json.RawMessage `json:"name"`
	Address     json.RawMessage `json:"address"`
	State       json.RawMessage `json:"state_name"`
	District    json.RawMessage `json:"district_name"`
	Block       json.RawMessage `json:"block_name"`
	Pincode     json.RawMessage `json:"pincode"`
	From        json.RawMessage `json:"from"`
	To          json.RawMessage `json:"to"`
	FeeType     json.RawMessage `json:"fee_type"`
	VaccineFees json.RawMessage `json:"vaccine_fees"`
	Sessions    json.RawMessage `json:"sessions"`
}

type wireSession struct {
	SessionID json.RawMessage `json:"session_id"`
	Date      json.RawMessage `json:"date"`
	Capacity  json.RawMessage `json:"available_capacity"`
	Dose1     json.RawMessage `json:"available_capacity_dose1"`
	Dose2     json.RawMessage `json:"available_capacity_dose2"`
	MinAge    json.RawMessage `json:"min_age_limit"`
	MaxAge    json.RawMessage `json:"max_age_limit"`
	AllowAll  json.RawMessage `json:"allow_all_age"`
	Vaccine   json.RawMessage `json:"vaccine"`
	Slots     json.RawMessage `json:"slots"`
}

type wireFee struct {
	Vaccine json.RawMessage `json:"vaccine"`
	Fee     json.RawMessage `json:"fee"`
}

// seenSession records where a session_id was first used.
type seenSession struct {
	where string
	date  time.Time
}

func parse(data []byte) ([]dialog.Centre, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FormatError{Reason: "empty input, want Co-WIN calendar JSON {\"centers\":[…]}"}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &FormatError{Reason: fmt.Sprintf("not valid JSON (byte %d): %v", se.Offset, se)}
		case errors.As(err, &te):
			return nil, &FormatError{Reason: fmt.Sprintf("top level is a JSON %s, want an object {\"centers\":[…]}", te.Value)}
		default:
			return nil, &FormatError{Reason: "not valid JSON: " + err.Error()}
		}
	}
	if top == nil {
		return nil, &FormatError{Reason: "top level is null, want an object {\"centers\":[…]}"}
	}
	rawCentres, ok := top["centers"]
	if !ok {
		reason := `no "centers" key, want a calendarByPin/calendarByDistrict response {"centers":[…]}`
		if _, hasSessions := top["sessions"]; hasSessions {
			reason += ` (this looks like a findByPin {"sessions":[…]} response, which is not supported)`
		}
		return nil, &FormatError{Reason: reason}
	}
	list, err := array(rawCentres)
	if err != nil {
		return nil, &FormatError{Where: "centers", Reason: err.Error()}
	}

	centres := make([]dialog.Centre, 0, len(list))
	centreAt := make(map[int64]int, len(list))
	sessionAt := make(map[string]seenSession)
	for i, raw := range list {
		c, err := parseCentre(i, raw, sessionAt)
		if err != nil {
			return nil, err
		}
		if j, dup := centreAt[c.ID]; dup {
			return nil, &FormatError{
				Where:  fmt.Sprintf("centers[%d]", i),
				Reason: fmt.Sprintf("center_id %d repeats centers[%d]", c.ID, j),
			}
		}
		centreAt[c.ID] = i
		centres = append(centres, c)
	}
	return centres, nil
}

func parseCentre(i int, raw json.RawMessage, sessionAt map[string]seenSession) (dialog.Centre, error) {
	where := fmt.Sprintf("centers[%d]", i)
	fail := func(field, format string, args ...any) (dialog.Centre, error) {
		w := where
		if field != "" {
			w += " " + field
		}
		return dialog.Centre{}, &FormatError{Where: w, Reason: fmt.Sprintf(format, args...)}
	}
	if kind(raw) != '{' {
		return fail("", "want an object, got %s", describe(raw))
	}
	var w wireCentre
	if err := json.Unmarshal(raw, &w); err != nil {
		return fail("", "%v", err)
	}

	id, ok, err := integer(w.CenterID)
	switch {
	case err != nil:
		return fail("center_id", "%v", err)
	case !ok:
		return fail("", "no center_id")
	case id <= 0:
		return fail("center_id", "want a positive integer, got %d", id)
	}
	where = fmt.Sprintf("centers[%d] (center_id %d)", i, id)

	c := dialog.Centre{ID: id}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
		max  int
	}{
		{"name", w.Name, &c.Name, maxName},
		{"address", w.Address, &c.Address, maxAddress},
		{"state_name", w.State, &c.State, maxPlace},
		{"district_name", w.District, &c.District, maxPlace},
		{"block_name", w.Block, &c.Block, maxPlace},
		{"from", w.From, &c.From, maxTime},
		{"to", w.To, &c.To, maxTime},
	} {
		s, err := boundedText(f.raw, f.max)
		if err != nil {
			return fail(f.name, "%v", err)
		}
		*f.dst = s
	}
	if c.Name == "" {
		return fail("", "no name")
	}

	pin, err := pincode(w.Pincode)
	if err != nil {
		return fail("pincode", "%v", err)
	}
	if pin == "" {
		return fail("", "no pincode")
	}
	c.Pincode = pin

	fees, err := parseFees(w.VaccineFees)
	if err != nil {
		return fail("vaccine_fees"+subPath(err), "%v", subReason(err))
	}
	c.Fees = fees

	ft, err := boundedText(w.FeeType, maxFeeType)
	if err != nil {
		return fail("fee_type", "%v", err)
	}
	switch strings.ToLower(ft) {
	case "free":
		c.FeeType = dialog.Free
	case "paid":
		c.FeeType = dialog.Paid
	case "":
		c.FeeType = dialog.Free
		for _, f := range fees {
			if f.Rupees > 0 {
				c.FeeType = dialog.Paid
			}
		}
	default:
		return fail("fee_type", "want \"Free\" or \"Paid\", got %q", ft)
	}

	sessions, err := array(w.Sessions)
	if err != nil {
		return fail("sessions", "%v", err)
	}
	if len(sessions) > maxSessions {
		return fail("sessions", "%d sessions, at most %d", len(sessions), maxSessions)
	}
	c.Sessions = make([]dialog.Session, 0, len(sessions))
	for j, rs := range sessions {
		s, err := parseSession(fmt.Sprintf("%s sessions[%d]", where, j), rs, sessionAt)
		if err != nil {
			return dialog.Centre{}, err
		}
		s.CentreID = id
		c.Sessions = append(c.Sessions, s)
	}
	return c, nil
}

func parseSession(where string, raw json.RawMessage, sessionAt map[string]seenSession) (dialog.Session, error) {
	fail := func(field, format string, args ...any) (dialog.Session, error) {
		w := where
		if field != "" {
			w += " " + field
		}
		return dialog.Session{}, &FormatError{Where: w, Reason: fmt.Sprintf(format, args...)}
	}
	if kind(raw) != '{' {
		return fail("", "want an object, got %s", describe(raw))
	}
	var w wireSession
	if err := json.Unmarshal(raw, &w); err != nil {
		return fail("", "%v", err)
	}
	var s dialog.Session

	id, err := boundedText(w.SessionID, maxSessionID)
	if err != nil {
		return fail("session_id", "%v", err)
	}
	if id == "" {
		return fail("", "no session_id")
	}
	// The id becomes a Redis hash tag ({<session_id>}) and part of keys.
	if strings.ContainsAny(id, "{} \t\r\n") {
		return fail("session_id", "%q holds a brace or white space", id)
	}

	ds, err := boundedText(w.Date, maxDate)
	if err != nil {
		return fail("date", "%v", err)
	}
	if ds == "" {
		return fail("", "no date")
	}
	date, err := time.ParseInLocation(dateLayout, ds, dialog.IST)
	if err != nil {
		return fail("date", "want a DD-MM-YYYY date, got %q", ds)
	}
	s.Date = date

	// A repeated id: keep the first, make later ones unique by their date.
	if first, dup := sessionAt[id]; dup {
		if first.date.Equal(date) {
			return fail("session_id", "%q repeats %s for the same date %s", id, first.where, ds)
		}
		unique := id + "@" + date.Format(time.DateOnly)
		if again, dup := sessionAt[unique]; dup {
			return fail("session_id", "%q repeats %s", id, again.where)
		}
		id = unique
	}
	sessionAt[id] = seenSession{where: where, date: date}
	s.ID = id

	var caps [3]int64
	var has [3]bool
	for k, f := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"available_capacity", w.Capacity},
		{"available_capacity_dose1", w.Dose1},
		{"available_capacity_dose2", w.Dose2},
	} {
		v, ok, err := integer(f.raw)
		if err != nil {
			return fail(f.name, "%v", err)
		}
		if v < 0 {
			return fail(f.name, "negative capacity %d", v)
		}
		if v > math.MaxInt32 {
			return fail(f.name, "capacity %d is out of range", v)
		}
		caps[k], has[k] = v, ok
	}
	total, d1, d2 := int(caps[0]), int(caps[1]), int(caps[2])
	switch {
	case !has[1] && !has[2]:
		d1 = total
	case !has[1]:
		d1 = max(total-d2, 0)
	case !has[2]:
		d2 = max(total-d1, 0)
	}
	s.Capacity = [2]int{d1, d2}

	minAge, _, err := integer(w.MinAge)
	if err != nil {
		return fail("min_age_limit", "%v", err)
	}
	if minAge < 0 || minAge > 150 {
		return fail("min_age_limit", "want an age, got %d", minAge)
	}
	maxAge, _, err := integer(w.MaxAge)
	if err != nil {
		return fail("max_age_limit", "%v", err)
	}
	if maxAge < 0 || maxAge > 150 || (maxAge != 0 && maxAge < minAge) {
		return fail("max_age_limit", "want 0 or an age not below min_age_limit %d, got %d", minAge, maxAge)
	}
	s.MinAge, s.MaxAge = int(minAge), int(maxAge)

	allow, err := boolean(w.AllowAll)
	if err != nil {
		return fail("allow_all_age", "%v", err)
	}
	s.AllowAllAge = allow

	vaccine, err := boundedText(w.Vaccine, maxVaccine)
	if err != nil {
		return fail("vaccine", "%v", err)
	}
	s.Vaccine = strings.ToUpper(vaccine)

	slots, err := parseSlots(w.Slots)
	if err != nil {
		return fail("slots"+subPath(err), "%v", subReason(err))
	}
	s.Slots = slots
	return s, nil
}

func parseFees(raw json.RawMessage) ([]dialog.Fee, error) {
	list, err := array(raw)
	if err != nil {
		return nil, err
	}
	if len(list) > maxFees {
		return nil, fmt.Errorf("%d fees, at most %d", len(list), maxFees)
	}
	var fees []dialog.Fee
	for k, rf := range list {
		if kind(rf) != '{' {
			return nil, &subError{fmt.Sprintf("[%d]", k), fmt.Errorf("want an object, got %s", describe(rf))}
		}
		var w wireFee
		if err := json.Unmarshal(rf, &w); err != nil {
			return nil, &subError{fmt.Sprintf("[%d]", k), err}
		}
		vaccine, err := boundedText(w.Vaccine, maxVaccine)
		if err != nil {
			return nil, &subError{fmt.Sprintf("[%d] vaccine", k), err}
		}
		rupees, ok, err := integer(w.Fee)
		if err != nil {
			return nil, &subError{fmt.Sprintf("[%d] fee", k), err}
		}
		if !ok {
			continue // fee not given: unknown
		}
		if rupees < 0 || rupees > 1_000_000 {
			return nil, &subError{fmt.Sprintf("[%d] fee", k), fmt.Errorf("want rupees, got %d", rupees)}
		}
		fees = append(fees, dialog.Fee{Vaccine: strings.ToUpper(vaccine), Rupees: int(rupees)})
	}
	return fees, nil
}

// parseSlots accepts ["09:00AM-11:00AM", …] and the later [{"time": …}, …].
func parseSlots(raw json.RawMessage) ([]string, error) {
	list, err := array(raw)
	if err != nil {
		return nil, err
	}
	if len(list) > maxSlots {
		return nil, fmt.Errorf("%d slots, at most %d", len(list), maxSlots)
	}
	slots := make([]string, 0, len(list))
	for k, r := range list {
		if kind(r) == '{' {
			var obj struct {
				Time json.RawMessage `json:"time"`
			}
			if err := json.Unmarshal(r, &obj); err != nil {
				return nil, &subError{fmt.Sprintf("[%d]", k), err}
			}
			r = obj.Time
		}
		s, err := boundedText(r, maxSlot)
		if err != nil {
			return nil, &subError{fmt.Sprintf("[%d]", k), err}
		}
		if s != "" {
			slots = append(slots, s)
		}
	}
	return slots, nil
}

// subError locates a fault inside a list field, e.g. "[2] fee".
type subError struct {
	path string
	err  error
}

func (e *subError) Error() string { return e.path + ": " + e.err.Error() }

func subPath(err error) string {
	if se, ok := err.(*subError); ok {
		return se.path
	}
	return ""
}

func subReason(err error) error {
	if se, ok := err.(*subError); ok {
		return se.err
	}
	return err
}

// kind returns the first byte of a JSON value ('{', '[', '"', 't', 'f', 'n',
// or a digit or '-'), or 0 when the field is absent.
func kind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// absent reports a missing or null field.
func absent(raw json.RawMessage) bool {
	k := kind(raw)
	return k == 0 || k == 'n'
}

func describe(raw json.RawMessage) string {
	switch k := kind(raw); {
	case k == 0:
		return "nothing"
	case k == '{':
		return "an object"
	case k == '[':
		return "an array"
	case k == '"':
		return "a string"
	case k == 't' || k == 'f':
		return "a boolean"
	case k == 'n':
		return "null"
	default:
		return "a number"
	}
}

// array splits a JSON array; absent or null is an empty list.
func array(raw json.RawMessage) ([]json.RawMessage, error) {
	if absent(raw) {
		return nil, nil
	}
	if kind(raw) != '[' {
		return nil, fmt.Errorf("want an array, got %s", describe(raw))
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// text reads a string (trimmed); a number is taken as its literal text;
// absent or null is "".
func text(raw json.RawMessage) (string, error) {
	switch k := kind(raw); {
	case absent(raw):
		return "", nil
	case k == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case k == '-' || (k >= '0' && k <= '9'):
		return string(bytes.TrimSpace(raw)), nil
	default:
		return "", fmt.Errorf("want a string, got %s", describe(raw))
	}
}

// boundedText reads text, refusing more than max characters.
func boundedText(raw json.RawMessage, max int) (string, error) {
	s, err := text(raw)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", fmt.Errorf("%d characters, at most %d", n, max)
	}
	return s, nil
}

// clip cuts a value quoted in an error to its first 40 characters, so that
// an error stays short whatever the input.
func clip[T string | []byte](v T) string {
	s, n := string(v), 0
	for i := range s {
		if n == 40 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// integer reads a whole number given as a JSON number or a string holding
// one ("780"); ok is false when the field is absent, null or "".
func integer(raw json.RawMessage) (v int64, ok bool, err error) {
	var s string
	switch k := kind(raw); {
	case absent(raw):
		return 0, false, nil
	case k == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, false, nil
		}
	case k == '-' || (k >= '0' && k <= '9'):
		s = string(bytes.TrimSpace(raw))
	default:
		return 0, false, fmt.Errorf("want an integer, got %s", describe(raw))
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false, fmt.Errorf("want an integer, got %q", clip(s))
	}
	return int64(f), true, nil
}

// boolean reads true/false, also as the strings "true"/"false";
// absent or null is false.
func boolean(raw json.RawMessage) (bool, error) {
	if absent(raw) {
		return false, nil
	}
	s := string(bytes.TrimSpace(raw))
	if kind(raw) == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return false, err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %s", clip(bytes.TrimSpace(raw)))
}

// pincode reads a 6-digit Indian PIN code given as a number or a string
// (spaces allowed: "743 337"); "" when absent.
func pincode(raw json.RawMessage) (string, error) {
	if k := kind(raw); k != '"' {
		n, ok, err := integer(raw)
		if err != nil || !ok {
			return "", err
		}
		raw = json.RawMessage(strconv.FormatInt(n, 10))
	}
	s, err := text(raw)
	if err != nil {
		return "", err
	}
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return "", nil
	}
	if len(s) != 6 || s[0] < '1' || s[0] > '9' || strings.Trim(s, "0123456789") != "" {
		return "", fmt.Errorf("want 6 digits not starting with 0, got %s", clip(bytes.TrimSpace(raw)))
	}
	return s, nil
}
