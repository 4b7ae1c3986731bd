package dialog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// bookDose is the dose this journey books: registration day is about first doses.
const bookDose = 1

// whoList is the people on the account, with "All" offered after them when
// more than one can book.
func whoScreen(tr *turn) (Menu, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return Menu{}, err
	}
	labels := make([]string, 0, len(a.Beneficiaries)+1)
	for _, b := range a.Beneficiaries {
		l := b.Name
		if ap, ok := a.AppointmentFor(b.Ref, bookDose); ok {
			l += " (" + tr.date(ap) + ")"
		}
		labels = append(labels, l)
	}
	if len(a.Beneficiaries) > 1 {
		labels = append(labels, tr.text("who.all"))
	}
	return Menu{Head: []string{tr.text("who.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func whoInput(tr *turn) (string, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return "", err
	}
	n := len(a.Beneficiaries)
	if n > 1 {
		n++
	}
	i, ok := pick(tr.input, n)
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(n))
		return "", nil
	}
	tr.c.Booking = Booking{}
	if i == len(a.Beneficiaries) {
		for _, b := range a.Beneficiaries {
			tr.c.Booking.Who = append(tr.c.Booking.Who, b.Ref)
		}
	} else {
		tr.c.Booking.Who = []string{a.Beneficiaries[i].Ref}
	}
	return evWho, nil
}

// who returns the beneficiaries being booked.
func (tr *turn) who() ([]Beneficiary, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return nil, err
	}
	var out []Beneficiary
	for _, ref := range tr.c.Booking.Who {
		for _, b := range a.Beneficiaries {
			if b.Ref == ref {
				out = append(out, b)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dialog: booking for %s: %w", MaskMsisdn(tr.c.Account), ErrNotFound)
	}
	return out, nil
}

func pinScreen(tr *turn) (Menu, error) {
	return Menu{Head: []string{tr.text("pin.title")}, Items: tr.pinAlertItems(), Tail: []string{tr.back()}}, nil
}

// validPin tells a PIN code: 6 digits, not starting with 0 (Indic digits
// were made Latin by CleanInput). The PIN screen, the seat-alert screen and
// the ALERT keyword read it alike.
func validPin(s string) bool {
	return len(s) == 6 && allDigits(s) && s[0] != '0'
}

func pinInput(tr *turn) (string, error) {
	if ok, err := tr.pinAlertInput(); ok || err != nil { // the offer after pin.full (alert.go)
		return "", err
	}
	if !validPin(tr.input) {
		tr.notice("hint.pin")
		return "", nil
	}
	centres, err := tr.centresAt(tr.input)
	if err != nil {
		return "", err
	}
	tr.c.Booking.Pin = tr.input
	offer, err := tr.bookableCentres(centres)
	if err != nil {
		return "", err
	}
	if len(offer) == 0 {
		if len(centres) == 0 {
			tr.notice("pin.none", "pin", tr.input)
		} else {
			tr.notice("pin.full", "pin", tr.input)
			tr.c.Booking.AlertPin = tr.input // the screen offers an alert
		}
		return "", nil
	}
	tr.c.Booking.Centres = offer
	return evPin, nil
}

// bookable calls fn(i, s) for each upcoming session s of centres[i] where
// everyone being booked is of age and there are enough free seats, in order,
// until fn returns false for that centre.
func (tr *turn) bookable(centres []Centre, fn func(i int, s *Session) (more bool)) error {
	who, err := tr.who()
	if err != nil {
		return err
	}
	tomorrow := tr.today().AddDate(0, 0, 1)
	var ids []string
	for _, c := range centres {
		for _, s := range c.Sessions {
			if !s.Date.Before(tomorrow) {
				ids = append(ids, s.ID)
			}
		}
	}
	free := make(map[string]int, len(ids))
	if len(ids) > 0 {
		seats, err := tr.reg.Seats(tr.ctx, ids)
		if err != nil {
			return fmt.Errorf("dialog: seats: %w", err)
		}
		for i, id := range ids {
			free[id] = seats[i].Free[bookDose-1]
		}
	}
	for i := range centres {
		if err := tr.ctx.Err(); err != nil { // a PIN may hold any number of centres
			return fmt.Errorf("dialog: bookable sessions: %w", err)
		}
		for j := range centres[i].Sessions {
			s := &centres[i].Sessions[j]
			if s.Date.Before(tomorrow) || free[s.ID] < len(who) {
				continue
			}
			fits := true
			for _, b := range who {
				fits = fits && s.AgeFits(s.Date.Year()-b.BirthYear)
			}
			if fits && !fn(i, s) {
				break
			}
		}
	}
	return nil
}

// bookableCentres returns the IDs of the centres with a bookable session.
func (tr *turn) bookableCentres(centres []Centre) ([]string, error) {
	var offer []string
	err := tr.bookable(centres, func(i int, _ *Session) bool {
		offer = append(offer, strconv.FormatInt(centres[i].ID, 10))
		return false
	})
	if err != nil {
		return nil, err
	}
	return offer, nil
}

func (tr *turn) feeLabel(c Centre, vaccine string) string {
	if c.FeeType != Paid {
		return tr.text("fee.free")
	}
	if r, ok := c.Fee(vaccine); ok && r > 0 {
		return tr.text("fee.paid", "rupees", strconv.Itoa(r))
	}
	return tr.text("fee.paid_unknown")
}

func centreScreen(tr *turn) (Menu, error) {
	labels := make([]string, 0, len(tr.c.Booking.Centres))
	for _, id := range tr.c.Booking.Centres {
		if err := tr.ctx.Err(); err != nil {
			return Menu{}, fmt.Errorf("dialog: centre list: %w", err)
		}
		cid, _ := strconv.ParseInt(id, 10, 64)
		c, err := tr.centre(cid)
		if err != nil {
			return Menu{}, err
		}
		labels = append(labels, c.Name+" "+tr.feeLabel(c, ""))
	}
	return Menu{Head: []string{tr.text("centre.title", "pin", tr.c.Booking.Pin)}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func centreInput(tr *turn) (string, error) {
	i, ok := pick(tr.input, len(tr.c.Booking.Centres))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(tr.c.Booking.Centres)))
		return "", nil
	}
	cid, _ := strconv.ParseInt(tr.c.Booking.Centres[i], 10, 64)
	tr.c.Booking.CentreID = cid
	return tr.offerDates()
}

