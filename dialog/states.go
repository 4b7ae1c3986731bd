package dialog

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/looplab/fsm"
)

// States of the conversation; each names a screen.
const (
	stLang          = "lang"
	stResume        = "resume"
	stNumber        = "number"
	stOtherNumber   = "other_number"
	stOTP           = "otp"
	stHome          = "home"
	stIDType        = "id_type"
	stIDNumber      = "id_number"
	stName          = "name"
	stBirthYear     = "birth_year"
	stGender        = "gender"
	stConfirmPerson = "confirm_person"
	stBookWho       = "book_who"
	stPin           = "pin"
	stCentre        = "centre"
	stDate          = "date"
	stSlot          = "slot"
	stConfirmBook   = "confirm_booking"
	stMine          = "my_appointments"
	stCancelWho     = "cancel_who"
	stCancelConfirm = "cancel_confirm"
	stDone          = "done" // last words that needed more than one screen
	stEnd           = "end"  // the reply ends the conversation
)

// Events of the state machine.
const (
	evBack         = "back"
	evEnd          = "end"
	evLangNew      = "language_chosen"
	evLangHome     = "language_changed"
	evOwnNumber    = "own_number"
	evOtherNum     = "other_number"
	evNumberGot    = "number_entered"
	evVerified     = "verified"
	evOTPVoid      = "otp_voided"
	evAdd          = "add_person"
	evBook         = "book"
	evMine         = "my_appointments"
	evCancel       = "cancel"
	evLanguage     = "language"
	evIDType       = "id_type_chosen"
	evIDNumber     = "id_number_entered"
	evIDReplaced   = "id_number_replaced"
	evName         = "name_entered"
	evYear         = "year_entered"
	evGender       = "gender_chosen"
	evRegistered   = "registered"
	evRedo         = "redo_person"
	evIDAgain      = "id_number_again"
	evWho          = "who_chosen"
	evPin          = "pin_entered"
	evCentre       = "centre_chosen"
	evDate         = "date_chosen"
	evSlot         = "slot_chosen"
	evFilled       = "session_filled"
	evCentreFilled = "centre_filled"
	evCancelWho    = "cancel_chosen"
	evHome         = "home"
)

// state is one screen: how it looks and what an input does there.
type state struct {
	back   string // state that "0" returns to; "" where 0 is not Back
	screen func(*turn) (Menu, error)
	input  func(*turn) (string, error) // the event to fire; "" stays (with a notice)
}

// states is filled in init to break the initialisation cycle with the handlers.
var states map[string]state

// resumable states are worth offering "Continue where you left off" for.
var resumable = map[string]bool{}

// transitions is the one table of events that every turn's FSM is built from.
var transitions fsm.Events

