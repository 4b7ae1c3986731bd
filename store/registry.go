package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// benRecord is a beneficiary as stored in ts:ben:{msisdn}. Seq (registration
// position) is added by the script.
type benRecord struct {
	Seq int `json:"seq,omitempty"`
	dialog.Beneficiary
	IDSealed string `json:"id_sealed"` // AES-GCM sealed normalised number
	IDHash   string `json:"id_hash"`   // keyed hash, as in ts:id:{hash}
}

// AddBeneficiary registers a person on the account msisdn.
//
// Steps: (1) in one round trip, claim the ID (SET ts:id:{hash} msisdn NX) and
// a fresh reference number (SET ts:ref:{ref} msisdn NX); an ID claimed by
// another account is dialog.ErrDuplicateID, one already claimed by this
// account is accepted (a retry after a crash completes). (2) A script on the
// account's slot refuses a full account (dialog.ErrTooManyBeneficiaries; the
// claim is released if this call made it) or an ID already on the account
// (dialog.ErrDuplicateID), else stores the beneficiary with the ID number
// sealed, masked and hashed — never in clear.
func (s *Store) AddBeneficiary(ctx context.Context, msisdn string, b dialog.NewBeneficiary) (dialog.Beneficiary, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return dialog.Beneficiary{}, err
	}
	if b.IDNumber == "" || b.IDType == "" {
		return dialog.Beneficiary{}, errors.New("store: add beneficiary: missing ID")
	}
	if b.Name == "" || !utf8.ValidString(b.Name) {
		return dialog.Beneficiary{}, errors.New("store: add beneficiary: missing name")
	}
	idh := s.IDHash(b.IDType, b.IDNumber)
	sealed, err := s.sealer.Seal(b.IDNumber)
	if err != nil {
		return dialog.Beneficiary{}, err
	}
	rec := benRecord{
		Beneficiary: dialog.Beneficiary{
			Name:      b.Name,
			BirthYear: b.BirthYear,
			Gender:    b.Gender,
			IDType:    b.IDType,
			IDMasked:  dialog.MaskID(b.IDType, b.IDNumber),
			Created:   s.now(),
		},
		IDSealed: sealed,
		IDHash:   idh,
	}
	for attempt := 0; attempt < 5; attempt++ {
		ref := newBeneficiaryRef()
		p := s.rdb.Pipeline()
		idNew := p.SetNX(ctx, idKey(idh), msisdn, 0)
		idHolder := p.Get(ctx, idKey(idh))
		refNew := p.SetNX(ctx, refKey(ref), msisdn, 0)
		if err := s.execPipe(ctx, p); err != nil {
			return dialog.Beneficiary{}, wrap("add beneficiary: claim", err)
		}
		if !idNew.Val() && idHolder.Val() != msisdn {
			if refNew.Val() {
				s.release(ctx, msisdn, refKey(ref))
			}
			return dialog.Beneficiary{}, dialog.ErrDuplicateID
		}
		if !refNew.Val() { // reference number taken: draw another
			if idNew.Val() {
				s.release(ctx, msisdn, idKey(idh))
			}
			continue
		}
		rec.Ref = ref
		js, err := json.Marshal(rec)
		if err != nil {
			return dialog.Beneficiary{}, fmt.Errorf("store: add beneficiary: %w", err)
		}
		keys, counted := s.withCounter([]string{benKey(msisdn)}, statBeneficiaries)
		n, err := s.run(ctx, scriptBenAdd, keys, ref, js, idh, s.cfg.MaxBeneficiaries).Int64()
		if err != nil {
			// Unknown outcome: keep the claims; a retry by this account
			// completes (the ID claim is accepted as ours).
			return dialog.Beneficiary{}, wrap("add beneficiary", err)
		}
		switch n {
		case -1:
			keys := []string{refKey(ref)}
			if idNew.Val() {
				keys = append(keys, idKey(idh))
			}
			s.release(ctx, msisdn, keys...)
			return dialog.Beneficiary{}, dialog.ErrTooManyBeneficiaries
		case -2:
			s.release(ctx, msisdn, refKey(ref))
			return dialog.Beneficiary{}, dialog.ErrDuplicateID
		}
		if !counted {
			if err := s.rdb.Incr(ctx, statBeneficiaries).Err(); err != nil {
				return rec.Beneficiary, wrap("add beneficiary: count", err)
			}
		}
		return rec.Beneficiary, nil
	}
	return dialog.Beneficiary{}, errors.New("store: add beneficiary: no free reference number")
}

// release deletes claim keys that still hold msisdn, best effort (an
// orphaned claim only reserves a number).
func (s *Store) release(ctx context.Context, msisdn string, keys ...string) {
	calls := make([]scriptCall, len(keys))
	for i, k := range keys {
		calls[i] = scriptCall{scriptDelIfEquals, []string{k}, []any{msisdn}}
	}
	_, _ = s.runScripts(ctx, calls)
}

