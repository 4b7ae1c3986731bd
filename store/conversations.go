package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// A conversation's hash (ts:conv:{m}) holds its version (v) and JSON (j),
// the replies to its recent deliveries (r:<h> for the hashed reply key h, and
// rs, those h oldest first) and when the hash expires (x). The replies share
// the conversation's expiry and outlive its deletion; the save script drops
// the oldest half past keptReplies (conv_save.lua).

// replyField is the hash field of the reply cached under replyKey.
func (s *Store) replyField(replyKey string) string { return "r:" + s.replyHash(replyKey) }

// Load returns the caller's conversation, remembered language and, when
// replyKey is not empty, the reply cached under it, in one round trip.
func (s *Store) Load(ctx context.Context, msisdn, replyKey string) (dialog.Loaded, error) {
	var out dialog.Loaded
	if err := checkMsisdn(msisdn); err != nil {
		return out, err
	}
	fields := []string{"v", "j"}
	if replyKey != "" {
		fields = append(fields, s.replyField(replyKey))
	}
	p := s.rdb.Pipeline()
	conv := p.HMGet(ctx, convKey(msisdn), fields...)
	lang := p.Get(ctx, langKey(msisdn))
	if err := s.execPipe(ctx, p); err != nil {
		return out, wrap("load conversation", err)
	}
	if vals := conv.Val(); len(vals) >= 2 && vals[0] != nil && vals[1] != nil {
		vs, _ := vals[0].(string)
		js, _ := vals[1].(string)
		v, err := strconv.ParseInt(vs, 10, 64)
		if err != nil {
			return out, fmt.Errorf("store: load conversation: bad version %q", vs)
		}
		c := new(dialog.Conversation)
		if err := json.Unmarshal([]byte(js), c); err != nil {
			return out, fmt.Errorf("store: load conversation: %w", err)
		}
		c.Version = v
		if c.Msisdn == "" {
			c.Msisdn = msisdn
		}
		out.Conversation = c
	}
	out.Lang = lang.Val()
	if vals := conv.Val(); len(vals) == 3 && vals[2] != nil {
		rj, _ := vals[2].(string)
		r := new(dialog.Reply)
		if err := json.Unmarshal([]byte(rj), r); err != nil {
			return out, fmt.Errorf("store: load cached reply: %w", err)
		}
		out.Cached = r
	}
	return out, nil
}

