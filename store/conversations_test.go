package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestConversationRoundTrip(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(1)
		l, err := env.Load(ctx, m, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if l.Conversation != nil || l.Lang != "" || l.Cached != nil {
			t.Fatalf("empty load = %+v", l)
		}
		c := &dialog.Conversation{Msisdn: m, State: "number", Lang: "hi", Channel: dialog.USSD,
			Booking: dialog.Booking{Who: []string{"1234567890123"}, Pin: "700001"},
			Updated: time.Date(2021, 4, 28, 16, 0, 0, 0, ist)}
		reply := dialog.Reply{Text: "1 Register\n2 Other number"}
		if err := env.Save(ctx, c, 10*time.Minute, "k1", reply); err != nil {
			t.Fatal(err)
		}
		if c.Version == 0 {
			t.Errorf("version after first save = %d", c.Version)
		}
		first := c.Version
		l, err = env.Load(ctx, m, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if l.Conversation == nil || l.Conversation.State != "number" || l.Conversation.Version != first ||
			l.Conversation.Booking.Pin != "700001" || !l.Conversation.Updated.Equal(c.Updated) {
			t.Errorf("loaded = %+v", l.Conversation)
		}
		if l.Lang != "hi" {
			t.Errorf("lang = %q", l.Lang)
		}
		if l.Cached == nil || *l.Cached != reply {
			t.Errorf("cached = %+v", l.Cached)
		}
		if l, _ := env.Load(ctx, m, "other"); l.Cached != nil {
			t.Errorf("other reply key cached %+v", l.Cached)
		}

		// TTL is set on the conversation, which holds the reply, not on
		// the language.
		ttl := env.rdb.PTTL(ctx, convKey(m)).Val()
		if ttl <= 10*time.Minute || ttl > 10*time.Minute+expirySlack {
			t.Errorf("conversation TTL = %v, want 10m to 10m + %v", ttl, expirySlack)
		}
		if ttl := env.rdb.PTTL(ctx, langKey(m)).Val(); ttl >= 0 {
			t.Errorf("lang TTL = %v, want none", ttl)
		}

		// A stale version conflicts and changes nothing.
		stale := *c
		stale.Version = 0
		stale.State = "stale"
		if err := env.Save(ctx, &stale, time.Minute, "", dialog.Reply{}); !errors.Is(err, dialog.ErrConflict) {
			t.Errorf("stale save: %v", err)
		}

		// Deleting (State "") keeps the language and still caches the reply.
		c.State = ""
		c.Lang = ""
		if err := env.Save(ctx, c, time.Minute, "k2", dialog.Reply{Text: "Bye", End: true}); err != nil {
			t.Fatal(err)
		}
		if c.Version != 0 {
			t.Errorf("version after delete = %d", c.Version)
		}
		l, err = env.Load(ctx, m, "k2")
		if err != nil {
			t.Fatal(err)
		}
		if l.Conversation != nil || l.Lang != "hi" || l.Cached == nil || !l.Cached.End {
			t.Errorf("after delete = %+v", l)
		}
		// A new conversation starts from version 0 again, and gets a
		// version never seen before: a turn holding the old one conflicts.
		n := &dialog.Conversation{Msisdn: m, State: "home"}
		if err := env.Save(ctx, n, 0, "", dialog.Reply{}); err != nil || n.Version == 0 || n.Version == first {
			t.Errorf("new conversation: %v, version %d (first was %d)", err, n.Version, first)
		}
		old := &dialog.Conversation{Msisdn: m, State: "old", Version: first}
		if err := env.Save(ctx, old, 0, "", dialog.Reply{}); !errors.Is(err, dialog.ErrConflict) {
			t.Errorf("save with the deleted conversation's version: %v, want conflict", err)
		}
		if ttl := env.rdb.PTTL(ctx, convKey(m)).Val(); ttl <= DefaultConversationTTL-time.Minute {
			t.Errorf("default TTL = %v", ttl)
		}

		// The reply key is hashed: what the caller typed is not in a field.
		for _, f := range env.rdb.HKeys(ctx, convKey(m)).Val() {
			if strings.Contains(f, "k1") || strings.Contains(f, "k2") {
				t.Errorf("reply key stored in clear: field %q", f)
			}
		}
		if _, err := env.Load(ctx, "9800000001", ""); err == nil {
			t.Error("non-E.164 msisdn accepted")
		}
	})
}

