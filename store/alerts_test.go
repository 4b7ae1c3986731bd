package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestAlertKeys: every alert key is in the one {alerts} slot, lives no
// longer than a subscription and a day in Redis, and the subscriptions
// are written as the scripts read them.
func TestAlertKeys(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(1)
		for _, pin := range []string{"700001", "110085"} {
			if err := env.Subscribe(ctx, m, pin, "bn"); err != nil {
				t.Fatal(err)
			}
		}
		subs, err := env.Due(ctx, "700001", env.clock.Now())
		if err != nil || len(subs) != 1 || subs[0] != (dialog.AlertSubscriber{Msisdn: m, Lang: "bn"}) {
			t.Fatalf("due = %+v, %v", subs, err)
		}
		expires := env.clock.Now().Add(dialog.AlertLifetime).UnixMilli()
		exp := strconv.FormatInt(expires, 10)
		want := map[string]string{
			alertNumberKey(m):     "hash{110085=" + exp + ", 700001=" + exp + "}",
			alertPinKey("700001"): "hash{" + m + "=" + exp + "|20210428|bn}", // alerted today
			alertPinKey("110085"): "hash{" + m + "=" + exp + "||bn}",
		}
		got := dump(t, env.rdb)
		if len(got) != len(want) {
			t.Errorf("keys %v, want those of %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		for k := range got {
			if !strings.HasPrefix(k, "ts:alert:{alerts}:") {
				t.Errorf("key %s outside the {alerts} slot", k)
				continue
			}
			ttl, err := env.rdb.PTTL(ctx, k).Result()
			if err != nil || ttl <= 0 || ttl > alertKeyTTL {
				t.Errorf("%s: TTL %v (%v), want within %v", k, ttl, err, alertKeyTTL)
			}
		}
	})
}

// TestAlertUnsubscribeEndsEverything: after a fourth subscription was
// refused, Unsubscribe leaves no alert key behind.
func TestAlertUnsubscribeEndsEverything(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		m := msisdn(2)
		for _, pin := range []string{"700001", "700002", "700003"} {
			if err := env.Subscribe(ctx, m, pin, "en"); err != nil {
				t.Fatal(err)
			}
		}
		if err := env.Subscribe(ctx, m, "700004", "en"); !errors.Is(err, dialog.ErrTooManyAlerts) {
			t.Fatalf("fourth: %v, want ErrTooManyAlerts", err)
		}
		if err := env.Unsubscribe(ctx, m); err != nil {
			t.Fatal(err)
		}
		if left := dump(t, env.rdb); len(left) != 0 {
			t.Errorf("keys left after unsubscribe: %v", left)
		}
	})
}
