package store

import (
	"context"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestStats(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		st, err := env.Stats(ctx)
		if err != nil || st != (dialog.Stats{}) {
			t.Fatalf("empty stats = %+v, %v", st, err)
		}
		// Enough sessions to take several SSCAN batches.
		var cs []dialog.Centre
		for i := range 300 {
			cs = append(cs, centreFixture(int64(1000+i), "C", "700100", [2]int{2, 1}, [2]int{1, 0}))
		}
		mustImport(t, env.Store, cs...)
		reqs := people(t, env.Store, 6)
		for i, r := range reqs[:5] {
			r.SessionID = cs[i].Sessions[0].ID
			if _, err := env.Book(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := env.Cancel(ctx, reqs[0].Msisdn, reqs[0].Beneficiary, 1); err != nil {
			t.Fatal(err)
		}
		// A reschedule does not count as a new appointment.
		r := reqs[1]
		r.SessionID = cs[200].Sessions[1].ID
		if _, err := env.Book(ctx, r); err != nil {
			t.Fatal(err)
		}
		st, err = env.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := dialog.Stats{Centres: 300, Sessions: 600, Beneficiaries: 6, Appointments: 4, SeatsFree: 300*4 - 4}
		if st != want {
			t.Errorf("stats = %+v, want %+v", st, want)
		}
	})
}
