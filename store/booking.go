package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// apptRecord is an appointment as stored in ts:appt:{msisdn}: the
// appointment plus the token of the seat hold it owns.
type apptRecord struct {
	dialog.Appointment
	Hold string `json:"hold"`
}

// holder is one value of ts:hold:{sid}: apptID|msisdn|dose|token|heldMs.
type holder struct {
	apptID, msisdn string
	dose           int
	token          string
	heldMs         int64
}

func parseHolder(v string) (holder, bool) {
	f := strings.Split(v, "|")
	if len(f) != 5 {
		return holder{}, false
	}
	dose, err1 := strconv.Atoi(f[2])
	ms, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		return holder{}, false
	}
	return holder{apptID: f[0], msisdn: f[1], dose: dose, token: f[3], heldMs: ms}, true
}

// maxBookAttempts bounds Book's retries when another booking or cancel for
// the same beneficiary and dose changes the account between its steps.
const maxBookAttempts = 4

// Book takes a seat for one beneficiary and dose, rescheduling an existing
// appointment for that dose. It runs ordered steps, each one script on one
// slot, so that a crash between any two leaves no seat sold twice:
//
//  1. Read (one round trip) the beneficiary, the existing appointment for the
//     dose with its generation, and the session; check age
//     (dialog.ErrAgeNotEligible), the slot and existence (dialog.ErrNotFound).
//  2. On the session's slot: keep the seat this beneficiary already holds
//     there (same appointment id, new hold token), or take a free one
//     (dialog.ErrFullyBooked when none) and record the holder.
//  3. On the account's slot: write the appointment if the generation read in
//     step 1 is unchanged, getting the previous appointment for that dose.
//     Otherwise another booking or cancel for this person ran in between
//     (and may have released the hold step 2 kept): start again at step 1.
//  4. If the previous appointment was in another session, release its hold
//     there (only the hold that appointment made).
//
// A crash after 2 leaves a hold without an appointment: a retry of the same
// booking finds and keeps it, and Repair frees it otherwise. A crash after 3
// leaves the old session's hold: Repair frees it. Seats are never
// over-counted, only briefly under-used. After maxBookAttempts conflicts it
// returns an error wrapping dialog.ErrConflict.
func (s *Store) Book(ctx context.Context, r dialog.BookRequest) (dialog.Appointment, error) {
	if err := checkMsisdn(r.Msisdn); err != nil {
		return dialog.Appointment{}, err
	}
	if r.Dose != 1 && r.Dose != 2 {
		return dialog.Appointment{}, fmt.Errorf("store: book: dose %d: want 1 or 2", r.Dose)
	}
	if !tagSafe(r.Beneficiary) || strings.ContainsAny(r.Beneficiary, "|:") {
		return dialog.Appointment{}, fmt.Errorf("store: book: beneficiary: %w", dialog.ErrNotFound)
	}
	if !tagSafe(r.SessionID) {
		return dialog.Appointment{}, fmt.Errorf("store: book: session: %w", dialog.ErrNotFound)
	}
	for attempt := 1; ; attempt++ {
		a, hold, err := s.bookOnce(ctx, r)
		if !errors.Is(err, errBookConflict) {
			return a, err
		}
		if attempt == maxBookAttempts {
			if hold.fresh {
				// Nobody else knows this hold unless they took it over
				// (then its token differs and this is a no-op).
				_, _ = s.releaseSeat(ctx, r.SessionID, hold.field, hold.id, hold.token)
			}
			return dialog.Appointment{}, fmt.Errorf("store: book: %d attempts: %w", attempt, dialog.ErrConflict)
		}
		// Two turns for one person are racing: let one of them through.
		select {
		case <-ctx.Done():
			return dialog.Appointment{}, wrap("book", ctx.Err())
		case <-time.After(time.Duration(mrand.IntN(attempt*1000)) * time.Microsecond):
		}
	}
}

// errBookConflict is bookOnce's signal to start again.
var errBookConflict = errors.New("store: book: account changed between steps")

