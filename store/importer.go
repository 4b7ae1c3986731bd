package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// ImportResult counts what an import did.
type ImportResult struct {
	Centres         int `json:"centres"`          // centres in the input (after merging duplicates)
	Sessions        int `json:"sessions"`         // sessions in the input
	NewCentres      int `json:"new_centres"`      // centres not known before
	ChangedCentres  int `json:"changed_centres"`  // known centres whose stored data changed
	NewSessions     int `json:"new_sessions"`     // sessions not known before
	UpdatedSessions int `json:"updated_sessions"` // known sessions whose capacity or data changed
}

// importBatch is how many centres ImportCentres writes per round trip.
const importBatch = 200

// ImportCentres loads centres and their sessions (as parsed from Co-WIN
// calendar JSON). It is idempotent: importing the same data again writes
// nothing. For each session it sets the imported capacity in
// ts:seats:{sid} keeping the seats held by appointments (free = max(0,
// imported − held)). A centre already stored keeps the sessions of earlier
// imports that the new data lacks (a calendar for a later week must not drop
// booked sessions); for a session in both, the new data wins. Writes go in
// order sessions → centre → PIN index, so a centre found by PIN always has
// its seats.
func (s *Store) ImportCentres(ctx context.Context, centres []dialog.Centre) (ImportResult, error) {
	var res ImportResult
	merged, err := normaliseCentres(centres)
	if err != nil {
		return res, err
	}
	res.Centres = len(merged)
	for start := 0; start < len(merged); start += importBatch {
		batch := merged[start:min(start+importBatch, len(merged))]
		if err := s.importBatch(ctx, batch, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// normaliseCentres checks ids, merges centres listed twice (later wins per
// session), fixes each session's CentreID, clamps negative capacity and
// sorts sessions by date then id.
func normaliseCentres(in []dialog.Centre) ([]dialog.Centre, error) {
	idx := map[int64]int{}
	var out []dialog.Centre
	for _, c := range in {
		if c.ID <= 0 {
			return nil, fmt.Errorf("store: import: centre %q: invalid id %d", c.Name, c.ID)
		}
		if !tagSafe(c.Pincode) {
			return nil, fmt.Errorf("store: import: centre %d: invalid pincode %q", c.ID, c.Pincode)
		}
		c.Sessions = slices.Clone(c.Sessions)
		for i := range c.Sessions {
			ss := &c.Sessions[i]
			if !tagSafe(ss.ID) {
				return nil, fmt.Errorf("store: import: centre %d: invalid session id %q", c.ID, ss.ID)
			}
			ss.CentreID = c.ID
			for d := range ss.Capacity {
				ss.Capacity[d] = max(0, ss.Capacity[d])
			}
		}
		if j, ok := idx[c.ID]; ok {
			out[j] = mergeCentre(out[j], c)
			continue
		}
		c.Sessions = mergeSessions(nil, c.Sessions)
		idx[c.ID] = len(out)
		out = append(out, c)
	}
	return out, nil
}

// mergeCentre returns newer's fields with the union of both session lists.
func mergeCentre(older, newer dialog.Centre) dialog.Centre {
	newer.Sessions = mergeSessions(older.Sessions, newer.Sessions)
	return newer
}

func mergeSessions(older, newer []dialog.Session) []dialog.Session {
	byID := make(map[string]dialog.Session, len(older)+len(newer))
	for _, ss := range older {
		byID[ss.ID] = ss
	}
	for _, ss := range newer {
		byID[ss.ID] = ss
	}
	out := make([]dialog.Session, 0, len(byID))
	for _, ss := range byID {
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b dialog.Session) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ID, b.ID))
	})
	return out
}

func (s *Store) importBatch(ctx context.Context, batch []dialog.Centre, res *ImportResult) error {
	// Sessions: one script per session, pipelined.
	var calls []scriptCall
	var sids []any
	for _, c := range batch {
		for _, ss := range c.Sessions {
			js, err := json.Marshal(ss)
			if err != nil {
				return fmt.Errorf("store: import: session %s: %w", ss.ID, err)
			}
			calls = append(calls, scriptCall{scriptSeatImport, []string{seatsKey(ss.ID)},
				[]any{ss.Capacity[0], ss.Capacity[1], js}})
			sids = append(sids, ss.ID)
		}
	}
	res.Sessions += len(calls)
	cmds, err := s.runScripts(ctx, calls)
	if err != nil {
		return wrap("import: sessions", err)
	}
	for _, c := range cmds {
		switch n, _ := c.Int64(); n {
		case 1:
			res.NewSessions++
		case 2:
			res.UpdatedSessions++
		}
	}

	// Centres: read, merge, compare-and-set; retry a centre that changed
	// under us.
	pending := slices.Clone(batch)
	oldPins := map[int64]string{}
	for round := 0; len(pending) > 0; round++ {
		if round == 10 {
			return errors.New("store: import: centres keep changing concurrently")
		}
		p := s.rdb.Pipeline()
		gets := make([]*redis.StringCmd, len(pending))
		for i, c := range pending {
			gets[i] = p.Get(ctx, centreKey(c.ID))
		}
		if err := s.execPipe(ctx, p); err != nil {
			return wrap("import: read centres", err)
		}
		var calls []scriptCall
		var writing []dialog.Centre
		for i, c := range pending {
			old := gets[i].Val()
			merged := c
			if old != "" {
				var prev dialog.Centre
				if err := json.Unmarshal([]byte(old), &prev); err != nil {
					return fmt.Errorf("store: import: stored centre %d: %w", c.ID, err)
				}
				merged = mergeCentre(prev, c)
				if prev.Pincode != c.Pincode {
					oldPins[c.ID] = prev.Pincode
				}
			}
			js, err := json.Marshal(merged)
			if err != nil {
				return fmt.Errorf("store: import: centre %d: %w", c.ID, err)
			}
			if bytes.Equal(js, []byte(old)) {
				continue
			}
			calls = append(calls, scriptCall{scriptSetIfEquals, []string{centreKey(c.ID)}, []any{old, js}})
			writing = append(writing, c)
			if round == 0 {
				if old == "" {
					res.NewCentres++
				} else {
					res.ChangedCentres++
				}
			}
		}
		cmds, err := s.runScripts(ctx, calls)
		if err != nil {
			return wrap("import: write centres", err)
		}
		pending = pending[:0]
		for i, c := range cmds {
			if n, _ := c.Int64(); n != 1 {
				pending = append(pending, writing[i])
			}
		}
	}

	// Indexes.
	p := s.rdb.Pipeline()
	cids := make([]any, 0, len(batch))
	for _, c := range batch {
		if old, ok := oldPins[c.ID]; ok && tagSafe(old) {
			p.SRem(ctx, pinKey(old), c.ID)
		}
		p.SAdd(ctx, pinKey(c.Pincode), c.ID)
		cids = append(cids, strconv.FormatInt(c.ID, 10))
	}
	p.SAdd(ctx, statCentres, cids...)
	if len(sids) > 0 {
		p.SAdd(ctx, statSessions, sids...)
	}
	if err := s.execPipe(ctx, p); err != nil {
		return wrap("import: index", err)
	}
	return nil
}