// offerDates fixes the list of sessions with room at the chosen centre and
// moves to the date screen, or stays with a notice when none is left.
func (tr *turn) offerDates() (string, error) {
	offer, err := tr.datesWithRoom()
	if err != nil || len(offer) == 0 {
		tr.notice("centre.full")
		return "", err
	}
	tr.c.Booking.Sessions = offer
	return evCentre, nil
}

// datesWithRoom lists the sessions at the chosen centre that can take
// everyone being booked.
func (tr *turn) datesWithRoom() ([]string, error) {
	c, err := tr.centre(tr.c.Booking.CentreID)
	if err != nil {
		return nil, err
	}
	var offer []string
	err = tr.bookable([]Centre{c}, func(_ int, s *Session) bool {
		offer = append(offer, s.ID)
		return true
	})
	if err != nil {
		return nil, err
	}
	return offer, nil
}

// refill handles a session that filled while the caller was choosing: back
// to the dates still open at that centre, else to the centres still open at
// that PIN code, else home; never a dead end.
func (tr *turn) refill() (string, error) {
	tr.forgetAccount()
	offer, err := tr.datesWithRoom()
	if err != nil {
		return "", err
	}
	if len(offer) > 0 {
		tr.notice("book.filled")
		tr.c.Booking.Sessions = offer
		return evFilled, nil
	}
	cs, err := tr.centresAt(tr.c.Booking.Pin)
	if err != nil {
		return "", err
	}
	if offer, err = tr.bookableCentres(cs); err != nil {
		return "", err
	}
	if len(offer) > 0 {
		tr.notice("centre.full")
		tr.c.Booking.Centres = offer
		return evCentreFilled, nil
	}
	tr.notice("pin.full", "pin", tr.c.Booking.Pin)
	return evHome, nil
}