// TestConversationFromEarlierVersion: a conversation in the JSON that
// versions before the binary form wrote still loads, and the next save
// writes the binary form over it. (The replies those versions kept in
// fields of their own, r:<hash> and rs, are not consulted: see the README.)
func TestConversationFromEarlierVersion(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(7)
		c := &dialog.Conversation{Msisdn: m, State: "pick_date", Lang: "bn", Channel: dialog.USSD,
			Snapshot: &dialog.Account{Msisdn: m, Beneficiaries: []dialog.Beneficiary{{Ref: "12345678901234", Name: "Asha", BirthYear: 1980,
				Gender: dialog.Female, IDType: dialog.IDAadhaar, IDMasked: "XXXX XXXX 1234", Created: time.Date(2021, 4, 28, 16, 0, 0, 0, ist)}}},
			Booking: dialog.Booking{Who: []string{"12345678901234"}, Pin: "700001", CentreID: 17, Centres: []string{"17", "18"}},
			Updated: time.Date(2021, 4, 28, 16, 5, 0, 0, ist)}
		js, _ := json.Marshal(c)
		env.rdb.HSet(ctx, convKey(m), "v", "41", "j", js, "rs", strings.Repeat("a", 32), "r:"+strings.Repeat("a", 32), `{"text":"Booked."}`)

		l, err := env.Load(ctx, m, "k10")
		if err != nil || l.Conversation == nil {
			t.Fatalf("load JSON conversation: %+v, %v", l, err)
		}
		var want dialog.Conversation
		_ = json.Unmarshal(js, &want)
		want.Version = 41
		if !reflect.DeepEqual(l.Conversation, &want) {
			t.Errorf("loaded\n %+v\nwant %+v", l.Conversation, &want)
		}
		l.Conversation.Page = 1
		if err := env.Save(ctx, l.Conversation, time.Minute, "k10", dialog.Reply{Text: "next"}); err != nil {
			t.Fatalf("save over JSON: %v", err)
		}
		if j := env.rdb.HGet(ctx, convKey(m), "j").Val(); j == "" || j[0] == '{' {
			t.Errorf("stored after save = %q, want the binary form", j)
		}
		again, err := env.Load(ctx, m, "k10")
		want.Page, want.Version, want.Replies = 1, l.Conversation.Version, l.Conversation.Replies
		if err != nil || !reflect.DeepEqual(again.Conversation, &want) || again.Cached == nil || again.Cached.Text != "next" {
			t.Errorf("reloaded\n %+v, %+v, %v\nwant %+v", again.Conversation, again.Cached, err, &want)
		}
	})
}

// TestConversationExpiry: a save sets the conversation's expiry to its TTL
// plus expirySlack, and a later one sets it again only once less than the
// TTL would be left.
func TestConversationExpiry(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(6)
		c := &dialog.Conversation{Msisdn: m, State: "home", Lang: "en"}
		const ttl = 10 * time.Minute
		steps := []struct {
			name    string
			advance time.Duration
			lower   bool // shorten the key's expiry by hand first, to see whether the save sets it
			minTTL  time.Duration
			maxTTL  time.Duration
		}{
			{"first save", 0, false, ttl, ttl + expirySlack},
			{"within the slack: expiry left alone", expirySlack / 2, true, 0, 5 * time.Minute},
			{"past the slack: expiry set again", expirySlack, true, ttl, ttl + expirySlack},
		}
		for _, st := range steps {
			env.clock.Advance(st.advance)
			if st.lower {
				env.rdb.PExpire(ctx, convKey(m), 5*time.Minute)
			}
			if err := env.Save(ctx, c, ttl, "", dialog.Reply{Text: st.name}); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := env.rdb.PTTL(ctx, convKey(m)).Val(); got <= st.minTTL || got > st.maxTTL {
				t.Errorf("%s: TTL %v, want (%v, %v]", st.name, got, st.minTTL, st.maxTTL)
			}
		}
	})
}

