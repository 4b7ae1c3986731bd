package dialogtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tikasetu/tikasetu/dialog"
)

// benRecord is a registered person with the key of their ID number.
type benRecord struct {
	dialog.Beneficiary
	idKey string // "<type>:<number>"
}

// sessionSeats is one session: its data and its seats per dose.
type sessionSeats struct {
	js       []byte // the session's JSON
	imported [2]int
	held     [2]int
	holders  map[string]string // "<ref>:<dose>" → appointment id holding a seat
}

func (ss *sessionSeats) free(dose int) int { return max(0, ss.imported[dose-1]-ss.held[dose-1]) }

// ImportCentres loads centres and their sessions, as cowin.Parse returns
// them, as store.ImportCentres does: a centre listed again keeps the
// sessions it had that the new data lacks, and a session's free seats are
// its new capacity less the seats appointments hold.
func (s *Store) ImportCentres(_ context.Context, centres []dialog.Centre) error {
	defer s.lock()()
	for _, c := range centres {
		if c.ID <= 0 || c.Pincode == "" {
			return fmt.Errorf("dialogtest: import: centre %d %q: needs an id and a PIN code", c.ID, c.Name)
		}
		c = roundTrip(c)
		byID := map[string]dialog.Session{}
		if old, ok := s.d.centres[c.ID]; ok {
			var prev dialog.Centre
			mustUnmarshal(old, &prev)
			for _, ss := range prev.Sessions {
				byID[ss.ID] = ss
			}
		}
		for _, ss := range c.Sessions {
			ss.CentreID = c.ID
			ss.Capacity = [2]int{max(0, ss.Capacity[0]), max(0, ss.Capacity[1])}
			byID[ss.ID] = ss
			seats := s.d.seats[ss.ID]
			if seats == nil {
				seats = &sessionSeats{holders: map[string]string{}}
				s.d.seats[ss.ID] = seats
			}
			seats.js, seats.imported = mustMarshal(ss), ss.Capacity
		}
		c.Sessions = slices.SortedFunc(func(yield func(dialog.Session) bool) {
			for _, ss := range byID {
				if !yield(ss) {
					return
				}
			}
		}, func(a, b dialog.Session) int { return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ID, b.ID)) })
		s.d.centres[c.ID] = mustMarshal(c)
	}
	return nil
}

// Account returns the people registered under msisdn, in registration
// order, and their appointments, by person then dose.
func (s *Store) Account(_ context.Context, msisdn string) (dialog.Account, error) {
	acc := dialog.Account{Msisdn: msisdn}
	if err := checkMsisdn(msisdn); err != nil {
		return acc, err
	}
	defer s.lock()()
	order := map[string]int{}
	for i, b := range s.d.bens[msisdn] {
		acc.Beneficiaries = append(acc.Beneficiaries, roundTrip(b.Beneficiary))
		order[b.Ref] = i
	}
	for _, js := range s.d.appts[msisdn] {
		var a dialog.Appointment
		mustUnmarshal(js, &a)
		acc.Appointments = append(acc.Appointments, a)
	}
	slices.SortFunc(acc.Appointments, func(a, b dialog.Appointment) int {
		return cmp.Or(cmp.Compare(order[a.Beneficiary], order[b.Beneficiary]),
			strings.Compare(a.Beneficiary, b.Beneficiary), cmp.Compare(a.Dose, b.Dose))
	})
	return acc, nil
}

// AddBeneficiary registers a person: dialog.ErrDuplicateID when the ID
// number is registered anywhere, dialog.ErrTooManyBeneficiaries when the
// account is full.
func (s *Store) AddBeneficiary(_ context.Context, msisdn string, b dialog.NewBeneficiary) (dialog.Beneficiary, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return dialog.Beneficiary{}, err
	}
	if b.IDNumber == "" || b.IDType == "" {
		return dialog.Beneficiary{}, errors.New("dialogtest: add beneficiary: missing ID")
	}
	if b.Name == "" || !utf8.ValidString(b.Name) {
		return dialog.Beneficiary{}, errors.New("dialogtest: add beneficiary: missing name")
	}
	defer s.lock()()
	key := string(b.IDType) + ":" + b.IDNumber
	if holder, ok := s.d.ids[key]; ok {
		if holder != msisdn || slices.ContainsFunc(s.d.bens[msisdn], func(r benRecord) bool { return r.idKey == key }) {
			return dialog.Beneficiary{}, dialog.ErrDuplicateID
		}
	}
	if len(s.d.bens[msisdn]) >= s.cfg.MaxBeneficiaries {
		return dialog.Beneficiary{}, dialog.ErrTooManyBeneficiaries
	}
	ref := newRef()
	for s.d.refs[ref] {
		ref = newRef()
	}
	rec := benRecord{idKey: key, Beneficiary: dialog.Beneficiary{
		Ref: ref, Name: b.Name, BirthYear: b.BirthYear, Gender: b.Gender, IDType: b.IDType,
		IDMasked: dialog.MaskID(b.IDType, b.IDNumber), Created: s.now(),
	}}
	s.d.ids[key], s.d.refs[ref] = msisdn, true
	s.d.bens[msisdn] = append(s.d.bens[msisdn], rec)
	return roundTrip(rec.Beneficiary), nil
}