// session finds the chosen session of the chosen centre.
func (tr *turn) session() (Centre, Session, error) {
	c, err := tr.centre(tr.c.Booking.CentreID)
	if err != nil {
		return Centre{}, Session{}, err
	}
	for _, s := range c.Sessions {
		if s.ID == tr.c.Booking.SessionID {
			return c, s, nil
		}
	}
	return Centre{}, Session{}, fmt.Errorf("dialog: session %s: %w", tr.c.Booking.SessionID, ErrNotFound)
}

func dateScreen(tr *turn) (Menu, error) {
	c, err := tr.centre(tr.c.Booking.CentreID)
	if err != nil {
		return Menu{}, err
	}
	byID := map[string]Session{}
	for _, s := range c.Sessions {
		byID[s.ID] = s
	}
	labels := make([]string, 0, len(tr.c.Booking.Sessions))
	for _, id := range tr.c.Booking.Sessions {
		s := byID[id]
		l := tr.day(s) + " " + s.Vaccine + " " + strconv.Itoa(s.MinAge) + "+"
		labels = append(labels, strings.TrimSpace(l))
	}
	return Menu{Head: []string{Shorten(c.Name, 20), tr.text("date.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func dateInput(tr *turn) (string, error) {
	i, ok := pick(tr.input, len(tr.c.Booking.Sessions))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(tr.c.Booking.Sessions)))
		return "", nil
	}
	tr.c.Booking.SessionID = tr.c.Booking.Sessions[i]
	return evDate, nil
}

func slotScreen(tr *turn) (Menu, error) {
	_, s, err := tr.session()
	if err != nil {
		return Menu{}, err
	}
	labels := make([]string, len(s.Slots))
	for i, sl := range s.Slots {
		labels[i] = slotLabel(sl)
	}
	return Menu{Head: []string{tr.day(s) + " " + tr.text("slot.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func slotInput(tr *turn) (string, error) {
	_, s, err := tr.session()
	if err != nil {
		return "", err
	}
	i, ok := pick(tr.input, len(s.Slots))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(s.Slots)))
		return "", nil
	}
	tr.c.Booking.Slot = s.Slots[i]
	return evSlot, nil
}

// confirmBookScreen shows who, when and where before the option to book:
// the richest summary that fits one page (full names, vaccine, address),
// else a leaner one; a summary that fits no page pages before the options.
func confirmBookScreen(tr *turn) (Menu, error) {
	c, s, err := tr.session()
	if err != nil {
		return Menu{}, err
	}
	who, err := tr.who()
	if err != nil {
		return Menu{}, err
	}
	a, err := tr.loadAccount()
	if err != nil {
		return Menu{}, err
	}
	names, firsts := make([]string, len(who)), make([]string, len(who))
	var replaces []string
	for i, b := range who {
		names[i], firsts[i] = b.Name, firstName(b.Name)
		if ap, ok := a.AppointmentFor(b.Ref, bookDose); ok && ap.SessionID != s.ID || ok && ap.Slot != tr.c.Booking.Slot {
			replaces = append(replaces, tr.text("book.replaces", "name", firstName(b.Name), "date", tr.date(ap)))
		}
	}
	when := tr.day(s) + ", " + slotLabel(tr.c.Booking.Slot)
	where := c.Name + ", " + tr.feeLabel(c, s.Vaccine)
	summary := func(head bool, who []string, details ...string) Menu {
		m := Menu{Body: append([]string{strings.Join(who, ", ")}, details...),
			Items: options(tr.text("book.yes"), tr.text("book.back")), Confirm: true}
		if head {
			m.Head = []string{tr.text("book.confirm")}
		}
		m.Body = append(m.Body, replaces...)
		return m
	}
	full := []string{when + ", " + s.Vaccine, where}
	if c.Address != "" && !strings.Contains(c.Name, c.Address) {
		full = append(full, c.Address)
	}
	// The leanest drop the commas, then the weekday.
	slot := slotLabel(tr.c.Booking.Slot)
	withDay, noDay, place := tr.day(s)+" "+slot, tr.dayOf(s.Date, false)+" "+slot, c.Name+" "+tr.feeLabel(c, s.Vaccine)
	return tr.fitting(
		summary(true, names, full...),
		summary(true, names, when+", "+s.Vaccine, where),
		summary(true, names, when, where),
		summary(false, names, when, where),
		summary(false, firsts, when, where),
		summary(false, firsts, withDay, place),
		summary(false, firsts, noDay, place),
	), nil
}