// TestConversationKeepsRecentReplies: a conversation keeps the replies to
// its last keptReplies deliveries, across its end.
func TestConversationKeepsRecentReplies(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(5)
		c := &dialog.Conversation{Msisdn: m, State: "home", Lang: "en"}
		const turns = 2*keptReplies + 1
		key := func(i int) string { return "d" + strconv.Itoa(i) }
		for i := range turns {
			if i == turns-1 {
				c.State = "" // the last turn ends the conversation
			}
			if err := env.Save(ctx, c, time.Minute, key(i), dialog.Reply{Text: "screen " + strconv.Itoa(i)}); err != nil {
				t.Fatalf("turn %d: %v", i, err)
			}
		}
		tests := []struct {
			turn int
			kept bool
		}{
			{0, false},
			{turns - keptReplies - 1, false},
			{turns - keptReplies, true},
			{turns - 2, true},
			{turns - 1, true}, // the reply of the turn that ended it
		}
		for _, tt := range tests {
			l, err := env.Load(ctx, m, key(tt.turn))
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Cached != nil && l.Cached.Text == "screen "+strconv.Itoa(tt.turn); got != tt.kept {
				t.Errorf("reply of turn %d kept = %v (%+v), want %v", tt.turn, got, l.Cached, tt.kept)
			}
			if l.Conversation != nil {
				t.Errorf("conversation after its end = %+v", l.Conversation)
			}
			if len(l.Replies) != keptReplies {
				t.Errorf("replies handed to a new conversation = %d, want %d", len(l.Replies), keptReplies)
			}
		}
		if f := env.rdb.HKeys(ctx, convKey(m)).Val(); len(f) != 3 {
			t.Errorf("hash fields = %v, want j, t and x", f)
		}
		// A retried delivery conflicts rather than running again.
		n := &dialog.Conversation{Msisdn: m, State: "home"}
		if err := env.Save(ctx, n, time.Minute, key(turns-2), dialog.Reply{Text: "again"}); !errors.Is(err, dialog.ErrConflict) {
			t.Errorf("save under a reply key already answered: %v, want conflict", err)
		}
		// A new conversation carries the replies over (the engine gives it
		// Loaded.Replies), so the ended one's stay answered.
		l, _ := env.Load(ctx, m, "")
		n.Replies = l.Replies
		if err := env.Save(ctx, n, time.Minute, key(turns), dialog.Reply{Text: "new"}); err != nil {
			t.Fatalf("new conversation: %v", err)
		}
		if l, err := env.Load(ctx, m, key(turns-1)); err != nil || l.Conversation == nil || l.Cached == nil || l.Cached.Text != "screen "+strconv.Itoa(turns-1) {
			t.Errorf("the ended conversation's last reply after a new one began: %+v, %v", l, err)
		}
		if env.rdb.HExists(ctx, convKey(m), "t").Val() {
			t.Error("t kept once a new conversation began")
		}
	})
}

// TestConversationCAS: two turns save the same version at once; exactly one
// gets ErrConflict, many times over.
func TestConversationCAS(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(2)
		base := &dialog.Conversation{Msisdn: m, State: "lang"}
		if err := env.Save(ctx, base, time.Minute, "", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		for round := range 50 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			convs := make([]*dialog.Conversation, 2)
			for i := range 2 {
				c := *base
				c.State = []string{"a", "b"}[i]
				convs[i] = &c
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = env.Save(ctx, convs[i], time.Minute, "", dialog.Reply{})
				}()
			}
			wg.Wait()
			conflicts := 0
			winner := -1
			for i, err := range errs {
				switch {
				case errors.Is(err, dialog.ErrConflict):
					conflicts++
				case err == nil:
					winner = i
				default:
					t.Fatal(err)
				}
			}
			if conflicts != 1 || winner < 0 {
				t.Fatalf("round %d: errors %v", round, errs)
			}
			l, _ := env.Load(ctx, m, "")
			if l.Conversation.State != convs[winner].State || l.Conversation.Version != convs[winner].Version || l.Conversation.Version == base.Version {
				t.Fatalf("round %d: stored %+v, winner %+v", round, l.Conversation, convs[winner])
			}
			base = l.Conversation
		}
	})
}