// Account returns the beneficiaries (in registration order) and appointments
// (by beneficiary, then dose) registered under msisdn, in one round trip.
func (s *Store) Account(ctx context.Context, msisdn string) (dialog.Account, error) {
	acc := dialog.Account{Msisdn: msisdn}
	if err := checkMsisdn(msisdn); err != nil {
		return acc, err
	}
	p := s.rdb.Pipeline()
	bens := p.HGetAll(ctx, benKey(msisdn))
	appts := p.HGetAll(ctx, apptKey(msisdn))
	if err := s.execPipe(ctx, p); err != nil {
		return acc, wrap("account", err)
	}
	recs := make([]benRecord, 0, len(bens.Val()))
	for _, v := range bens.Val() {
		var r benRecord
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return acc, fmt.Errorf("store: account: beneficiary: %w", err)
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b benRecord) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.Ref, b.Ref))
	})
	order := map[string]int{}
	for i, r := range recs {
		acc.Beneficiaries = append(acc.Beneficiaries, r.Beneficiary)
		order[r.Ref] = i
	}
	for _, v := range appts.Val() {
		var a apptRecord
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return acc, fmt.Errorf("store: account: appointment: %w", err)
		}
		acc.Appointments = append(acc.Appointments, a.Appointment)
	}
	slices.SortFunc(acc.Appointments, func(a, b dialog.Appointment) int {
		return cmp.Or(cmp.Compare(order[a.Beneficiary], order[b.Beneficiary]),
			strings.Compare(a.Beneficiary, b.Beneficiary), cmp.Compare(a.Dose, b.Dose))
	})
	return acc, nil
}

// CentresByPin returns the centres indexed under a PIN code, ordered by name
// then id: one SMEMBERS, then one pipelined GET per centre (a cluster client
// splits the pipeline by slot).
func (s *Store) CentresByPin(ctx context.Context, pin string) ([]dialog.Centre, error) {
	if !tagSafe(pin) {
		return nil, nil
	}
	ids, err := s.rdb.SMembers(ctx, pinKey(pin)).Result()
	if err != nil {
		return nil, wrap("centres by pin", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, 0, len(ids))
	for _, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		cmds = append(cmds, p.Get(ctx, centreKey(n)))
	}
	if err := s.execPipe(ctx, p); err != nil {
		return nil, wrap("centres by pin", err)
	}
	out := make([]dialog.Centre, 0, len(cmds))
	for _, c := range cmds {
		if c.Err() != nil {
			continue // indexed but gone: skip
		}
		var ct dialog.Centre
		if err := json.Unmarshal([]byte(c.Val()), &ct); err != nil {
			return nil, fmt.Errorf("store: centres by pin: %w", err)
		}
		if ct.Pincode != pin { // moved to another PIN by a later import
			continue
		}
		out = append(out, ct)
	}
	slices.SortFunc(out, func(a, b dialog.Centre) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Centre returns one centre with its sessions (dialog.ErrNotFound).
func (s *Store) Centre(ctx context.Context, id int64) (dialog.Centre, error) {
	var c dialog.Centre
	js, err := s.rdb.Get(ctx, centreKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return c, fmt.Errorf("store: centre %d: %w", id, dialog.ErrNotFound)
	}
	if err != nil {
		return c, wrap("centre", err)
	}
	if err := json.Unmarshal(js, &c); err != nil {
		return c, fmt.Errorf("store: centre %d: %w", id, err)
	}
	return c, nil
}

// Seats returns live seat counts for the sessions, in order, in one
// pipelined round trip. An unknown session has zero seats.
func (s *Store) Seats(ctx context.Context, sessionIDs []string) ([]dialog.Seats, error) {
	out := make([]dialog.Seats, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(sessionIDs))
	for i, sid := range sessionIDs {
		if tagSafe(sid) {
			cmds[i] = p.HMGet(ctx, seatsKey(sid), "d1", "d2", "h1", "h2")
		}
	}
	if err := s.execPipe(ctx, p); err != nil {
		return nil, wrap("seats", err)
	}
	for i, c := range cmds {
		if c == nil {
			continue
		}
		v := c.Val()
		out[i] = dialog.Seats{
			Free:   [2]int{atoi(v[0]), atoi(v[1])},
			Booked: [2]int{atoi(v[2]), atoi(v[3])},
		}
	}
	return out, nil
}

// atoi reads an HMGET value (string or nil) as an int; nil and junk are 0.
func atoi(v any) int {
	s, _ := v.(string)
	n, _ := strconv.Atoi(s)
	return n
}