// slotLabel writes a Co-WIN slot such as "09:00AM-11:00AM" as a caller
// reads it, "9AM-11AM"; a slot in another form is shown as it is.
func slotLabel(slot string) string {
	from, to, ok := strings.Cut(slot, "-")
	if !ok {
		return slot
	}
	short := func(t string) string {
		t = strings.TrimPrefix(t, "0")
		if h, ampm, ok := strings.Cut(t, ":00"); ok && (ampm == "AM" || ampm == "PM") {
			return h + ampm
		}
		return t
	}
	return short(from) + "-" + short(to)
}

func confirmBookInput(tr *turn) (string, error) {
	switch tr.input {
	case "2":
		return evBack, nil
	case "1":
	default:
		tr.notice("hint.choose", "max", "2")
		return "", nil
	}
	c, s, err := tr.session()
	if err != nil {
		return "", err
	}
	who, err := tr.who()
	if err != nil {
		return "", err
	}
	var booked, codes []string // with the appointment ids, and without
	for _, b := range who {
		ap, err := tr.reg.Book(tr.ctx, BookRequest{
			Msisdn: tr.c.Account, Beneficiary: b.Ref, SessionID: s.ID, Slot: tr.c.Booking.Slot, Dose: bookDose,
		})
		switch {
		case errors.Is(err, ErrFullyBooked) || errors.Is(err, ErrAgeNotEligible):
			if len(booked) == 0 {
				return tr.refill()
			}
			not := tr.text("book.not", "name", firstName(b.Name))
			booked, codes = append(booked, not), append(codes, not)
			continue
		case err != nil:
			return "", fmt.Errorf("dialog: book for %s: %w", MaskMsisdn(tr.c.Account), err)
		}
		tr.e.cfg.Observer.Count("booked")
		booked = append(booked, tr.text("book.line", "name", firstName(b.Name), "id", ap.ID, "code", ap.Code))
		codes = append(codes, tr.text("book.code", "name", firstName(b.Name), "code", ap.Code))
		tr.outbox = append(tr.outbox, SMS{To: tr.c.Account, Ref: smsRef("slip-" + ap.ID),
			Text: tr.slip(b, ap, c, s), Kind: SMSKindSlip, Lang: tr.lang()})
	}
	tr.endAlerts() // someone was booked: the number's seat alerts end
	// The appointment ids are in the slips: on a screen too small for them
	// the security codes stand alone.
	tr.c.Notice = tr.text("book.done") + "\n" + strings.Join(booked, "\n")
	if short := tr.text("book.done") + "\n" + strings.Join(codes, "\n"); Units(tr.c.Notice) > tr.budget().For(tr.c.Notice) {
		tr.c.Notice = short
	}
	tr.c.Booking = Booking{}
	return evEnd, nil
}

// --- my appointments and cancel ------------------------------------------

// apptLine describes an appointment in a list.
func (tr *turn) apptLine(name string, ap Appointment) (string, error) {
	c, err := tr.reg.Centre(tr.ctx, ap.CentreID)
	if err != nil {
		return "", fmt.Errorf("dialog: centre %d: %w", ap.CentreID, err)
	}
	return tr.text("mine.line", "name", firstName(name), "date", tr.date(ap), "slot", slotLabel(ap.Slot),
		"centre", c.Name, "id", ap.ID, "code", ap.Code), nil
}

func mineScreen(tr *turn) (Menu, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return Menu{}, err
	}
	var body, items []string
	booked := false
	for _, b := range a.Beneficiaries {
		ap, ok := a.AppointmentFor(b.Ref, bookDose)
		if !ok {
			body = append(body, tr.text("mine.nobook", "name", firstName(b.Name)))
			continue
		}
		l, err := tr.apptLine(b.Name, ap)
		if err != nil {
			return Menu{}, err
		}
		body, booked = append(body, l), true
	}
	if len(body) == 0 {
		body = []string{tr.text("home.nobody")}
	}
	if booked {
		items = options(tr.text("mine.again"))
	}
	return Menu{Head: []string{tr.text("mine.title")}, Body: body, Items: items, Tail: []string{tr.back()}, Confirm: true}, nil
}