func init() {
	states = map[string]state{
		stLang:          {screen: langScreen, input: langInput},
		stResume:        {screen: resumeScreen, input: resumeInput},
		stNumber:        {screen: numberScreen, input: numberInput},
		stOtherNumber:   {screen: otherNumberScreen, input: otherNumberInput}, // Back: otherNumberInput
		stOTP:           {screen: otpScreen, input: otpInput},
		stHome:          {screen: homeScreen, input: homeInput},
		stIDType:        {back: stHome, screen: idTypeScreen, input: idTypeInput},
		stIDNumber:      {back: stIDType, screen: idNumberScreen, input: idNumberInput},
		stName:          {back: stIDNumber, screen: nameScreen, input: nameInput},
		stBirthYear:     {back: stName, screen: yearScreen, input: yearInput},
		stGender:        {back: stBirthYear, screen: genderScreen, input: genderInput},
		stConfirmPerson: {back: stGender, screen: confirmPersonScreen, input: confirmPersonInput},
		stBookWho:       {back: stHome, screen: whoScreen, input: whoInput},
		stPin:           {back: stBookWho, screen: pinScreen, input: pinInput},
		stCentre:        {back: stPin, screen: centreScreen, input: centreInput},
		stDate:          {back: stCentre, screen: dateScreen, input: dateInput},
		stSlot:          {back: stDate, screen: slotScreen, input: slotInput},
		stConfirmBook:   {back: stSlot, screen: confirmBookScreen, input: confirmBookInput},
		stMine:          {back: stHome, screen: mineScreen, input: mineInput},
		stCancelWho:     {back: stHome, screen: cancelWhoScreen, input: cancelWhoInput},
		stCancelConfirm: {back: stCancelWho, screen: cancelConfirmScreen, input: cancelConfirmInput},
		stDone:          {screen: doneScreen, input: doneInput},
		stAlert:         {back: stHome, screen: alertScreen, input: alertInput}, // alert.go
	}
	transitions = fsm.Events{
		{Name: evLangNew, Src: []string{stLang}, Dst: stNumber},
		{Name: evLangHome, Src: []string{stLang}, Dst: stHome},
		{Name: evOwnNumber, Src: []string{stNumber}, Dst: stOTP},
		{Name: evOtherNum, Src: []string{stNumber, stHome}, Dst: stOtherNumber},
		{Name: evBack, Src: []string{stOtherNumber}, Dst: stNumber},
		{Name: evNumberGot, Src: []string{stOtherNumber}, Dst: stOTP},
		{Name: evVerified, Src: []string{stOTP, stNumber}, Dst: stHome},
		{Name: evOTPVoid, Src: []string{stOTP}, Dst: stNumber},
		{Name: evAdd, Src: []string{stHome}, Dst: stIDType},
		{Name: evBook, Src: []string{stHome}, Dst: stBookWho},
		{Name: evMine, Src: []string{stHome}, Dst: stMine},
		{Name: evCancel, Src: []string{stHome}, Dst: stCancelWho},
		{Name: evLanguage, Src: []string{stHome}, Dst: stLang},
		{Name: evAlert, Src: []string{stHome}, Dst: stAlert},
		{Name: evIDType, Src: []string{stIDType}, Dst: stIDNumber},
		{Name: evIDNumber, Src: []string{stIDNumber}, Dst: stName},
		{Name: evIDReplaced, Src: []string{stIDNumber}, Dst: stConfirmPerson},
		{Name: evName, Src: []string{stName}, Dst: stBirthYear},
		{Name: evYear, Src: []string{stBirthYear}, Dst: stGender},
		{Name: evGender, Src: []string{stGender}, Dst: stConfirmPerson},
		{Name: evRegistered, Src: []string{stConfirmPerson}, Dst: stHome},
		{Name: evRedo, Src: []string{stConfirmPerson}, Dst: stIDType},
		{Name: evIDAgain, Src: []string{stConfirmPerson}, Dst: stIDNumber},
		{Name: evWho, Src: []string{stBookWho}, Dst: stPin},
		{Name: evPin, Src: []string{stPin}, Dst: stCentre},
		{Name: evCentre, Src: []string{stCentre}, Dst: stDate},
		{Name: evDate, Src: []string{stDate}, Dst: stSlot},
		{Name: evSlot, Src: []string{stSlot}, Dst: stConfirmBook},
		{Name: evFilled, Src: []string{stConfirmBook}, Dst: stDate},
		{Name: evCentreFilled, Src: []string{stConfirmBook}, Dst: stCentre},
		{Name: evCancelWho, Src: []string{stCancelWho}, Dst: stCancelConfirm},
		{Name: evHome, Src: []string{stMine, stCancelConfirm, stConfirmPerson, stConfirmBook, stCancelWho, stOtherNumber, stAlert}, Dst: stHome},
	}
	// Back, and Continue after a dropped session, come from the state table.
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if back := states[name].back; back != "" {
			transitions = append(transitions, fsm.EventDesc{Name: evBack, Src: []string{name}, Dst: back})
		}
		if name != stLang && name != stNumber && name != stResume && name != stDone {
			resumable[name] = true
			transitions = append(transitions, fsm.EventDesc{Name: resumeEvent(name), Src: []string{stResume}, Dst: name})
		}
	}
}

func resumeEvent(state string) string { return "continue_" + state }

// --- language, resume, number, OTP ---------------------------------------

