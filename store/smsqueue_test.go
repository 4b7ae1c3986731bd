package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

// saveWithSMS saves a fresh conversation for caller with the given SMS.
func saveWithSMS(t *testing.T, env *testEnv, caller string, sms ...dialog.SMS) *dialog.Conversation {
	t.Helper()
	c := &dialog.Conversation{Msisdn: caller, State: "home", Lang: "en"}
	if err := env.Save(context.Background(), c, time.Minute, "", dialog.Reply{Text: "Home"}, sms...); err != nil {
		t.Fatalf("save: %v", err)
	}
	return c
}

func refs(qs []QueuedSMS) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Ref
	}
	slices.Sort(out)
	return out
}

// TestSMSQueue: what a save keeps is claimed once its lease runs out (the
// saving gateway died before sending), exactly once per lease; sent SMS
// leave the queue; a failed one comes back after its wait with its tries
// counted; an expired code is returned for the dispatcher to give up.
func TestSMSQueue(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		slip := dialog.SMS{To: msisdn(1), Text: "Slip: appointment 123", Ref: "slip-123-aa", Kind: dialog.SMSKindSlip, Lang: "hi"}
		code := dialog.SMS{To: msisdn(2), Text: "Code 123456", Ref: dialog.OTPRefPrefix + "0002-bb", Kind: dialog.SMSKindOTP, Lang: "en"}
		saveWithSMS(t, env, msisdn(1), slip, code)
		for k, v := range dump(t, env.rdb) {
			if strings.Contains(v, "123456") || strings.Contains(v, msisdn(2)[3:]) || strings.Contains(v, "appointment 123") {
				t.Fatalf("%s holds an SMS in clear: %q", k, v)
			}
		}

		if qs, err := env.ClaimSMS(ctx, 10); err != nil || len(qs) != 0 {
			t.Fatalf("claimed within the saver's lease: %v, %v", qs, err)
		}
		st, err := env.SMSQueue(ctx)
		if err != nil || st.Depth != 2 {
			t.Fatalf("queue = %+v, %v; want depth 2", st, err)
		}
		env.clock.Advance(env.cfg.SMSLease + time.Millisecond)
		qs, err := env.ClaimSMS(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := refs(qs); !slices.Equal(got, []string{code.Ref, slip.Ref}) {
			t.Fatalf("claimed %v", got)
		}
		for _, q := range qs {
			want := slip
			if q.Ref == code.Ref {
				want = code
			}
			if q.SMS != want || q.Caller != msisdn(1) || q.Tries != 0 {
				t.Fatalf("claimed %+v, want %+v from %s", q, want, msisdn(1))
			}
		}
		if again, _ := env.ClaimSMS(ctx, 10); len(again) != 0 {
			t.Fatalf("claimed twice within a lease: %v", refs(again))
		}
		st, _ = env.SMSQueue(ctx)
		if want := env.cfg.SMSLease + time.Millisecond; st.Oldest != want {
			t.Fatalf("oldest = %v, want %v", st.Oldest, want)
		}

		// The slip is sent; the code fails and waits 5 s.
		var q1, q2 QueuedSMS
		for _, q := range qs {
			if q.Ref == slip.Ref {
				q1 = q
			} else {
				q2 = q
			}
		}
		if err := env.DropSMS(ctx, q1); err != nil {
			t.Fatal(err)
		}
		if err := env.RetrySMS(ctx, q2, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		env.clock.Advance(4 * time.Second)
		if qs, _ := env.ClaimSMS(ctx, 10); len(qs) != 0 {
			t.Fatalf("claimed before its wait: %v", refs(qs))
		}
		env.clock.Advance(time.Second)
		qs, err = env.ClaimSMS(ctx, 10)
		if err != nil || len(qs) != 1 || qs[0].Ref != code.Ref || qs[0].Tries != 1 {
			t.Fatalf("after the wait: %+v, %v", qs, err)
		}
		if !env.clock.Now().After(qs[0].Expires) == (env.clock.Now().Sub(qs[0].Queued) > env.cfg.OTPValidity) {
			t.Fatalf("code expires %v, queued %v: want the code's validity", qs[0].Expires, qs[0].Queued)
		}
		if err := env.DropSMS(ctx, qs[0]); err != nil {
			t.Fatal(err)
		}
		st, err = env.SMSQueue(ctx)
		if err != nil || st.Depth != 0 || st.Oldest != 0 {
			t.Fatalf("queue after all settled = %+v, %v", st, err)
		}
		if s, _ := env.Stats(ctx); s.SMSQueued != 0 {
			t.Fatalf("stats sms_queued = %d", s.SMSQueued)
		}
	})
}