// heldSeat is what booking step 2 produced.
type heldSeat struct {
	field, id, token string
	fresh            bool // a new seat, not one already held
}

func (s *Store) bookOnce(ctx context.Context, r dialog.BookRequest) (dialog.Appointment, heldSeat, error) {
	field := apptField(r.Beneficiary, r.Dose)
	hold := heldSeat{field: field}

	// Step 1.
	p := s.rdb.Pipeline()
	benCmd := p.HGet(ctx, benKey(r.Msisdn), r.Beneficiary)
	prevCmd := p.HGet(ctx, apptKey(r.Msisdn), field)
	genCmd := p.HGet(ctx, apptGenKey(r.Msisdn), field)
	sessCmd := p.HGet(ctx, seatsKey(r.SessionID), "s")
	if err := s.execPipe(ctx, p); err != nil {
		return dialog.Appointment{}, hold, wrap("book: read", err)
	}
	if benCmd.Err() != nil {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: beneficiary: %w", dialog.ErrNotFound)
	}
	if sessCmd.Err() != nil {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: session: %w", dialog.ErrNotFound)
	}
	var ben benRecord
	if err := json.Unmarshal([]byte(benCmd.Val()), &ben); err != nil {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: beneficiary: %w", err)
	}
	var sess dialog.Session
	if err := json.Unmarshal([]byte(sessCmd.Val()), &sess); err != nil {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: session: %w", err)
	}
	if !sess.AgeFits(sess.Date.Year() - ben.BirthYear) {
		return dialog.Appointment{}, hold, dialog.ErrAgeNotEligible
	}
	if len(sess.Slots) > 0 && !slices.Contains(sess.Slots, r.Slot) {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: slot %q: %w", r.Slot, dialog.ErrNotFound)
	}
	var existing *apptRecord
	if prevCmd.Err() == nil {
		existing = new(apptRecord)
		if err := json.Unmarshal([]byte(prevCmd.Val()), existing); err != nil {
			return dialog.Appointment{}, hold, fmt.Errorf("store: book: appointment: %w", err)
		}
	}
	gen, _ := strconv.ParseInt(genCmd.Val(), 10, 64)

	// Step 2.
	now := s.now()
	hold.token = newToken()
	status, id, err := s.takeSeat(ctx, r.SessionID, field, r.Dose, newAppointmentID(), r.Msisdn, hold.token, now.UnixMilli())
	if err != nil {
		return dialog.Appointment{}, hold, err
	}
	switch status {
	case -1:
		return dialog.Appointment{}, hold, dialog.ErrFullyBooked
	case -2:
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: session: %w", dialog.ErrNotFound)
	case -3:
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: hold belongs to another account: %w", dialog.ErrNotFound)
	}
	hold.id, hold.fresh = id, status == 0
	rec := apptRecord{
		Appointment: dialog.Appointment{
			ID:          id,
			Code:        randDigits(4, false),
			Beneficiary: r.Beneficiary,
			Msisdn:      r.Msisdn,
			SessionID:   r.SessionID,
			CentreID:    sess.CentreID,
			Date:        sess.Date,
			Slot:        r.Slot,
			Dose:        r.Dose,
			Booked:      now,
		},
		Hold: hold.token,
	}
	if existing != nil && existing.SessionID == r.SessionID && existing.ID == id {
		rec.Code = existing.Code // same seat, new slot: the slip stays valid
	}

	// Step 3.
	js, err := json.Marshal(rec)
	if err != nil {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: %w", err)
	}
	keys, counted := s.withCounter([]string{apptKey(r.Msisdn), apptGenKey(r.Msisdn)}, statAppointments)
	res, err := s.run(ctx, scriptApptPut, keys, field, js, gen).Slice()
	if err != nil {
		// Unknown outcome: the hold stays; a retry keeps it, Repair frees it.
		return dialog.Appointment{}, hold, wrap("book: write appointment", err)
	}
	if len(res) != 2 {
		return dialog.Appointment{}, hold, fmt.Errorf("store: book: write appointment: unexpected reply %v", res)
	}
	if ok, _ := res[0].(int64); ok != 1 {
		return dialog.Appointment{}, hold, errBookConflict
	}
	prevJS, _ := res[1].(string)

	// Step 4. Errors past this point leave the booking made and at worst an
	// old hold that Repair frees, so they are not reported to the caller.
	if prevJS == "" {
		if !counted {
			_ = s.rdb.Incr(ctx, statAppointments).Err()
		}
		return rec.Appointment, hold, nil
	}
	var prev apptRecord
	if err := json.Unmarshal([]byte(prevJS), &prev); err == nil && prev.SessionID != r.SessionID {
		_, _ = s.releaseSeat(ctx, prev.SessionID, field, prev.ID, prev.Hold)
	}
	return rec.Appointment, hold, nil
}

