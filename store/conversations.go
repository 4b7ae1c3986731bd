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

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

func (s *Store) replyKey(m, replyKey string) string {
	return "ts:reply:{" + m + "}:" + s.replyField(replyKey)
}

// Load returns the caller's conversation, remembered language and, when
// replyKey is not empty, the reply cached under it, in one round trip.
func (s *Store) Load(ctx context.Context, msisdn, replyKey string) (dialog.Loaded, error) {
	var out dialog.Loaded
	if err := checkMsisdn(msisdn); err != nil {
		return out, err
	}
	p := s.rdb.Pipeline()
	conv := p.HMGet(ctx, convKey(msisdn), "v", "j")
	lang := p.Get(ctx, langKey(msisdn))
	var rep *redis.StringCmd
	if replyKey != "" {
		rep = p.Get(ctx, s.replyKey(msisdn, replyKey))
	}
	if err := execPipe(ctx, p); err != nil {
		return out, wrap("load conversation", err)
	}
	if vals := conv.Val(); len(vals) == 2 && vals[0] != nil && vals[1] != nil {
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
	if rep != nil && rep.Err() == nil {
		r := new(dialog.Reply)
		if err := json.Unmarshal([]byte(rep.Val()), r); err != nil {
			return out, fmt.Errorf("store: load cached reply: %w", err)
		}
		out.Cached = r
	}
	return out, nil
}

// Save writes c if the stored version still equals c.Version (then gives c
// a new random version), with ttl (DefaultConversationTTL when ≤ 0); in the
// same script it caches reply under replyKey (when not empty) and remembers
// c.Lang (when not empty) without expiry. A c with State "" deletes the
// conversation (c.Version becomes 0) but still caches the reply. It returns
// dialog.ErrConflict when another turn saved first, or when a reply is
// already cached under replyKey. The SMS given are kept for the outbound
// queue in the same script (see smsqueue.go), listed just before it.
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
	rk := convKey(c.Msisdn) // placeholder on the same slot when no reply
	if replyKey != "" {
		rk = s.replyKey(c.Msisdn, replyKey)
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
	args := []any{c.Version, js, ttl.Milliseconds(), rj, lang, nv, s.smsBoxTTL().Milliseconds()}
	if len(sms) > 0 {
		queued := make([]QueuedSMS, len(sms))
		for i, m := range sms {
			queued[i] = s.Queued(c.Msisdn, m)
		}
		if err := s.listSMS(ctx, queued); err != nil {
			s.forget(c.Msisdn)
			return err
		}
		more, err := s.smsSaveArgs(queued)
		if err != nil {
			return err
		}
		args = append(args, more...)
	}
	res, err := scriptConvSave.Run(ctx, s.rdb,
		[]string{convKey(c.Msisdn), rk, langKey(c.Msisdn), smsBoxKey(c.Msisdn)}, args...).Int64()
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