// Save writes c if the stored version still equals c.Version (then gives c
// a new random version), to live at least ttl more (DefaultConversationTTL
// when ≤ 0) and at most ttl + expirySlack; in the same script it caches
// reply under replyKey (when not empty) beside it and remembers c.Lang (when
// not empty) without expiry. A c with State "" deletes the conversation
// (c.Version becomes 0) but still caches the reply. It returns
// dialog.ErrConflict when another turn saved first, or when a reply is
// already cached under replyKey. The SMS given are kept for the outbound
// queue in the same script, and listed there too, or on a cluster just
// before it (see smsqueue.go).
//
// Versions are random, not counted, so that a version never comes back: a
// conversation deleted and written again by other gateways cannot reach
// the version a Peek remembers, which a counter restarting at 1 could.
func (s *Store) Save(ctx context.Context, c *dialog.Conversation, ttl time.Duration, replyKey string, reply dialog.Reply, sms ...dialog.SMS) error {
	if c == nil {
		return errors.New("store: save conversation: nil")
	}
	if err := checkMsisdn(c.Msisdn); err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = DefaultConversationTTL
	}
	var js, rj []byte
	var err error
	nv := int64(0)
	if c.State != "" {
		if js, err = json.Marshal(c); err != nil {
			return fmt.Errorf("store: save conversation: %w", err)
		}
		nv = mrand.Int64N(math.MaxInt64) + 1
	}
	rh := ""
	if replyKey != "" {
		rh = s.replyHash(replyKey)
		if rj, err = json.Marshal(reply); err != nil {
			return fmt.Errorf("store: save reply: %w", err)
		}
	}
	lang := c.Lang
	if s.recent != nil {
		// The language key holds what this store's last save wrote there; if
		// that save is the version replaced, it needs no write. (Only saves
		// write it, and any other save would have moved the version on.)
		if r, ok := s.recent.Peek(c.Msisdn); ok && r.conv.Version == c.Version && r.conv.Lang == lang {
			lang = ""
		}
	}
	keys := []string{convKey(c.Msisdn), langKey(c.Msisdn), smsBoxKey(c.Msisdn)}
	now := s.now()
	args := []any{c.Version, js, (ttl + expirySlack).Milliseconds(), rh, rj, lang, nv, s.smsBoxTTL().Milliseconds(),
		"", // when the script lists the SMS: their due time
		keptReplies, now.Add(ttl).UnixMilli(), now.Add(ttl + expirySlack).UnixMilli()}
	const dueArg = 8
	if len(sms) > 0 {
		queued := make([]QueuedSMS, len(sms))
		for i, m := range sms {
			queued[i] = s.Queued(c.Msisdn, m)
		}
		sealed, err := s.sealSMS(queued)
		if err != nil {
			return err
		}
		if s.oneRedis() {
			args[dueArg] = s.smsDue()
			for _, q := range queued {
				keys = append(keys, smsQueueKey(q.shard), smsAgeKey(q.shard))
			}
		} else if err := s.listSMS(ctx, queued); err != nil {
			s.forget(c.Msisdn)
			return err
		}
		for i, q := range queued {
			args = append(args, q.Ref, sealed[i], q.member, q.Queued.UnixMilli())
		}
	}
	res, err := s.run(ctx, scriptConvSave, keys, args...).Int64()
	if err != nil || res != 0 {
		s.forget(c.Msisdn)
	}
	if err != nil {
		return wrap("save conversation", err)
	}
	if res != 0 {
		return dialog.ErrConflict
	}
	c.Version = nv
	if c.State == "" {
		s.forget(c.Msisdn)
		return nil
	}
	if s.recent != nil {
		s.recent.Add(c.Msisdn, recentConv{conv: c.Clone(), replyKey: replyKey, reply: reply, at: s.now()})
	}
	return nil
}

// expirySlack is how much longer than its TTL a conversation may live: its
// expiry is set for TTL + expirySlack, and again only once less than TTL is
// left, so that most turns of a caller do not set it.
const expirySlack = time.Minute

// keptReplies is how many cached replies a conversation keeps at least: a
// delivery retried after as many later turns is answered as new input.
const keptReplies = 8

// recentConv is the conversation this process last wrote for a caller.
type recentConv struct {
	conv     *dialog.Conversation // never handed out: Peek returns clones
	replyKey string
	reply    dialog.Reply
	at       time.Time
}

// Peek returns, without I/O, the conversation this process last saved for
// msisdn, if it did so within Config.RecentFor: as Load would return it, or
// with Cached set when replyKey is the key that save cached its reply
// under. Another gateway may have written since; Save then conflicts.
func (s *Store) Peek(msisdn, replyKey string) (dialog.Loaded, bool) {
	if s.recent == nil {
		return dialog.Loaded{}, false
	}
	r, ok := s.recent.Get(msisdn)
	if !ok {
		return dialog.Loaded{}, false
	}
	if s.now().Sub(r.at) > s.cfg.RecentFor {
		s.recent.Remove(msisdn)
		return dialog.Loaded{}, false
	}
	if replyKey != "" && replyKey == r.replyKey {
		reply := r.reply
		return dialog.Loaded{Cached: &reply}, true
	}
	c := r.conv.Clone()
	return dialog.Loaded{Conversation: c, Lang: c.Lang}, true
}

// forget drops what Peek would return for msisdn.
func (s *Store) forget(msisdn string) {
	if s.recent != nil {
		s.recent.Remove(msisdn)
	}
}