// takeSeat runs booking step 2 (seat_take.lua). It returns the script's
// status and the appointment id that owns the seat.
func (s *Store) takeSeat(ctx context.Context, sid, field string, dose int, apptID, msisdn, token string, nowMs int64) (int64, string, error) {
	res, err := s.run(ctx, scriptSeatTake, []string{seatsKey(sid), holdKey(sid)},
		field, dose, apptID, msisdn, token, nowMs).Slice()
	if err != nil {
		return 0, "", wrap("book: take seat", err)
	}
	if len(res) != 2 {
		return 0, "", fmt.Errorf("store: book: take seat: unexpected reply %v", res)
	}
	status, _ := res[0].(int64)
	id, _ := res[1].(string)
	return status, id, nil
}

// releaseSeat frees the hold that appointment apptID (with hold token)
// made in session sid, if it is still there.
func (s *Store) releaseSeat(ctx context.Context, sid, field, apptID, token string) (bool, error) {
	n, err := s.run(ctx, scriptSeatRelease, []string{seatsKey(sid), holdKey(sid)},
		field, "appt", apptID, token).Int64()
	if err != nil {
		return false, wrap("release seat", err)
	}
	return n == 1, nil
}

// Cancel removes the beneficiary's appointment for a dose (one script on the
// account's slot) and then frees its seat (one on the session's slot).
// dialog.ErrNotFound when there is none. A crash between the two leaves a
// hold without an appointment, which Repair frees.
func (s *Store) Cancel(ctx context.Context, msisdn, beneficiary string, dose int) error {
	if err := checkMsisdn(msisdn); err != nil {
		return err
	}
	field := apptField(beneficiary, dose)
	js, err := s.run(ctx, scriptApptTake, []string{apptKey(msisdn), apptGenKey(msisdn)}, field).Text()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("store: cancel: appointment: %w", dialog.ErrNotFound)
	}
	if err != nil {
		return wrap("cancel", err)
	}
	var a apptRecord
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		return fmt.Errorf("store: cancel: %w", err)
	}
	// The appointment is gone: from here on, a failure only leaves a hold
	// for Repair, so it is not the caller's error.
	_, _ = s.releaseSeat(ctx, a.SessionID, field, a.ID, a.Hold)
	_ = s.rdb.Decr(ctx, statAppointments).Err()
	return nil
}

// repairBatch is how many sessions, or holds of one session, Repair reads
// per round trip.
const repairBatch = 500