func langScreen(tr *turn) (Menu, error) {
	offered := MenuLanguages(tr.in.Languages, tr.in.GSM7Only)
	names := make([]string, len(offered))
	for i, code := range offered {
		l, _ := LanguageByCode(code)
		names[i] = l.Name
	}
	return Menu{Head: []string{tr.text("lang.title")}, Items: options(names...)}, nil
}

func langInput(tr *turn) (string, error) {
	offered := MenuLanguages(tr.in.Languages, tr.in.GSM7Only)
	i, ok := pick(tr.input, len(offered))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(offered)))
		return "", nil
	}
	tr.c.Lang = offered[i]
	if tr.c.Account != "" {
		return evLangHome, nil
	}
	return evLangNew, nil
}

func resumeScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("resume.title")}, Items: options(tr.text("resume.continue"), tr.text("resume.restart"))}, nil
}

func resumeInput(tr *turn) (string, error) {
	switch tr.input {
	case "1":
		return resumeEvent(tr.c.Resume), nil
	case "2":
		return "", tr.restart() // back to the first screen, language kept
	}
	tr.notice("hint.choose", "max", "2")
	return "", nil
}

func numberScreen(tr *turn) (Menu, error) {
	return Menu{
		Head:  []string{tr.text("number.title")},
		Items: options(tr.text("number.own", "number", maskOnScreen(tr.c.Msisdn)), tr.text("number.other")),
	}, nil
}

func numberInput(tr *turn) (string, error) {
	switch tr.input {
	case "1":
		if ok, err := tr.verifiedBefore(); err != nil || ok {
			return evVerified, err
		}
		return tr.sendOTP(tr.c.Msisdn, evOwnNumber)
	case "2":
		return evOtherNum, nil
	}
	tr.notice("hint.choose", "max", "2")
	return "", nil
}

func otherNumberScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("number.enter")}, Tail: []string{tr.back()}}, nil
}

func otherNumberInput(tr *turn) (string, error) {
	if tr.input == optBack { // to where the caller came from
		if tr.c.Account != "" {
			return evHome, nil
		}
		return evBack, nil
	}
	if len(tr.input) != 10 {
		tr.notice("hint.mobile")
		return "", nil
	}
	n, err := NormaliseMsisdn(tr.input)
	if err != nil {
		tr.notice("hint.mobile")
		return "", nil
	}
	return tr.sendOTP(n, evNumberGot)
}

// sendOTP issues a code for number and queues its SMS; ev is fired when
// the code is on its way.
func (tr *turn) sendOTP(number, ev string) (string, error) {
	code, err := tr.otps.Issue(tr.ctx, OTPRequest{To: number, Caller: tr.msisdn, Provider: tr.in.Provider})
	var (
		limit  *OTPLimitError
		budget *OTPBudgetError
	)
	switch {
	case errors.As(err, &budget) && budget.Reason == BudgetOtherNumbers:
		tr.e.cfg.Observer.Count("otp_refused_" + budget.Reason)
		if budget.RetryAfter > time.Hour {
			tr.notice("otp.others_day")
		} else {
			tr.notice("otp.others", "minutes", minutes(budget.RetryAfter.Minutes()))
		}
		return "", nil
	case errors.As(err, &budget):
		tr.e.cfg.Observer.Count("otp_refused_" + budget.Reason)
		tr.notice("otp.busy")
		return "", nil
	case errors.As(err, &limit):
		seconds := strconv.Itoa(int(limit.RetryAfter.Seconds() + 0.5))
		if limit.Hourly {
			tr.e.cfg.Observer.Count("otp_refused_hourly")
			tr.notice("otp.hourly", "minutes", minutes(limit.RetryAfter.Minutes()))
		} else {
			tr.e.cfg.Observer.Count("otp_refused_cooldown")
			tr.notice("otp.wait_new", "seconds", seconds)
		}
		if !limit.Live {
			return "", nil // nothing to enter yet: the notice says when
		}
		// A code sent moments ago can still be entered: ask for that one.
		tr.c.Target = number
		if !limit.Hourly {
			tr.notice("otp.wait", "seconds", seconds)
		}
		return ev, nil
	case err != nil:
		return "", fmt.Errorf("dialog: issue code for %s: %w", MaskMsisdn(number), err)
	}
	tr.c.Target, tr.issued = number, number
	tr.outbox = append(tr.outbox, SMS{To: number, Text: tr.text("sms.otp", "code", code), Ref: smsRef(OTPRefPrefix + number[len(number)-4:]),
		Kind: SMSKindOTP, Lang: tr.lang()})
	tr.e.cfg.Observer.Count("otp_sent")
	return ev, nil
}

