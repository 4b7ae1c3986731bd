package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// A conversation's hash (ts:conv:{m}) holds its version (v), its binary
// form (j, see dialog.DecodeConversation; JSON when an earlier version wrote
// it) with the replies to its last deliveries (Conversation.Replies), and
// when the hash expires (x). When a conversation ends, v goes and j keeps
// its replies alone, listed by their hashes in t, so that a new conversation
// cannot answer a delivery the ended one answered (conv_save.lua).

// Load returns the caller's conversation, remembered language and, when
// replyKey is not empty, the reply kept for it, in one round trip.
func (s *Store) Load(ctx context.Context, msisdn, replyKey string) (dialog.Loaded, error) {
	var out dialog.Loaded
	if err := checkMsisdn(msisdn); err != nil {
		return out, err
	}
	conv := redis.NewSliceCmd(ctx, "hmget", convKey(msisdn), "v", "j")
	lang := redis.NewStringCmd(ctx, "get", langKey(msisdn))
	if err := s.send(ctx, conv, lang); err != nil && !errors.Is(err, redis.Nil) {
		return out, wrap("load conversation", err)
	}
	out.Lang = lang.Val()
	vals := conv.Val()
	if len(vals) < 2 || vals[1] == nil {
		return out, nil
	}
	js, _ := vals[1].(string)
	c, err := dialog.DecodeConversation(js)
	if err != nil {
		return out, fmt.Errorf("store: load conversation: %w", err)
	}
	if replyKey != "" {
		out.Cached = keptReply(c.Replies, s.replyHash(replyKey))
	}
	if vals[0] == nil { // ended: j holds its replies alone
		out.Replies = c.Replies
		return out, nil
	}
	vs, _ := vals[0].(string)
	if c.Version, err = strconv.ParseInt(vs, 10, 64); err != nil {
		return out, fmt.Errorf("store: load conversation: bad version %q", vs)
	}
	if c.Msisdn == "" {
		c.Msisdn = msisdn
	}
	out.Conversation = c
	return out, nil
}

// keptReply returns the reply kept under hash h, or nil.
func keptReply(replies []dialog.KeptReply, h string) *dialog.Reply {
	for i := range replies {
		if replies[i].Key == h {
			r := replies[i].Reply
			return &r
		}
	}
	return nil
}

// Save writes c if the stored version still equals c.Version (then gives c
// a new random version), to live at least ttl more (DefaultConversationTTL
// when ≤ 0) and at most ttl + expirySlack; with it, it keeps reply for
// replyKey (when not empty) among c.Replies, the last keptReplies, and
// remembers c.Lang (when not empty) without expiry. A c with State ""
// ends the conversation (c.Version becomes 0) but keeps its replies. It
// returns dialog.ErrConflict when another turn saved first, or when a
// reply is already kept for replyKey (this delivery was answered). The SMS
// given are kept for the outbound queue in the same script, and listed
// there too, or on a cluster just before it (see smsqueue.go).
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
	rh := ""
	replies := c.Replies
	if replyKey != "" {
		rh = s.replyHash(replyKey)
		if keptReply(replies, rh) != nil {
			s.forget(c.Msisdn)
			return dialog.ErrConflict
		}
		if len(replies) >= keptReplies {
			replies = replies[len(replies)-keptReplies+1:]
		}
		replies = append(slices.Clip(replies), dialog.KeptReply{Key: rh, Reply: reply})
	}
	// What j holds: the conversation with its replies, or, when it ends
	// (new version 0), the replies alone and their hashes in t.
	saved := dialog.Conversation{Msisdn: c.Msisdn}
	nv, ended := int64(0), ""
	if c.State != "" {
		saved = *c
		nv = mrand.Int64N(math.MaxInt64) + 1
	} else {
		var t strings.Builder
		for _, kr := range replies {
			t.WriteString(kr.Key)
		}
		ended = t.String()
	}
	saved.Replies = replies
	sa := saveArgsPool.Get().(*saveArgs)
	js, err := saved.AppendBinary(sa.conv[:0])
	if err != nil {
		return fmt.Errorf("store: save conversation: %w", err)
	}
	sa.conv = js
	sa.lang = c.Lang
	if s.recent != nil {
		// The language key holds what this store's last save wrote there; if
		// that save is the version replaced, it needs no write. (Only saves
		// write it, and any other save would have moved the version on.)
		if r, ok := s.recent.Peek(c.Msisdn); ok && r.conv.Version == c.Version && r.conv.Lang == sa.lang {
			sa.lang = ""
		}
	}
	sa.keys[0], sa.keys[1], sa.keys[2] = convKeys(c.Msisdn)
	keys := sa.keys[:]
	now := s.now()
	sa.version, sa.ttl, sa.reply, sa.next, sa.boxTTL = c.Version, (ttl + expirySlack).Milliseconds(), rh, nv, s.smsBoxTTL().Milliseconds()
	sa.due, sa.ended, sa.expires, sa.expiresLate = "", ended, now.Add(ttl).UnixMilli(), now.Add(ttl+expirySlack).UnixMilli()
	args := append(sa.args[:0], &sa.version, &sa.conv, &sa.ttl, &sa.reply, &sa.lang, &sa.next, &sa.boxTTL,
		&sa.due, // when the script lists the SMS: their due time
		&sa.ended, &sa.expires, &sa.expiresLate)
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
			sa.due = strconv.FormatInt(s.smsDue(), 10)
			keys = slices.Clip(keys)
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
	if err == nil {
		// Redis answered, so the arguments were written out; after an error
		// they may still wait in a pipeline, and are left to the collector.
		saveArgsPool.Put(sa)
	}
	if err != nil || res != 0 {
		s.forget(c.Msisdn)
	}
	if err != nil {
		return wrap("save conversation", err)
	}
	if res != 0 {
		return dialog.ErrConflict
	}
	c.Version, c.Replies = nv, replies
	if c.State == "" {
		s.forget(c.Msisdn)
		return nil
	}
	if s.recent != nil {
		s.recent.Add(c.Msisdn, recentConv{conv: c.Clone(), replyKey: replyKey, at: s.now()})
	}
	return nil
}