// TestSMSQueueSaveThatFails: the SMS of a turn whose save did not land
// (conflict) are never sent. On one Redis the script that refused the save
// listed nothing; on a cluster the listing written ahead of the save is
// dropped when claimed.
func TestSMSQueueSaveThatFails(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := saveWithSMS(t, env, msisdn(3))
		stale := c.Clone()
		stale.Version = 42
		err := env.Save(ctx, stale, time.Minute, "", dialog.Reply{}, dialog.SMS{To: msisdn(3), Text: "lost", Ref: "slip-lost"})
		if !errors.Is(err, dialog.ErrConflict) {
			t.Fatalf("stale save: %v", err)
		}
		_, onCluster := env.rdb.(*redis.ClusterClient)
		want := int64(0)
		if onCluster {
			want = 1
		}
		if st, _ := env.SMSQueue(ctx); st.Depth != want {
			t.Fatalf("depth = %d after the refused save, want %d", st.Depth, want)
		}
		env.clock.Advance(env.cfg.SMSLease + time.Millisecond)
		if qs, err := env.ClaimSMS(ctx, 10); err != nil || len(qs) != 0 {
			t.Fatalf("claimed an SMS whose save failed: %v, %v", qs, err)
		}
		if st, _ := env.SMSQueue(ctx); st.Depth != 0 {
			t.Fatalf("depth = %d after the claim, want 0", st.Depth)
		}
	})
}

// TestSMSQueueClaimShares: many SMS spread over the shards are claimed in
// batches of about the size asked, each once.
func TestSMSQueueClaimShares(t *testing.T) {
	forBackends(t, []backend{realRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const n = 100
		for i := range n {
			saveWithSMS(t, env, msisdn(1000+i), dialog.SMS{To: msisdn(1000 + i), Text: "x", Ref: "slip-" + msisdn(i)})
		}
		env.clock.Advance(env.cfg.SMSLease + time.Millisecond)
		seen := map[string]bool{}
		for range 20 {
			qs, err := env.ClaimSMS(ctx, 16)
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) > 16+smsShards {
				t.Fatalf("claimed %d, asked 16", len(qs))
			}
			for _, q := range qs {
				if seen[q.Ref] {
					t.Fatalf("%s claimed twice", q.Ref)
				}
				seen[q.Ref] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("claimed %d of %d", len(seen), n)
		}
	})
}

// TestEnqueueSMS: an SMS no turn produced (an invitation) is kept sealed
// in the caller's box and claimed once the lease of the gateway that
// queued it runs out, like a turn's; a bad number is refused.
func TestEnqueueSMS(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		inv := dialog.SMS{To: msisdn(3), Text: "Your turn: dial *123*45#", Ref: "invite-01", Kind: dialog.SMSKindInvite, Lang: "en"}
		if err := env.EnqueueSMS(ctx, msisdn(3), inv); err != nil {
			t.Fatal(err)
		}
		for k, v := range dump(t, env.rdb) {
			if strings.Contains(v, "dial") || strings.Contains(v, msisdn(3)[3:]) && strings.Contains(k, "smsbox") {
				t.Fatalf("%s holds the SMS in clear: %q", k, v)
			}
		}
		if qs, _ := env.ClaimSMS(ctx, 10); len(qs) != 0 {
			t.Fatalf("claimed within the lease: %v", refs(qs))
		}
		env.clock.Advance(env.cfg.SMSLease + time.Millisecond)
		qs, err := env.ClaimSMS(ctx, 10)
		if err != nil || len(qs) != 1 || qs[0].SMS != inv || qs[0].Caller != msisdn(3) {
			t.Fatalf("claimed %+v, %v; want %+v", qs, err, inv)
		}
		if err := env.EnqueueSMS(ctx, "12345", inv); err == nil {
			t.Fatal("a malformed number was queued")
		}
		if err := env.EnqueueSMS(ctx, msisdn(3)); err != nil {
			t.Fatalf("nothing to queue: %v", err)
		}
	})
}