// verifiedBefore reports whether the caller's own number passed a code
// within Config.VerifiedFor, on a turn whose provider vouches for the
// number; it then signs the caller in.
func (tr *turn) verifiedBefore() (bool, error) {
	if tr.e.cfg.VerifiedFor <= 0 || !tr.in.Vouched {
		return false, nil
	}
	ok, err := tr.otps.Remembered(tr.ctx, tr.msisdn)
	if err != nil {
		return false, fmt.Errorf("dialog: verified %s: %w", MaskMsisdn(tr.msisdn), err)
	}
	if ok {
		tr.c.Account, tr.c.Target = tr.msisdn, tr.msisdn
	}
	return ok, nil
}

// maskOnScreen is a number as a caller in India reads it, masked: the ten
// digits without the country code, the last four shown.
func maskOnScreen(msisdn string) string { return MaskMsisdn(strings.TrimPrefix(msisdn, "+91")) }

func minutes(m float64) string { return strconv.Itoa(int(m + 0.999)) }

func otpScreen(tr *turn) (Menu, error) {
	// A code issued this turn cleared the mark and has not been sent yet:
	// only an older code can have been reported undelivered.
	if tr.issued != tr.c.Target {
		failed, err := tr.otps.Undelivered(tr.ctx, tr.c.Target)
		if err != nil {
			return Menu{}, fmt.Errorf("dialog: code delivery for %s: %w", MaskMsisdn(tr.c.Target), err)
		}
		if failed { // says more than any hint about what was typed
			tr.notice("otp.undelivered")
		}
	}
	return Menu{
		Head:  []string{tr.text("otp.title", "number", maskOnScreen(tr.c.Target))},
		Items: []string{"0 " + tr.text("otp.resend")},
	}, nil
}

func otpInput(tr *turn) (string, error) {
	if tr.input == "0" {
		_, err := tr.sendOTP(tr.c.Target, evVerified)
		if err == nil && tr.c.Notice == "" {
			tr.notice("otp.resent")
		}
		return "", err // stay on the OTP screen either way
	}
	if len(tr.input) != 6 || !allDigits(tr.input) {
		tr.notice("hint.otp")
		return "", nil
	}
	err := tr.otps.Verify(tr.ctx, tr.c.Target, tr.input)
	var wrong *OTPWrongError
	switch {
	case err == nil:
		tr.c.Account = tr.c.Target
		if d := tr.e.cfg.VerifiedFor; d > 0 && tr.in.Vouched && tr.c.Target == tr.msisdn {
			if err := tr.otps.Remember(tr.ctx, tr.msisdn, d); err != nil {
				return "", fmt.Errorf("dialog: remember %s: %w", MaskMsisdn(tr.msisdn), err)
			}
		}
		return evVerified, nil
	case errors.As(err, &wrong):
		tr.notice("otp.wrong", "left", strconv.Itoa(wrong.Left))
		return "", nil
	case errors.Is(err, ErrOTPLocked):
		tr.notice("otp.locked")
		return evOTPVoid, nil
	case errors.Is(err, ErrOTPExpired):
		tr.notice("otp.expired")
		return "", nil
	}
	return "", fmt.Errorf("dialog: verify code for %s: %w", MaskMsisdn(tr.c.Target), err)
}

// back is the "0 Back" line.
func (tr *turn) back() string { return optBack + " " + tr.text("nav.back") }

// --- last words ------------------------------------------------------------

func doneScreen(tr *turn) (Menu, error) {
	return Menu{Body: strings.Split(tr.c.Farewell, "\n"), Tail: []string{"0 " + tr.text("home.exit")}}, nil
}

func doneInput(tr *turn) (string, error) {
	tr.notice("home.bye")
	tr.closing = true
	return evEnd, nil
}