// TestPeek: the store keeps a copy of what it last saved for a caller and
// hands it out as Load would; Save refuses a turn started from a copy that
// another writer (or another delivery's reply) has overtaken.
func TestPeek(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(3)
		if _, ok := env.Peek(m, ""); ok {
			t.Fatal("peek before any save")
		}
		c := benchConversation()
		c.Msisdn = m
		r1 := dialog.Reply{Text: "1 Add person"}
		if err := env.Save(ctx, c, time.Minute, "k1", r1); err != nil {
			t.Fatal(err)
		}
		loaded, err := env.Load(ctx, m, "")
		if err != nil {
			t.Fatal(err)
		}
		p, ok := env.Peek(m, "")
		if !ok || p.Cached != nil || !sameConversation(p.Conversation, loaded.Conversation) || p.Lang != loaded.Lang {
			t.Fatalf("peek = %+v, %v; load = %+v", p, ok, loaded)
		}
		if p, ok := env.Peek(m, "k1"); !ok || p.Cached == nil || *p.Cached != r1 || p.Conversation != nil {
			t.Errorf("peek of the last delivery = %+v, %v; want its reply", p, ok)
		}
		// Each peek is a copy of its own: its fields, and what is appended
		// to its slices, do not show in the next.
		p.Conversation.State = "changed"
		p.Conversation.Booking.Who = append(p.Conversation.Booking.Who, "changed")
		p.Conversation.Replies = append(p.Conversation.Replies, dialog.KeptReply{Key: "changed"})
		if again, _ := env.Peek(m, ""); !sameConversation(again.Conversation, loaded.Conversation) {
			t.Errorf("a change to one peek shows in the next: %+v", again.Conversation)
		}

		// A delivery already answered is refused even at the right version,
		// and changes nothing.
		dup, _ := env.Peek(m, "")
		dup.Conversation.State = "dup"
		if err := env.Save(ctx, dup.Conversation, time.Minute, "k1", dialog.Reply{Text: "again"}); !errors.Is(err, dialog.ErrConflict) {
			t.Errorf("save of an answered delivery: %v, want conflict", err)
		}
		if l, _ := env.Load(ctx, m, "k1"); l.Conversation == nil || l.Conversation.State != c.State || *l.Cached != r1 {
			t.Errorf("after the refused save: %+v", l)
		}
		if _, ok := env.Peek(m, ""); ok {
			t.Error("peek after a conflict: the copy should be dropped")
		}

		// Another writer (another gateway's store on the same Redis)
		// overtakes this one's copy: the save from the copy conflicts.
		if err := env.Save(ctx, loaded.Conversation, time.Minute, "k2", dialog.Reply{Text: "2"}); err != nil {
			t.Fatal(err)
		}
		mine, _ := env.Peek(m, "")
		other := newEnv(t, env.url)
		theirs, err := other.Load(ctx, m, "")
		if err != nil || theirs.Conversation == nil {
			t.Fatal(theirs, err)
		}
		if err := other.Save(ctx, theirs.Conversation, time.Minute, "k3", dialog.Reply{Text: "3"}); err != nil {
			t.Fatal(err)
		}
		if err := env.Save(ctx, mine.Conversation, time.Minute, "k4", dialog.Reply{Text: "4"}); !errors.Is(err, dialog.ErrConflict) {
			t.Errorf("save from an overtaken copy: %v, want conflict", err)
		}

		// A language changed on a kept copy is remembered.
		if err := env.Save(ctx, theirs.Conversation, time.Minute, "k4b", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		hi, _ := env.Peek(m, "")
		hi.Conversation.Lang = "hi"
		if err := env.Save(ctx, hi.Conversation, time.Minute, "k4c", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		if got := env.rdb.Get(ctx, langKey(m)).Val(); got != "hi" {
			t.Errorf("remembered language after a change = %q, want hi", got)
		}

		// Copies expire; deleting drops them.
		if err := env.Save(ctx, hi.Conversation, time.Minute, "k5", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		env.clock.Advance(DefaultRecentFor + time.Second)
		if _, ok := env.Peek(m, ""); ok {
			t.Error("peek after RecentFor")
		}
		l, _ := env.Load(ctx, m, "")
		if err := env.Save(ctx, l.Conversation, time.Minute, "k6", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		l.Conversation.State = ""
		if err := env.Save(ctx, l.Conversation, time.Minute, "k7", dialog.Reply{End: true}); err != nil {
			t.Fatal(err)
		}
		if _, ok := env.Peek(m, ""); ok {
			t.Error("peek after the conversation was deleted")
		}

		// RecentConversations < 0 keeps no copies.
		none := newEnv(t, env.url, func(c *Config) { c.RecentConversations = -1 })
		n := &dialog.Conversation{Msisdn: msisdn(4), State: "home"}
		if err := none.Save(ctx, n, time.Minute, "", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}
		if _, ok := none.Peek(n.Msisdn, ""); ok {
			t.Error("peek with RecentConversations -1")
		}
	})
}

// sameConversation compares what is stored of two conversations (times
// equal as instants, whatever their location).
func sameConversation(a, b *dialog.Conversation) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := a.Clone(), b.Clone()
	x.Updated, y.Updated = time.Time{}, time.Time{}
	return a.Updated.Equal(b.Updated) && reflect.DeepEqual(x, y)
}

func BenchmarkConversationSave(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	c := benchConversation()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A new delivery each time: Save refuses one already answered.
		if err := env.Save(ctx, c, 10*time.Minute, "at:ATUid_1:1*2:"+strconv.Itoa(i), dialog.Reply{Text: "1 Add person\n2 Book"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConversationSaveParallel: callers saving at once (batched, as
// under load), each through conversations of 20 turns, the last of which
// ends it; the conversation is one at the centre screen, the reply 90
// characters. redis-cpu-µs/op is Redis's CPU a save (INFO cpu).
func BenchmarkConversationSaveParallel(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	var callers atomic.Int64
	reply := dialog.Reply{Text: strings.Repeat("1 Centre nine ", 6) + "\n0 Back"}
	before := redisCPU(b, env)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var c *dialog.Conversation
		for turn := 0; pb.Next(); turn++ {
			if turn%20 == 0 {
				c = benchConversation()
				c.Msisdn = msisdn(int(callers.Add(1)))
				c.Booking.Centres = []string{"561234", "561235", "561236"}
			}
			if turn%20 == 19 {
				c.State = ""
			}
			if err := env.Save(ctx, c, 10*time.Minute, "at:"+c.Msisdn+":"+strconv.Itoa(turn), reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((redisCPU(b, env)-before).Microseconds())/float64(b.N), "redis-cpu-µs/op")
}

// redisCPU is the CPU time Redis has used (INFO cpu).
func redisCPU(tb testing.TB, env *testEnv) time.Duration {
	tb.Helper()
	info, err := env.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var d time.Duration
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, _ := strings.Cut(line, ":"); k == "used_cpu_user" || k == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			d += time.Duration(f * float64(time.Second))
		}
	}
	return d
}

func BenchmarkConversationLoad(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	c := benchConversation()
	if err := env.Save(ctx, c, 10*time.Minute, "at:ATUid_1:1*2", dialog.Reply{Text: "1 Add person\n2 Book"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := env.Load(ctx, c.Msisdn, "at:ATUid_1:1*2")
		if err != nil || l.Conversation == nil || l.Cached == nil {
			b.Fatal(l, err)
		}
	}
}

func benchConversation() *dialog.Conversation {
	return &dialog.Conversation{Msisdn: msisdn(1), State: "book.centre", Lang: "bn", Channel: dialog.USSD,
		ProviderSession: "ATUid_1", Account: msisdn(1),
		Booking: dialog.Booking{Who: []string{"1234567890123", "2345678901234"}, Pin: "700001"},
		Updated: time.Date(2021, 4, 28, 16, 0, 0, 0, ist)}
}

func TestConvKeys(t *testing.T) {
	for _, m := range []string{"+919800000001", "+1", ""} {
		c, l, b := convKeys(m)
		if c != convKey(m) || l != langKey(m) || b != smsBoxKey(m) {
			t.Errorf("convKeys(%q) = %q, %q, %q; want %q, %q, %q", m, c, l, b, convKey(m), langKey(m), smsBoxKey(m))
		}
	}
}