func mineInput(tr *turn) (string, error) {
	if tr.input != "1" {
		tr.notice("hint.back")
		return "", nil
	}
	bs, aps, err := tr.bookedPeople()
	if err != nil {
		return "", err
	}
	if len(aps) == 0 {
		tr.notice("hint.back")
		return "", nil
	}
	if tr.c.SlipAgain {
		tr.notice("mine.again_once")
		return "", nil
	}
	for i, ap := range aps {
		c, err := tr.reg.Centre(tr.ctx, ap.CentreID)
		if err != nil {
			return "", fmt.Errorf("dialog: centre %d: %w", ap.CentreID, err)
		}
		s := Session{ID: ap.SessionID, Date: ap.Date}
		for _, cs := range c.Sessions {
			if cs.ID == ap.SessionID {
				s = cs
			}
		}
		tr.outbox = append(tr.outbox, SMS{To: tr.c.Account, Ref: smsRef("slip-" + ap.ID), Text: tr.slip(bs[i], ap, c, s),
			Kind: SMSKindSlip, Lang: tr.lang()})
	}
	tr.c.SlipAgain = true
	tr.e.cfg.Observer.Count("slip_again")
	tr.notice("mine.again_sent")
	return "", nil
}

// booked lists the account's people who hold an appointment.
func (tr *turn) bookedPeople() ([]Beneficiary, []Appointment, error) {
	a, err := tr.loadAccount()
	if err != nil {
		return nil, nil, err
	}
	var bs []Beneficiary
	var aps []Appointment
	for _, b := range a.Beneficiaries {
		if ap, ok := a.AppointmentFor(b.Ref, bookDose); ok {
			bs, aps = append(bs, b), append(aps, ap)
		}
	}
	return bs, aps, nil
}

func cancelWhoScreen(tr *turn) (Menu, error) {
	bs, aps, err := tr.bookedPeople()
	if err != nil {
		return Menu{}, err
	}
	labels := make([]string, len(bs))
	for i, b := range bs {
		labels[i] = b.Name + " " + tr.date(aps[i])
	}
	return Menu{Head: []string{tr.text("cancel.title")}, Items: options(labels...), Tail: []string{tr.back()}}, nil
}

func cancelWhoInput(tr *turn) (string, error) {
	bs, _, err := tr.bookedPeople()
	if err != nil {
		return "", err
	}
	if len(bs) == 0 {
		tr.notice("mine.none")
		return evHome, nil
	}
	i, ok := pick(tr.input, len(bs))
	if !ok {
		tr.notice("hint.choose", "max", strconv.Itoa(len(bs)))
		return "", nil
	}
	tr.c.Booking.Cancel = bs[i].Ref
	return evCancelWho, nil
}

func cancelConfirmScreen(tr *turn) (Menu, error) {
	bs, aps, err := tr.bookedPeople()
	if err != nil {
		return Menu{}, err
	}
	var items []string
	for i, b := range bs {
		if b.Ref == tr.c.Booking.Cancel {
			l, err := tr.apptLine(b.Name, aps[i])
			if err != nil {
				return Menu{}, err
			}
			items = append(items, l)
		}
	}
	return Menu{Head: []string{tr.text("cancel.confirm")}, Body: items, Items: options(tr.text("cancel.yes"), tr.text("cancel.no")), Confirm: true}, nil
}