// expirySlack is how much longer than its TTL a conversation may live: its
// expiry is set for TTL + expirySlack, and again only once less than TTL is
// left, so that most turns of a caller do not set it.
const expirySlack = time.Minute

// saveArgs are one save's keys and script arguments (conv_save.lua). They
// go to the Redis client as pointers, which it reads as it writes the
// command, so that a save boxes none of them, and they are kept in a pool
// with the buffer the conversation is encoded into (with its replies, one
// or two kilobytes).
type saveArgs struct {
	keys                                             [3]string
	version, ttl, next, boxTTL, expires, expiresLate int64
	reply, lang, due, ended                          string
	conv                                             binaryArg
	args                                             [11]any
}

var saveArgsPool = sync.Pool{New: func() any { return &saveArgs{conv: make(binaryArg, 0, 2048)} }}

// binaryArg is a byte slice the Redis client takes by pointer (as an
// encoding.BinaryMarshaler) and writes as it is.
type binaryArg []byte

func (b *binaryArg) MarshalBinary() ([]byte, error) { return *b, nil }

// convKeys returns a caller's conversation, language and SMS box keys, made
// in one allocation.
func convKeys(m string) (conv, lang, box string) {
	all := "ts:conv:{" + m + "}ts:lang:{" + m + "}ts:smsbox:{" + m + "}"
	n := len(m) + 2
	conv, all = all[:len("ts:conv:")+n], all[len("ts:conv:")+n:]
	lang, box = all[:len("ts:lang:")+n], all[len("ts:lang:")+n:]
	return conv, lang, box
}

// keptReplies is how many replies a conversation keeps: a delivery
// retried after as many later turns is answered as new input.
const keptReplies = 8

// recentConv is the conversation this process last wrote for a caller.
type recentConv struct {
	conv     *dialog.Conversation // never handed out: Peek returns clones
	replyKey string               // the delivery that save answered
	at       time.Time
}

// Peek returns, without I/O, the conversation this process last saved for
// msisdn, if it did so within Config.RecentFor: as Load would return it, or
// with Cached set when replyKey is the key that save kept its reply
// for (an older delivery's reply is in the copy's Replies, and Save refuses
// it). Another gateway may have written since; Save then conflicts.
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
	if replyKey != "" && replyKey == r.replyKey && len(r.conv.Replies) > 0 {
		reply := r.conv.Replies[len(r.conv.Replies)-1].Reply
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