// CentresByPin returns the centres at pin, by name then id.
func (s *Store) CentresByPin(_ context.Context, pin string) ([]dialog.Centre, error) {
	defer s.lock()()
	var out []dialog.Centre
	for _, js := range s.d.centres {
		var c dialog.Centre
		mustUnmarshal(js, &c)
		if c.Pincode == pin {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b dialog.Centre) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Centre returns one centre (dialog.ErrNotFound).
func (s *Store) Centre(_ context.Context, id int64) (dialog.Centre, error) {
	defer s.lock()()
	var c dialog.Centre
	js, ok := s.d.centres[id]
	if !ok {
		return c, fmt.Errorf("dialogtest: centre %d: %w", id, dialog.ErrNotFound)
	}
	mustUnmarshal(js, &c)
	return c, nil
}

// Seats returns the seats of the sessions, in order; an unknown session
// has none.
func (s *Store) Seats(_ context.Context, sessionIDs []string) ([]dialog.Seats, error) {
	defer s.lock()()
	out := make([]dialog.Seats, len(sessionIDs))
	for i, sid := range sessionIDs {
		if ss := s.d.seats[sid]; ss != nil {
			out[i] = dialog.Seats{Free: [2]int{ss.free(1), ss.free(2)}, Booked: ss.held}
		}
	}
	return out, nil
}

// Book takes a seat for one person and dose. A person who holds a seat in
// that session keeps it (same appointment id and security code); one booked
// in another session is moved, and the old seat freed in the same step.
// Errors: dialog.ErrNotFound, dialog.ErrAgeNotEligible,
// dialog.ErrFullyBooked.
func (s *Store) Book(_ context.Context, r dialog.BookRequest) (dialog.Appointment, error) {
	if err := checkMsisdn(r.Msisdn); err != nil {
		return dialog.Appointment{}, err
	}
	if r.Dose != 1 && r.Dose != 2 {
		return dialog.Appointment{}, fmt.Errorf("dialogtest: book: dose %d: want 1 or 2", r.Dose)
	}
	defer s.lock()()
	i := slices.IndexFunc(s.d.bens[r.Msisdn], func(b benRecord) bool { return b.Ref == r.Beneficiary })
	if i < 0 {
		return dialog.Appointment{}, fmt.Errorf("dialogtest: book: beneficiary: %w", dialog.ErrNotFound)
	}
	ss := s.d.seats[r.SessionID]
	if ss == nil {
		return dialog.Appointment{}, fmt.Errorf("dialogtest: book: session: %w", dialog.ErrNotFound)
	}
	var sess dialog.Session
	mustUnmarshal(ss.js, &sess)
	if !sess.AgeFits(sess.Date.Year() - s.d.bens[r.Msisdn][i].BirthYear) {
		return dialog.Appointment{}, dialog.ErrAgeNotEligible
	}
	if len(sess.Slots) > 0 && !slices.Contains(sess.Slots, r.Slot) {
		return dialog.Appointment{}, fmt.Errorf("dialogtest: book: slot %q: %w", r.Slot, dialog.ErrNotFound)
	}
	field := fmt.Sprintf("%s:%d", r.Beneficiary, r.Dose)
	var prev *dialog.Appointment
	if js, ok := s.d.appts[r.Msisdn][field]; ok {
		prev = new(dialog.Appointment)
		mustUnmarshal(js, prev)
	}
	a := dialog.Appointment{ID: ss.holders[field], Code: randomDigits(4), Beneficiary: r.Beneficiary, Msisdn: r.Msisdn,
		SessionID: r.SessionID, CentreID: sess.CentreID, Date: sess.Date, Slot: r.Slot, Dose: r.Dose, Booked: s.now()}
	switch {
	case a.ID != "" && prev != nil && prev.SessionID == r.SessionID && prev.ID == a.ID:
		a.Code = prev.Code // same seat, new slot: the slip stays valid
	case a.ID != "":
		// A seat held here already (store keeps it too).
	case ss.free(r.Dose) <= 0:
		return dialog.Appointment{}, dialog.ErrFullyBooked
	default:
		a.ID = newAppointmentID()
		ss.held[r.Dose-1]++
		ss.holders[field] = a.ID
	}
	if s.d.appts[r.Msisdn] == nil {
		s.d.appts[r.Msisdn] = map[string][]byte{}
	}
	s.d.appts[r.Msisdn][field] = mustMarshal(a)
	if prev != nil && prev.SessionID != r.SessionID {
		s.releaseSeat(prev.SessionID, field, prev.ID)
	}
	return roundTrip(a), nil
}

// Cancel frees the person's appointment for a dose (dialog.ErrNotFound).
func (s *Store) Cancel(_ context.Context, msisdn, beneficiary string, dose int) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	defer s.lock()()
	field := fmt.Sprintf("%s:%d", beneficiary, dose)
	js, ok := s.d.appts[msisdn][field]
	if !ok {
		return fmt.Errorf("dialogtest: cancel: appointment: %w", dialog.ErrNotFound)
	}
	var a dialog.Appointment
	mustUnmarshal(js, &a)
	delete(s.d.appts[msisdn], field)
	s.releaseSeat(a.SessionID, field, a.ID)
	return nil
}

// releaseSeat frees the seat appointment id holds in session sid.
func (s *Store) releaseSeat(sid, field, id string) {
	ss := s.d.seats[sid]
	if ss == nil || ss.holders[field] != id {
		return
	}
	delete(ss.holders, field)
	dose := int(field[len(field)-1] - '0')
	ss.held[dose-1] = max(0, ss.held[dose-1]-1)
}

// idAlphabet is that of store's appointment ids: no 0/O, no 1/I.
const idAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newAppointmentID() string { return randomString(idAlphabet, 12) }

// newRef is a 13-digit beneficiary reference, first digit not 0.
func newRef() string { return randomString("123456789", 1) + randomDigits(12) }