func cancelConfirmInput(tr *turn) (string, error) {
	switch tr.input {
	case "2":
		tr.c.Booking = Booking{}
		return evHome, nil
	case "1":
	default:
		tr.notice("hint.choose", "max", "2")
		return "", nil
	}
	ref := tr.c.Booking.Cancel
	err := tr.reg.Cancel(tr.ctx, tr.c.Account, ref, bookDose)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("dialog: cancel for %s: %w", MaskMsisdn(tr.c.Account), err)
	}
	if err == nil {
		tr.alertCancelled(ref) // a seat is free: tell its PIN code's subscribers
	}
	tr.forgetAccount()
	tr.c.Booking = Booking{}
	if err == nil {
		tr.e.cfg.Observer.Count("cancelled")
		tr.outbox = append(tr.outbox, SMS{To: tr.c.Account, Ref: smsRef("cancel"),
			Text: tr.text("sms.cancelled"), Kind: SMSKindCancelled, Lang: tr.lang()})
	}
	tr.notice("cancel.done")
	return evHome, nil
}

// date formats an appointment's day as the caller's language writes it.
func (tr *turn) date(ap Appointment) string { return tr.dayOf(ap.Date, true) }

// day formats a session's day.
func (tr *turn) day(s Session) string { return tr.dayOf(s.Date, true) }

// dayOf formats a day with its weekday ("Tue 21 Sep") or without ("21 Sep").
func (tr *turn) dayOf(t time.Time, weekday bool) string {
	t = t.In(IST)
	key, wd := "date.short", tr.text("weekday."+strconv.Itoa(int(t.Weekday())))
	if !weekday {
		key = "date.day"
	}
	return tr.text(key, "weekday", wd, "day", tr.numeral(t.Day()), "month", tr.text("month."+strconv.Itoa(int(t.Month()))))
}

// numeral writes n in the digits the caller's language prints dates with
// (the catalogue's "digits" key: ten digits, zero first). Codes, ids and
// option numbers stay in Latin digits: they are what the keypad shows.
func (tr *turn) numeral(n int) string {
	s := strconv.Itoa(n)
	digits := []rune(tr.text("digits"))
	if len(digits) != 10 || digits[0] == '0' {
		return s
	}
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, digits[r-'0'])
	}
	return string(out)
}

// slipSegments is the most SMS parts a slip may take.
const slipSegments = 3

// slip is the appointment slip SMS. It fits three segments: when the whole
// text would not, the address gives way first, then the person's name; the
// appointment id, security code, centre, date and slot always stay.
//
// Every value also stays within what the slip's DLT template (India's
// registered content template, providers/dlt) gives it, in characters: a
// template variable holds at most 30, the name has two variables (60), the
// place (centre name and address) four (120), every other value one (30).
// A longer value would make the operator drop the SMS.
func (tr *turn) slip(b Beneficiary, ap Appointment, c Centre, s Session) string {
	const (
		nameMax  = 2 * 30 // {name}: two DLT variables
		placeMax = 4 * 30 // {centre}: four
		valueMax = 30     // any other placeholder: one
		minPart  = 8      // a shortened address or name keeps at least this
	)
	// Shorten counts encoding units, never fewer than characters, so a
	// value within n units is within n characters.
	name, addr := Shorten(b.Name, nameMax), c.Address
	centre := Shorten(c.Name, placeMax)
	if strings.Contains(c.Name, addr) {
		addr = ""
	}
	if room := placeMax - Units(centre) - len(", "); Units(addr) > room {
		if room >= minPart {
			addr = Shorten(addr, room)
		} else {
			addr = ""
		}
	}
	id, code, ref := Shorten(ap.ID, valueMax), Shorten(ap.Code, valueMax), Shorten(b.Ref, valueMax)
	date, slot, vaccine := Shorten(tr.day(s), valueMax), Shorten(ap.Slot, valueMax), Shorten(s.Vaccine, valueMax)
	build := func() string {
		place := centre
		if addr != "" {
			place += ", " + addr
		}
		return tr.text("sms.slip", "name", name, "ref", ref, "id", id, "code", code, "centre", place,
			"date", date, "slot", slot, "vaccine", vaccine)
	}
	text := build()
	for _, part := range []*string{&addr, &name} {
		over := Units(text) - slipSegments*SMSReplyBudget.For(text)/3
		if over <= 0 {
			break
		}
		if room := Units(*part) - over; room >= minPart {
			*part = Shorten(*part, room)
		} else if part == &addr {
			*part = ""
		} else {
			*part = Shorten(firstName(*part), minPart)
		}
		text = build()
	}
	return text
}
