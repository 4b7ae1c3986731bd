package store

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// statsBatch is how many sessions Stats sums per round trip.
const statsBatch = 1000

// Stats returns registry counts: centres and sessions imported,
// beneficiaries registered, appointments held (counters kept by
// AddBeneficiary, Book and Cancel) and free seats summed over all sessions
// (pipelined HMGET per batch of sessions).
func (s *Store) Stats(ctx context.Context) (dialog.Stats, error) {
	var st dialog.Stats
	p := s.rdb.Pipeline()
	centres := p.SCard(ctx, statCentres)
	sessions := p.SCard(ctx, statSessions)
	bens := p.Get(ctx, statBeneficiaries)
	appts := p.Get(ctx, statAppointments)
	if err := s.execPipe(ctx, p); err != nil {
		return st, wrap("stats", err)
	}
	st.Centres = centres.Val()
	st.Sessions = sessions.Val()
	st.Beneficiaries, _ = strconv.ParseInt(bens.Val(), 10, 64)
	st.Appointments, _ = strconv.ParseInt(appts.Val(), 10, 64)

	seen := map[string]bool{} // SSCAN may return an id twice
	var cursor uint64
	for {
		sids, next, err := s.rdb.SScan(ctx, statSessions, cursor, "", statsBatch).Result()
		if err != nil {
			return st, wrap("stats: scan sessions", err)
		}
		p := s.rdb.Pipeline()
		var cmds []*redis.SliceCmd
		for _, sid := range sids {
			if seen[sid] {
				continue
			}
			seen[sid] = true
			cmds = append(cmds, p.HMGet(ctx, seatsKey(sid), "d1", "d2"))
		}
		if len(cmds) > 0 {
			if err := s.execPipe(ctx, p); err != nil {
				return st, wrap("stats: seats", err)
			}
		}
		for _, c := range cmds {
			v := c.Val()
			st.SeatsFree += int64(atoi(v[0]) + atoi(v[1]))
		}
		cursor = next
		if cursor == 0 {
			break
		}
	}
	q, err := s.SMSQueue(ctx)
	if err != nil {
		return st, err
	}
	st.SMSQueued, st.SMSOldest = q.Depth, q.Oldest.Seconds()
	return st, nil
}
