package dialogtest

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"math/big"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// storedConv is a saved conversation, as JSON (Redis holds a binary form;
// this fake keeps its replies apart, in replies).
type storedConv struct {
	js      []byte
	version int64
	expires time.Time
}

type storedReply struct {
	reply   dialog.Reply
	expires time.Time
}

func replyID(msisdn, replyKey string) string { return msisdn + "\x00" + replyKey }

// Load returns the caller's conversation, remembered language and the reply
// cached under replyKey, if any.
func (s *Store) Load(_ context.Context, msisdn, replyKey string) (dialog.Loaded, error) {
	var out dialog.Loaded
	if err := checkMsisdn(msisdn); err != nil {
		return out, err
	}
	defer s.lock()()
	now := s.now()
	if sc, ok := s.d.convs[msisdn]; ok && now.Before(sc.expires) {
		c := new(dialog.Conversation)
		mustUnmarshal(sc.js, c)
		c.Version = sc.version
		if c.Msisdn == "" {
			c.Msisdn = msisdn
		}
		out.Conversation = c
	}
	out.Lang = s.d.langs[msisdn]
	if replyKey != "" {
		if r, ok := s.d.replies[replyID(msisdn, replyKey)]; ok && now.Before(r.expires) {
			reply := r.reply
			out.Cached = &reply
		}
	}
	return out, nil
}

// Save writes c if the stored version still equals c.Version and no reply
// is cached under replyKey (dialog.ErrConflict otherwise), giving c a new
// random version; in the same step it caches reply and remembers c.Lang. A
// c with State "" deletes the conversation. The SMS are not kept: the
// engine hands them to its Outbox once the save lands (an SMSLog here).
func (s *Store) Save(_ context.Context, c *dialog.Conversation, ttl time.Duration, replyKey string, reply dialog.Reply, _ ...dialog.SMS) error {
	if c == nil {
		return errors.New("dialogtest: save conversation: nil")
	}
	if err := checkMsisdn(c.Msisdn); err != nil {
		return err
	}
	if ttl <= 0 {
		ttl = defaultTTL
	}
	unlock := s.lock()
	now := s.now()
	var stored int64
	if sc, ok := s.d.convs[c.Msisdn]; ok && now.Before(sc.expires) {
		stored = sc.version
	}
	rid := replyID(c.Msisdn, replyKey)
	r, cached := s.d.replies[rid]
	if stored != c.Version || replyKey != "" && cached && now.Before(r.expires) {
		unlock()
		s.peek.forget(c.Msisdn)
		return dialog.ErrConflict
	}
	nv := int64(0)
	if c.State == "" {
		delete(s.d.convs, c.Msisdn)
	} else {
		nv = randomVersion()
		s.d.convs[c.Msisdn] = storedConv{js: mustMarshal(c), version: nv, expires: now.Add(ttl)}
	}
	if replyKey != "" {
		s.d.replies[rid] = storedReply{reply: reply, expires: now.Add(ttl)}
	}
	if c.Lang != "" {
		s.d.langs[c.Msisdn] = c.Lang
	}
	unlock()
	c.Version = nv
	if c.State == "" {
		s.peek.forget(c.Msisdn)
	} else {
		s.peek.keep(c.Msisdn, kept{conv: c.Clone(), replyKey: replyKey, reply: reply, at: now})
	}
	return nil
}

// Peek returns, without touching the data, the conversation this Store
// last saved for msisdn within the last 2 minutes (by the Clock), as Load
// would return it, or only its reply when replyKey is that save's key.
func (s *Store) Peek(msisdn, replyKey string) (dialog.Loaded, bool) {
	k, ok := s.peek.get(msisdn)
	if !ok {
		return dialog.Loaded{}, false
	}
	if s.now().Sub(k.at) > recentFor {
		s.peek.forget(msisdn)
		return dialog.Loaded{}, false
	}
	if replyKey != "" && replyKey == k.replyKey {
		reply := k.reply
		return dialog.Loaded{Cached: &reply}, true
	}
	c := k.conv.Clone()
	return dialog.Loaded{Conversation: c, Lang: c.Lang}, true
}

// kept is what a Store saved last for a caller.
type kept struct {
	conv     *dialog.Conversation // never handed out: Peek returns clones
	replyKey string
	reply    dialog.Reply
	at       time.Time
}

// peekMemory is one process's copies of its own last saves.
type peekMemory struct {
	mu sync.Mutex
	m  map[string]kept
}

func newPeekMemory() *peekMemory { return &peekMemory{m: map[string]kept{}} }

func (p *peekMemory) get(msisdn string) (kept, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k, ok := p.m[msisdn]
	return k, ok
}

func (p *peekMemory) keep(msisdn string, k kept) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[msisdn] = k
}

func (p *peekMemory) forget(msisdn string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, msisdn)
}

// randomVersion is never 0 and never comes back, as store's are.
func randomVersion() int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64))
	if err != nil {
		panic("dialogtest: " + err.Error())
	}
	return n.Int64() + 1
}

// randomString returns n symbols drawn uniformly from alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic("dialogtest: " + err.Error())
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

func randomDigits(n int) string { return randomString("0123456789", n) }
