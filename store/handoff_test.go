package store

import (
	"context"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestHandoffOnce: the first call for a number is let through and holds
// the number off for the period given, with no effect on another number;
// once the hold is gone (its expiry) the number may get one again. Bad
// arguments are refused without touching Redis.
func TestHandoffOnce(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		steps := []struct {
			name   string
			msisdn string
			per    time.Duration
			want   bool
		}{
			{"first", msisdn(700), time.Hour, true},
			{"again within the hour", msisdn(700), time.Hour, false},
			{"again with a shorter period", msisdn(700), time.Minute, false},
			{"another number", msisdn(701), time.Hour, true},
		}
		for _, s := range steps {
			got, err := env.HandoffOnce(ctx, s.msisdn, s.per)
			if err != nil || got != s.want {
				t.Fatalf("%s: HandoffOnce = %v, %v; want %v", s.name, got, err, s.want)
			}
		}
		// A refused call does not extend the hold: it runs from the first.
		if ttl := env.rdb.PTTL(ctx, handoffKey(msisdn(700))).Val(); ttl <= time.Hour-time.Minute || ttl > time.Hour {
			t.Fatalf("held for %v, want just under the hour", ttl)
		}
		// Redis expires the key after the hour; then one may go again.
		if err := env.rdb.Del(ctx, handoffKey(msisdn(700))).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := env.HandoffOnce(ctx, msisdn(700), time.Hour); err != nil || !got {
			t.Fatalf("after the hold: HandoffOnce = %v, %v; want true", got, err)
		}

		for _, bad := range []struct {
			name   string
			msisdn string
			per    time.Duration
		}{
			{"not E.164", "9800000702", time.Hour},
			{"no period", msisdn(702), 0},
			{"a negative period", msisdn(702), -time.Second},
		} {
			if got, err := env.HandoffOnce(ctx, bad.msisdn, bad.per); err == nil || got {
				t.Errorf("%s: HandoffOnce = %v, %v; want an error", bad.name, got, err)
			}
		}
		if n := env.rdb.Exists(ctx, handoffKey(msisdn(702))).Val(); n != 0 {
			t.Error("a refused call left a hold")
		}
	})
}

// TestKeepConversation: a conversation kept outlives its idle time, and
// keeping a number without one creates nothing.
func TestKeepConversation(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := &dialog.Conversation{Msisdn: msisdn(710), State: "pin", Lang: "hi", Channel: dialog.USSD}
		if err := env.Save(ctx, c, 13*time.Minute, "", dialog.Reply{Text: "PIN"}); err != nil {
			t.Fatal(err)
		}
		if err := env.KeepConversation(ctx, msisdn(710), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if ttl := env.rdb.PTTL(ctx, convKey(msisdn(710))).Val(); ttl <= 23*time.Hour {
			t.Fatalf("kept for %v, want 24h", ttl)
		}
		ld, err := env.Load(ctx, msisdn(710), "")
		if err != nil || ld.Conversation == nil || ld.Conversation.State != "pin" || ld.Conversation.Version != c.Version {
			t.Fatalf("after keeping: %+v, %v", ld.Conversation, err)
		}
		if err := env.KeepConversation(ctx, msisdn(711), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := env.rdb.Exists(ctx, convKey(msisdn(711))).Val(); n != 0 {
			t.Fatal("keeping a number without a conversation created one")
		}
		if err := env.KeepConversation(ctx, "9800000712", time.Hour); err == nil {
			t.Fatal("a number not in E.164 was accepted")
		}
	})
}
