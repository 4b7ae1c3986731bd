package store

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestQueue walks the queue's rules on every backend: places in order of
// arrival, a place kept on dialling again, invitations in order, an
// invitation used once, an unused one expiring and reported to the
// gateway that sent it, and the totals.
func TestQueue(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		arrive := func(i, want int) {
			t.Helper()
			got, err := env.QueueArrive(ctx, msisdn(i), true)
			if err != nil || got != want {
				t.Fatalf("caller %d arrives: position %d, %v; want %d", i, got, err, want)
			}
		}
		invite := func(gw string, n int) InviteRound {
			t.Helper()
			r, err := env.QueueInvite(ctx, gw, n, 15*time.Minute)
			if err != nil {
				t.Fatalf("%s invites %d: %v", gw, n, err)
			}
			return r
		}
		// Caller 1 has chosen Hindi before: the invitation is in Hindi.
		c := &dialog.Conversation{Msisdn: msisdn(1), State: "home", Lang: "hi"}
		if err := env.Save(ctx, c, time.Minute, "", dialog.Reply{}); err != nil {
			t.Fatal(err)
		}

		arrive(1, 1)
		env.clock.Advance(time.Second)
		arrive(2, 2)
		arrive(3, 3)
		arrive(1, 1) // dialling again keeps the place
		env.clock.Advance(9 * time.Second)

		r := invite("gw-a", 1)
		if len(r.Invited) != 1 || r.Invited[0] != (Invitee{Msisdn: msisdn(1), Lang: "hi", Waited: 10 * time.Second}) || r.Waiting != 2 || r.Settled != 0 {
			t.Fatalf("first round = %+v", r)
		}
		arrive(2, 1) // the queue moved on
		arrive(1, 0) // the invitation lets them in…
		arrive(1, 3) // …once: dialling again later is a new arrival

		r = invite("gw-b", 1)
		if len(r.Invited) != 1 || r.Invited[0].Msisdn != msisdn(2) || r.Invited[0].Lang != "" || r.Waiting != 2 || r.Total != 2 || r.Outstanding != 1 {
			t.Fatalf("second round = %+v", r)
		}
		// Looking for an invitation only: none for caller 5, who is not
		// queued either; caller 3, waiting, keeps their place.
		for _, c := range []struct{ i, want int }{{5, -1}, {3, 1}} {
			if got, err := env.QueueArrive(ctx, msisdn(c.i), false); err != nil || got != c.want {
				t.Fatalf("caller %d looks for an invitation: %d, %v; want %d", c.i, got, err, c.want)
			}
		}
		if r := invite("gw-a", 0); r.Settled != 1 || len(r.Invited) != 0 || r.Expired != 0 {
			t.Fatalf("gw-a after its invitation was used = %+v; want 1 settled", r)
		}
		if r := invite("gw-a", 0); r.Settled != 0 || len(r.Invited) != 0 {
			t.Fatalf("settled counted twice: %+v", r)
		}

		st, err := env.QueueStats(ctx)
		if err != nil || st.Waiting != 2 || st.Invited != 1 || st.InvitedTotal != 2 || st.Used != 1 || st.Expired != 0 {
			t.Fatalf("stats = %+v, %v", st, err)
		}
		if st.OldestWait != 9*time.Second { // caller 3, since a second in
			t.Fatalf("oldest wait = %v, want 9s", st.OldestWait)
		}

		// Caller 2 never dials: the invitation expires, gw-b learns its
		// room is free again, and caller 2 dialling late joins the end.
		env.clock.Advance(15*time.Minute + time.Millisecond)
		if r := invite("gw-a", 0); r.Expired != 1 || r.Settled != 0 || len(r.Invited) != 0 {
			t.Fatalf("expiry round = %+v; want 1 expired, none of gw-a's", r)
		}
		arrive(2, 3)
		if r := invite("gw-b", 1); r.Settled != 1 || len(r.Invited) != 1 || r.Invited[0].Msisdn != msisdn(3) {
			t.Fatalf("gw-b after its invitation expired = %+v; want it told, and caller 3 invited", r)
		}
		st, _ = env.QueueStats(ctx)
		if st.Invited != 1 || st.Expired != 1 || st.Waiting != 2 {
			t.Fatalf("stats after expiry = %+v", st)
		}
		if _, err := env.QueueArrive(ctx, "98765", true); err == nil {
			t.Fatal("a malformed number joined the queue")
		}
	})
}

// TestQueueTwoGateways: gateways inviting at once never invite a caller
// twice, each invites in order of arrival, and together they invite
// everyone.
func TestQueueTwoGateways(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const callers = 60
		index := map[string]int{} // number → order of arrival
		for i := range callers {
			index[msisdn(i)] = i
			if _, err := env.QueueArrive(ctx, msisdn(i), true); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string][]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, gw := range []string{"gw-a", "gw-b"} {
			wg.Go(func() {
				for {
					r, err := env.QueueInvite(ctx, gw, 2, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(r.Invited) == 0 {
						return
					}
					mu.Lock()
					for _, inv := range r.Invited {
						got[gw] = append(got[gw], index[inv.Msisdn])
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		var all []int
		for gw, list := range got {
			if !slices.IsSorted(list) {
				t.Errorf("%s invited out of order: %v", gw, list)
			}
			all = append(all, list...)
		}
		slices.Sort(all)
		if len(all) != callers || len(slices.Compact(all)) != callers {
			t.Fatalf("invited %d callers (%d distinct), want each of %d once", len(all), len(slices.Compact(slices.Clone(all))), callers)
		}
	})
}
