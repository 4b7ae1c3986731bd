package store

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// The outbound SMS queue. A turn's SMS are kept in the caller's slot
// (ts:smsbox:{m}, ref → sealed JSON), written by the turn's save in the same
// script as the conversation, and listed by ref and masked caller in one of
// smsShards sorted sets by the time they are due, with their queueing
// time beside it (for the oldest one's age), due one lease later. Payloads
// are sealed (AES-GCM) like ID numbers, as they hold numbers and codes. On
// one Redis the save's script writes the listing too. A Redis Cluster cannot
// write both slots in one step, so there the listing is written first: if
// the save then lands, the SMS is delivered at the latest when that lease
// runs out, by whichever gateway claims it; if it does not land, the
// claimant finds no payload and drops the listing. The gateway that saved
// sends the SMS at once, within that lease.

// smsShards spreads the queue over slots, so that a Redis Cluster shares
// its load.
const smsShards = 8

func smsQueueKey(shard int) string { return "ts:smsq:{smsq" + strconv.Itoa(shard) + "}" }
func smsAgeKey(shard int) string   { return "ts:smsage:{smsq" + strconv.Itoa(shard) + "}" }

// smsBoxTTL outlives every payload's lifetime, so a box never expires
// under an SMS still being tried.
func (s *Store) smsBoxTTL() time.Duration { return s.cfg.SlipLifetime + time.Hour }

// QueuedSMS is one SMS of the outbound queue.
type QueuedSMS struct {
	dialog.SMS
	Caller  string    // whose turn produced it: the slot it is kept in
	Queued  time.Time // when its turn saved it
	Expires time.Time // when it is given up
	Tries   int       // failed attempts so far
	member  string
	shard   int
}

