package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The surge queue: new callers that admission control turns away wait
// here, fleet-wide, in order of arrival, one place per number; gateways
// with room invite the next ones, and an invited caller who dials within
// the invitation's lifetime is let in ahead of new callers. Every key is
// on the {queue} slot, so that each step is one script: no caller is
// invited twice, whatever number of gateways share the Redis.

var (
	scriptQueueArrive = mustScript("queue_arrive")
	scriptQueueInvite = mustScript("queue_invite")
)

var queueKeys = []string{
	"ts:q:wait:{queue}",    // zset number → arrival sequence
	"ts:q:seq:{queue}",     // arrival counter
	"ts:q:at:{queue}",      // hash number → arrival time (ms)
	"ts:q:inv:{queue}",     // zset number → invitation expiry (ms)
	"ts:q:by:{queue}",      // hash number → the gateway that invited it
	"ts:q:settled:{queue}", // hash gateway → its invitations used or expired since it last asked
	"ts:q:totals:{queue}",  // hash: invited, used, expired
}

// QueueArrive takes a new caller who finds no room, others waiting, or
// invitations out. It returns 0 when msisdn holds a live invitation, which
// this uses up (let them in). Otherwise, with join, their place in the
// queue, 1 first: a caller already waiting keeps their place, a new one
// joins at the end; without join (the gateway has room and nobody
// waits), -1.
func (s *Store) QueueArrive(ctx context.Context, msisdn string, join bool) (int, error) {
	if err := checkMsisdn(msisdn); err != nil {
		return 0, err
	}
	flag := "0"
	if join {
		flag = "1"
	}
	pos, err := s.run(ctx, scriptQueueArrive, queueKeys, msisdn, s.now().UnixMilli(), flag).Int()
	if err != nil {
		return 0, wrap("queue arrive", err)
	}
	return pos, nil
}

// Invitee is a caller whose turn has come.
type Invitee struct {
	Msisdn string
	Lang   string        // the caller's remembered language ("" when none)
	Waited time.Duration // from joining the queue to the invitation
}

// InviteRound is what one gateway's call of QueueInvite did.
type InviteRound struct {
	Invited []Invitee
	// Settled counts this gateway's earlier invitations used or expired
	// since its last call: the room it held for them is free again.
	Settled     int
	Expired     int   // invitations this call found expired, whoever sent them
	Waiting     int   // callers still waiting
	Outstanding int   // the fleet's invitations not yet used nor expired
	Total       int64 // invitations the fleet has sent, ever
}

// QueueInvite expires unused invitations, tells gateway (a name unique to
// the process) which of its own were used or expired since its last call,
// then invites up to n callers (none when n <= 0) in order of arrival for
// ttl on its behalf, and reads their languages for the SMS.
func (s *Store) QueueInvite(ctx context.Context, gateway string, n int, ttl time.Duration) (InviteRound, error) {
	var r InviteRound
	now := s.now()
	res, err := s.run(ctx, scriptQueueInvite, queueKeys, gateway, n, now.UnixMilli(), ttl.Milliseconds()).Slice()
	if err != nil {
		return r, wrap("queue invite", err)
	}
	if len(res) < 5 || len(res)%2 != 1 {
		return r, fmt.Errorf("store: queue invite: %d values returned", len(res))
	}
	r.Settled, r.Waiting, r.Expired = int(res[0].(int64)), int(res[1].(int64)), int(res[2].(int64))
	r.Total, r.Outstanding = res[3].(int64), int(res[4].(int64))
	for i := 5; i < len(res); i += 2 {
		m, _ := res[i].(string)
		at, _ := res[i+1].(string)
		ms, _ := strconv.ParseInt(at, 10, 64)
		r.Invited = append(r.Invited, Invitee{Msisdn: m, Waited: max(0, now.Sub(time.UnixMilli(ms)))})
	}
	if len(r.Invited) == 0 {
		return r, nil
	}
	p := s.rdb.Pipeline()
	langs := make([]*redis.StringCmd, len(r.Invited))
	for i, inv := range r.Invited {
		langs[i] = p.Get(ctx, langKey(inv.Msisdn))
	}
	if err := s.execPipe(ctx, p); err != nil {
		// The invitations stand: an SMS in English beats none.
		return r, wrap("queue invite: languages", err)
	}
	for i := range r.Invited {
		r.Invited[i].Lang = langs[i].Val()
	}
	return r, nil
}

// QueueStats is the fleet's queue as Redis holds it.
type QueueStats struct {
	Waiting    int64         `json:"waiting"`       // callers waiting for an invitation
	Invited    int64         `json:"invited"`       // invitations not yet used nor expired
	OldestWait time.Duration `json:"-"`             // how long the first caller has waited
	OldestS    float64       `json:"oldest_wait_s"` // the same, in seconds
	// Totals since the queue began.
	InvitedTotal int64 `json:"invited_total"`
	Used         int64 `json:"used_total"`
	Expired      int64 `json:"expired_total"`
}

// QueueStats reads the queue's state.
func (s *Store) QueueStats(ctx context.Context) (QueueStats, error) {
	var st QueueStats
	p := s.rdb.Pipeline()
	waiting := p.ZCard(ctx, queueKeys[0])
	first := p.ZRange(ctx, queueKeys[0], 0, 0)
	invited := p.ZCard(ctx, queueKeys[3])
	totals := p.HMGet(ctx, queueKeys[6], "invited", "used", "expired")
	if err := s.execPipe(ctx, p); err != nil {
		return st, wrap("queue stats", err)
	}
	st.Waiting, st.Invited = waiting.Val(), invited.Val()
	count := func(v any) int64 {
		n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64) // nil (never counted) reads 0
		return n
	}
	t := totals.Val()
	st.InvitedTotal, st.Used, st.Expired = count(t[0]), count(t[1]), count(t[2])
	if f := first.Val(); len(f) == 1 {
		at, err := s.rdb.HGet(ctx, queueKeys[2], f[0]).Int64()
		if err == nil {
			st.OldestWait = max(0, s.now().Sub(time.UnixMilli(at)))
		}
	}
	st.OldestS = st.OldestWait.Seconds()
	return st, nil
}
