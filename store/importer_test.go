package store

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func calendar() []dialog.Centre {
	return []dialog.Centre{
		centreFixture(101, "PHC Salt Lake", "700091", [2]int{10, 5}, [2]int{8, 0}),
		centreFixture(102, "AMRI Hospital", "700091", [2]int{50, 50}),
		centreFixture(103, "Rural Hospital", "721101", [2]int{0, 3}),
	}
}

func TestImportIdempotent(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		r1 := mustImport(t, env.Store, calendar()...)
		if r1 != (ImportResult{Centres: 3, Sessions: 4, NewCentres: 3, NewSessions: 4}) {
			t.Errorf("first import = %+v", r1)
		}
		st1, err := env.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st1 != (dialog.Stats{Centres: 3, Sessions: 4, SeatsFree: 10 + 5 + 8 + 100 + 3}) {
			t.Errorf("stats = %+v", st1)
		}
		d1 := dump(t, env.rdb)
		r2 := mustImport(t, env.Store, calendar()...)
		if r2 != (ImportResult{Centres: 3, Sessions: 4}) {
			t.Errorf("second import = %+v", r2)
		}
		st2, _ := env.Stats(ctx)
		d2 := dump(t, env.rdb)
		if st1 != st2 {
			t.Errorf("stats changed: %+v → %+v", st1, st2)
		}
		if !maps.Equal(d1, d2) {
			t.Errorf("keys changed:\n%v\n%v", d1, d2)
		}
		for _, k := range slices.Sorted(maps.Keys(d1)) {
			if n := countTags(k); n != 1 {
				t.Errorf("key %s has %d hash tags", k, n)
			}
		}
	})
}

func countTags(k string) int {
	n := 0
	for i := 0; i < len(k); i++ {
		if k[i] == '{' {
			n++
		}
	}
	return n
}

// TestImportKeepsBookings: a newer file for the same sessions changes
// capacity around seats already held; free = max(0, new − held).
func TestImportKeepsBookings(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		cal := calendar()
		mustImport(t, env.Store, cal...)
		s0 := cal[0].Sessions[0]
		reqs := people(t, env.Store, 3)
		for _, r := range reqs {
			r.SessionID = s0.ID
			if _, err := env.Book(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{7, 5}, Booked: [2]int{3, 0}})

		for _, tc := range []struct {
			capacity [2]int
			want     dialog.Seats
		}{
			{[2]int{6, 5}, dialog.Seats{Free: [2]int{3, 5}, Booked: [2]int{3, 0}}},
			{[2]int{2, 0}, dialog.Seats{Free: [2]int{0, 0}, Booked: [2]int{3, 0}}}, // over-held: no free seat, nobody dropped
			{[2]int{20, 1}, dialog.Seats{Free: [2]int{17, 1}, Booked: [2]int{3, 0}}},
		} {
			cal[0].Sessions[0].Capacity = tc.capacity
			r := mustImport(t, env.Store, cal...)
			if r.UpdatedSessions != 1 || r.ChangedCentres != 1 {
				t.Errorf("capacity %v: result %+v", tc.capacity, r)
			}
			expectSeats(t, env, s0.ID, tc.want)
		}
		// Capacity below held, then a cancel: free stays max(0, i − h).
		cal[0].Sessions[0].Capacity = [2]int{2, 0}
		mustImport(t, env.Store, cal...)
		if err := env.Cancel(ctx, reqs[0].Msisdn, reqs[0].Beneficiary, 1); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{0, 0}, Booked: [2]int{2, 0}})
		if err := env.Cancel(ctx, reqs[1].Msisdn, reqs[1].Beneficiary, 1); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{1, 0}, Booked: [2]int{1, 0}})
		acc, _ := env.Account(ctx, reqs[2].Msisdn)
		if _, ok := acc.AppointmentFor(reqs[2].Beneficiary, 1); !ok {
			t.Error("booking lost by re-import")
		}
	})
}

// TestImportMergesSessions: a later calendar for a centre keeps the
// sessions it does not list; a session in both takes the new data; a
// centre that moves PIN code is found only under the new one.
func TestImportMergesSessions(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		week1 := centreFixture(201, "Town Hall", "700020", [2]int{5, 0}, [2]int{5, 0})
		mustImport(t, env.Store, week1)

		week2 := centreFixture(201, "Town Hall (renamed)", "700021", [2]int{9, 9})
		week2.Sessions[0].ID = week1.Sessions[1].ID // same session, new data
		week2.Sessions[0].Slots = []string{"10:00AM-12:00PM"}
		week2.Sessions = append(week2.Sessions, dialog.Session{ID: "s-201-new", Date: day(8), MinAge: 18, Capacity: [2]int{4, 0}})
		r := mustImport(t, env.Store, week2)
		if r != (ImportResult{Centres: 1, Sessions: 2, ChangedCentres: 1, NewSessions: 1, UpdatedSessions: 1}) {
			t.Errorf("result = %+v", r)
		}
		c, err := env.Centre(ctx, 201)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range c.Sessions {
			ids = append(ids, s.ID)
		}
		if want := []string{"s-201-0", "s-201-1", "s-201-new"}; !slices.Equal(ids, want) {
			t.Errorf("sessions = %v, want %v", ids, want)
		}
		if c.Name != "Town Hall (renamed)" || c.Sessions[1].Slots[0] != "10:00AM-12:00PM" || c.Sessions[1].Capacity != [2]int{9, 9} {
			t.Errorf("centre = %+v", c)
		}
		if cs, _ := env.CentresByPin(ctx, "700020"); len(cs) != 0 {
			t.Errorf("still under the old PIN: %v", cs)
		}
		if cs, _ := env.CentresByPin(ctx, "700021"); len(cs) != 1 {
			t.Errorf("not under the new PIN: %v", cs)
		}
		// Within one input, a centre listed twice (two calendar files) is
		// merged too.
		a := centreFixture(300, "Twice", "700030", [2]int{1, 0})
		b := centreFixture(300, "Twice", "700030", [2]int{2, 0})
		b.Sessions[0].ID = "s-300-b"
		r = mustImport(t, env.Store, a, b)
		if r.Centres != 1 || r.Sessions != 2 {
			t.Errorf("duplicate centre: %+v", r)
		}
		if c, _ := env.Centre(ctx, 300); len(c.Sessions) != 2 {
			t.Errorf("duplicate centre sessions: %+v", c.Sessions)
		}
	})
}

func TestImportRejects(t *testing.T) {
	env := newEnv(t, redistestEmbedded(t))
	ctx := context.Background()
	for name, c := range map[string]dialog.Centre{
		"no id":         {Name: "x", Pincode: "700001"},
		"no pincode":    {ID: 1, Name: "x"},
		"brace in sid":  {ID: 1, Pincode: "700001", Sessions: []dialog.Session{{ID: "a{b}"}}},
		"empty session": {ID: 1, Pincode: "700001", Sessions: []dialog.Session{{ID: ""}}},
		"brace in pin":  {ID: 1, Pincode: "70{0}01"},
	} {
		if _, err := env.ImportCentres(ctx, []dialog.Centre{c}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Negative capacity is clamped.
	c := centreFixture(1, "x", "700001", [2]int{-5, 3})
	mustImport(t, env.Store, c)
	expectSeats(t, env, c.Sessions[0].ID, dialog.Seats{Free: [2]int{0, 3}})
}