// smsPayload is how a QueuedSMS rests in the caller's box.
type smsPayload struct {
	To      string `json:"to"`
	Text    string `json:"text"`
	Kind    string `json:"kind,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Queued  int64  `json:"at"`  // ms
	Expires int64  `json:"exp"` // ms
}

// Queued describes sms, produced by caller's turn at the store's now, as
// the queue holds it once the turn's save lands.
func (s *Store) Queued(caller string, sms dialog.SMS) QueuedSMS {
	now := s.now()
	life := s.cfg.SlipLifetime
	if strings.HasPrefix(sms.Ref, dialog.OTPRefPrefix) {
		life = s.cfg.OTPValidity // a code is no use after it expires
	}
	member := s.smsMember(caller, sms.Ref)
	return QueuedSMS{SMS: sms, Caller: caller, Queued: now, Expires: now.Add(life), member: member, shard: smsShard(member)}
}

func smsShard(member string) int {
	h := fnv.New32a()
	h.Write([]byte(member))
	return int(h.Sum32() % smsShards)
}

// smsDue is when a listing written now is due: a lease from now, so that
// nobody claims the SMS while the saving gateway sends them.
func (s *Store) smsDue() int64 { return s.now().Add(s.cfg.SMSLease).UnixMilli() }

// listSMS writes the listing of a turn's SMS ahead of its save.
func (s *Store) listSMS(ctx context.Context, qs []QueuedSMS) error {
	p := s.rdb.Pipeline()
	due := float64(s.smsDue())
	for _, q := range qs {
		p.ZAddNX(ctx, smsQueueKey(q.shard), redis.Z{Score: due, Member: q.member})
		p.ZAddNX(ctx, smsAgeKey(q.shard), redis.Z{Score: float64(q.Queued.UnixMilli()), Member: q.member})
	}
	if _, err := s.exec(ctx, p); err != nil {
		return wrap("list sms", err)
	}
	return nil
}

// sealSMS seals the payload of each of qs as it rests in the caller's box:
// it holds a number and may hold a code.
func (s *Store) sealSMS(qs []QueuedSMS) ([]string, error) {
	out := make([]string, len(qs))
	for i, q := range qs {
		js, err := json.Marshal(smsPayload{To: q.To, Text: q.Text, Kind: q.Kind, Lang: q.Lang, Queued: q.Queued.UnixMilli(), Expires: q.Expires.UnixMilli()})
		if err != nil {
			return nil, fmt.Errorf("store: save sms: %w", err)
		}
		if out[i], err = s.sealer.Seal(string(js)); err != nil {
			return nil, fmt.Errorf("store: save sms: %w", err)
		}
	}
	return out, nil
}

// EnqueueSMS queues SMS that no turn produced (an invitation, an alert, a
// hand-off) for caller's number, as a turn's save would: listed first, due
// one lease later, then kept in the caller's box. The caller hands them to
// the dispatcher (Deliver) to send them at once; if this process dies
// first, another gateway claims them when the lease runs out.
func (s *Store) EnqueueSMS(ctx context.Context, caller string, sms ...dialog.SMS) error {
	if len(sms) == 0 {
		return nil
	}
	if err := checkMsisdn(caller); err != nil {
		return err
	}
	queued := make([]QueuedSMS, len(sms))
	for i, m := range sms {
		queued[i] = s.Queued(caller, m)
	}
	if err := s.listSMS(ctx, queued); err != nil {
		return err
	}
	sealed, err := s.sealSMS(queued)
	if err != nil {
		return err
	}
	args := make([]any, 0, 2*len(queued))
	for i, q := range queued {
		args = append(args, q.Ref, sealed[i])
	}
	p := s.rdb.TxPipeline()
	p.HSet(ctx, smsBoxKey(caller), args...)
	p.PExpire(ctx, smsBoxKey(caller), s.smsBoxTTL())
	if _, err := p.Exec(ctx); err != nil {
		return wrap("enqueue sms", err)
	}
	return nil
}

// openSMS reads a sealed payload ("" when absent or unreadable).
func (s *Store) openSMS(sealed string) (smsPayload, bool) {
	var pl smsPayload
	if sealed == "" {
		return pl, false
	}
	js, err := s.sealer.Open(sealed)
	if err != nil || json.Unmarshal([]byte(js), &pl) != nil {
		return pl, false
	}
	return pl, true
}

// ClaimSMS claims up to about n SMS that are due (an even share of n from
// each shard), for one lease.
// A listing whose payload is gone (its turn's save never landed, or it was
// already sent) is dropped on the way. The caller must settle each SMS
// claimed with DropSMS (sent or given up) or RetrySMS, or let the lease
// run out.
func (s *Store) ClaimSMS(ctx context.Context, n int) ([]QueuedSMS, error) {
	if n <= 0 {
		return nil, nil
	}
	now := s.now()
	share := (n + smsShards - 1) / smsShards
	calls := make([]scriptCall, smsShards)
	for k := range calls {
		calls[k] = scriptCall{script: scriptSMSClaim, keys: []string{smsQueueKey(k)},
			args: []any{now.UnixMilli(), s.cfg.SMSLease.Milliseconds(), share}}
	}
	cmds, err := s.runScripts(ctx, calls)
	if err != nil {
		return nil, wrap("claim sms", err)
	}
	var claimed, bad []QueuedSMS
	for k, c := range cmds {
		members, _ := c.StringSlice()
		for _, m := range members {
			caller, ref, ok := s.smsCaller(m)
			if !ok { // listed under another secret: nobody can send it
				bad = append(bad, QueuedSMS{member: m, shard: k})
				continue
			}
			claimed = append(claimed, QueuedSMS{SMS: dialog.SMS{Ref: ref}, Caller: caller, member: m, shard: k})
		}
	}
	if len(bad) > 0 {
		if err := s.DropSMS(ctx, bad...); err != nil {
			return nil, err
		}
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	p := s.rdb.Pipeline()
	got := make([]*redis.SliceCmd, len(claimed))
	for i, q := range claimed {
		got[i] = p.HMGet(ctx, smsBoxKey(q.Caller), q.Ref, triesField(q.Ref))
	}
	if err := s.execPipe(ctx, p); err != nil {
		return nil, wrap("claim sms: payloads", err)
	}
	out := claimed[:0]
	var gone []QueuedSMS
	for i, q := range claimed {
		v := got[i].Val()
		sealed, _ := v[0].(string)
		pl, ok := s.openSMS(sealed)
		if !ok { // never saved, already sent, or sealed under another secret
			gone = append(gone, q)
			continue
		}
		q.To, q.Text, q.Kind, q.Lang = pl.To, pl.Text, pl.Kind, pl.Lang
		q.Queued, q.Expires = time.UnixMilli(pl.Queued), time.UnixMilli(pl.Expires)
		if t, ok := v[1].(string); ok {
			q.Tries, _ = strconv.Atoi(t)
		}
		out = append(out, q)
	}
	if len(gone) > 0 {
		if err := s.DropSMS(ctx, gone...); err != nil {
			return out, err
		}
	}
	return out, nil
}

func triesField(ref string) string { return "#" + ref }

// DropSMS removes SMS from the queue for good: sent, expired or refused,
// payloads and listings in one round trip. A listing left behind by a
// failure is dropped by the next claim; a payload left behind expires with
// its box.
func (s *Store) DropSMS(ctx context.Context, qs ...QueuedSMS) error {
	p := s.rdb.Pipeline()
	for _, q := range qs {
		if q.Caller != "" {
			p.HDel(ctx, smsBoxKey(q.Caller), q.Ref, triesField(q.Ref))
		}
		p.ZRem(ctx, smsQueueKey(q.shard), q.member)
		p.ZRem(ctx, smsAgeKey(q.shard), q.member)
	}
	if _, err := s.exec(ctx, p); err != nil {
		return wrap("drop sms", err)
	}
	return nil
}

// RetrySMS records a failed attempt and makes q due again after wait.
// Only a listing still there is moved, so that an SMS another worker
// settled meanwhile is not brought back.
func (s *Store) RetrySMS(ctx context.Context, q QueuedSMS, wait time.Duration) error {
	p := s.rdb.Pipeline()
	p.HSet(ctx, smsBoxKey(q.Caller), triesField(q.Ref), q.Tries+1)
	p.ZAddXX(ctx, smsQueueKey(q.shard), redis.Z{Score: float64(s.now().Add(wait).UnixMilli()), Member: q.member})
	if _, err := s.exec(ctx, p); err != nil {
		return wrap("retry sms", err)
	}
	return nil
}

// SMSQueueStats is the state of the outbound queue.
type SMSQueueStats struct {
	Depth  int64         // SMS not yet sent nor given up
	Oldest time.Duration // age of the oldest of them (0 when none)
}

// SMSQueue reports the queue's depth and the age of its oldest SMS.
func (s *Store) SMSQueue(ctx context.Context) (SMSQueueStats, error) {
	var st SMSQueueStats
	p := s.rdb.Pipeline()
	cards := make([]*redis.IntCmd, smsShards)
	firsts := make([]*redis.ZSliceCmd, smsShards)
	for k := range smsShards {
		cards[k] = p.ZCard(ctx, smsQueueKey(k))
		firsts[k] = p.ZRangeWithScores(ctx, smsAgeKey(k), 0, 0)
	}
	if err := s.execPipe(ctx, p); err != nil {
		return st, wrap("sms queue", err)
	}
	now := s.now().UnixMilli()
	for k := range smsShards {
		st.Depth += cards[k].Val()
		if z := firsts[k].Val(); len(z) == 1 {
			if age := time.Duration(now-int64(z[0].Score)) * time.Millisecond; age > st.Oldest {
				st.Oldest = age
			}
		}
	}
	return st, nil
}