// Repair frees seat holds that no appointment owns, and returns how many.
//
// It mends the crashes that the ordered steps of Book and Cancel can leave:
// a process that died after taking a seat (Book step 2) but before writing
// the appointment (step 3) and was never retried; one that died after moving
// an appointment to another session (step 3) but before releasing the old
// seat (step 4); and one that died after removing an appointment (Cancel)
// but before releasing its seat. In each case a holder in ts:hold:{sid}
// names an account whose ts:appt field for that beneficiary and dose is
// missing or points to another session or appointment id.
//
// For each such hold older than Config.RepairGrace (younger ones may belong
// to a booking in progress) it first fences the account's field — bumps its
// generation if the field is still what Repair read, so that a booking that
// stalled between its steps 1 and 3 fails and starts again — and then frees
// the seat only if the holder is still exactly the value read (a booking
// retried meanwhile refreshes it, and keeps it). Repair may run at any time,
// from any process, concurrently with bookings and with itself.
func (s *Store) Repair(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.cfg.RepairGrace).UnixMilli()
	fixed := 0
	var cursor uint64
	for {
		sids, next, err := s.rdb.SScan(ctx, statSessions, cursor, "", repairBatch).Result()
		if err != nil {
			return fixed, wrap("repair: scan sessions", err)
		}
		n, err := s.repairSessions(ctx, sids, cutoff)
		fixed += n
		if err != nil {
			return fixed, err
		}
		cursor = next
		if cursor == 0 {
			return fixed, nil
		}
	}
}

func (s *Store) repairSessions(ctx context.Context, sids []string, cutoffMs int64) (int, error) {
	fixed := 0
	for _, sid := range sids {
		// A session's holds are read a batch at a time: a session with
		// many bookings must not be loaded whole into memory each pass.
		var cursor uint64
		for {
			kv, next, err := s.rdb.HScan(ctx, holdKey(sid), cursor, "", repairBatch).Result()
			if err != nil {
				return fixed, wrap("repair: read holds", err)
			}
			holds := make(map[string]string, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				holds[kv[i]] = kv[i+1]
			}
			n, err := s.repairHolds(ctx, sid, holds, cutoffMs)
			fixed += n
			if err != nil {
				return fixed, err
			}
			cursor = next
			if cursor == 0 {
				break
			}
		}
	}
	return fixed, nil
}

// repairHolds frees the orphaned holds among some of one session's holds
// (field → holder value). A hold seen twice (HSCAN may repeat one) is
// harmless: fencing and freeing both check the value read.
func (s *Store) repairHolds(ctx context.Context, sid string, holds map[string]string, cutoffMs int64) (int, error) {
	type cand struct {
		sid, field, value string
		h                 holder
		appt              *redis.StringCmd
	}
	var cands []*cand
	p := s.rdb.Pipeline()
	for field, value := range holds {
		h, ok := parseHolder(value)
		if !ok || h.heldMs > cutoffMs {
			continue
		}
		c := &cand{sid: sid, field: field, value: value, h: h}
		c.appt = p.HGet(ctx, apptKey(h.msisdn), field)
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return 0, nil
	}
	if err := s.execPipe(ctx, p); err != nil {
		return 0, wrap("repair: read appointments", err)
	}
	// Orphans: no appointment, or one for another session or seat.
	var orphans []*cand
	var fences []scriptCall
	for _, c := range cands {
		if c.appt.Err() == nil {
			var a apptRecord
			if json.Unmarshal([]byte(c.appt.Val()), &a) == nil && a.SessionID == c.sid && a.ID == c.h.apptID {
				continue // owned
			}
		}
		orphans = append(orphans, c)
		fences = append(fences, scriptCall{scriptApptFence,
			[]string{apptKey(c.h.msisdn), apptGenKey(c.h.msisdn)}, []any{c.field, c.appt.Val()}})
	}
	cmds, err := s.runScripts(ctx, fences)
	if err != nil {
		return 0, wrap("repair: fence", err)
	}
	var releases []scriptCall
	for i, c := range orphans {
		if n, _ := cmds[i].Int64(); n == 1 {
			releases = append(releases, scriptCall{scriptSeatRelease,
				[]string{seatsKey(c.sid), holdKey(c.sid)}, []any{c.field, "exact", c.value}})
		}
	}
	cmds, err = s.runScripts(ctx, releases)
	fixed := 0
	for _, c := range cmds {
		if n, _ := c.Int64(); n == 1 {
			fixed++
		}
	}
	return fixed, wrap("repair: release", err)
}
