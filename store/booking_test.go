package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestBookRace: 1,000 distinct beneficiaries race for 10 dose-1 seats.
func TestBookRace(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(1, "Race Hall", "700001", [2]int{10, 5})
		mustImport(t, env.Store, c)
		sid := c.Sessions[0].ID
		reqs := people(t, env.Store, 1000)

		var won, full atomic.Int64
		var other []error
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, r := range reqs {
			r.SessionID = sid
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := env.Book(ctx, r)
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, dialog.ErrFullyBooked):
					full.Add(1)
				default:
					mu.Lock()
					other = append(other, err)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(other) > 0 {
			t.Fatalf("%d unexpected errors, first: %v", len(other), other[0])
		}
		if won.Load() != 10 || full.Load() != 990 {
			t.Fatalf("booked %d, fully booked %d; want 10 and 990", won.Load(), full.Load())
		}
		seats, err := env.Seats(ctx, []string{sid})
		if err != nil {
			t.Fatal(err)
		}
		if want := (dialog.Seats{Free: [2]int{0, 5}, Booked: [2]int{10, 0}}); seats[0] != want {
			t.Fatalf("seats = %+v, want %+v", seats[0], want)
		}
		checkSeatInvariants(t, env, []dialog.Centre{c}, reqs, true)
		st, err := env.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Appointments != 10 || st.Beneficiaries != 1000 || st.SeatsFree != 5 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

// checkSeatInvariants checks, for every session: free + booked == imported,
// booked == number of holders, and (when exact) booked == number of
// appointments pointing at it; otherwise booked ≥ appointments (never a seat
// sold twice). It also checks every appointment has its hold.
func checkSeatInvariants(t *testing.T, env *testEnv, centres []dialog.Centre, reqs []dialog.BookRequest, exact bool) {
	t.Helper()
	ctx := context.Background()
	pointing := map[string][2]int{}
	seenAcc := map[string]bool{}
	for _, r := range reqs {
		if seenAcc[r.Msisdn] {
			continue
		}
		seenAcc[r.Msisdn] = true
		acc, err := env.Account(ctx, r.Msisdn)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range acc.Appointments {
			n := pointing[a.SessionID]
			n[a.Dose-1]++
			pointing[a.SessionID] = n
			h, err := env.rdb.HGet(ctx, holdKey(a.SessionID), apptField(a.Beneficiary, a.Dose)).Result()
			if err != nil {
				var holds []string
				for _, c := range centres {
					for _, ss := range c.Sessions {
						if v, err := env.rdb.HGet(ctx, holdKey(ss.ID), apptField(a.Beneficiary, a.Dose)).Result(); err == nil {
							holds = append(holds, ss.ID+"="+v)
						}
					}
				}
				raw := env.rdb.HGet(ctx, apptKey(a.Msisdn), apptField(a.Beneficiary, a.Dose)).Val()
				t.Fatalf("exact=%v: appointment %s has no hold: %v\nrecord %s\nholds %v", exact, a.ID, err, raw, holds)
			}
			if hd, _ := parseHolder(h); hd.apptID != a.ID {
				t.Fatalf("appointment %s: hold is %q", a.ID, h)
			}
		}
	}
	for _, c := range centres {
		for _, ss := range c.Sessions {
			seats, err := env.Seats(ctx, []string{ss.ID})
			if err != nil {
				t.Fatal(err)
			}
			holders, err := env.rdb.HLen(ctx, holdKey(ss.ID)).Result()
			if err != nil {
				t.Fatal(err)
			}
			st := seats[0]
			for d := range 2 {
				if st.Free[d]+st.Booked[d] != ss.Capacity[d] {
					t.Errorf("session %s dose %d: free %d + booked %d != imported %d", ss.ID, d+1, st.Free[d], st.Booked[d], ss.Capacity[d])
				}
				if st.Free[d] < 0 || st.Booked[d] < 0 {
					t.Errorf("session %s dose %d: negative %+v", ss.ID, d+1, st)
				}
				if exact && st.Booked[d] != pointing[ss.ID][d] {
					t.Errorf("session %s dose %d: booked %d, appointments %d", ss.ID, d+1, st.Booked[d], pointing[ss.ID][d])
				}
				if st.Booked[d] < pointing[ss.ID][d] {
					t.Errorf("session %s dose %d: OVERSOLD booked %d < appointments %d", ss.ID, d+1, st.Booked[d], pointing[ss.ID][d])
				}
			}
			if int(holders) != st.Booked[0]+st.Booked[1] {
				t.Errorf("session %s: %d holders, booked %v", ss.ID, holders, st.Booked)
			}
		}
	}
}

// TestRescheduleCancelConcurrent: beneficiaries book, reschedule and cancel
// at random, concurrently, over few seats. Phase 1 has one worker per
// person: seats are exact at every end. Phase 2 lets two workers act for
// the same person at once: no seat is ever sold twice, and Repair restores
// exactness. (Not on miniredis: slow under -race, and it proves nothing a
// real server does not.)
func TestRescheduleCancelConcurrent(t *testing.T) {
	forBackends(t, []backend{realRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		centres := []dialog.Centre{
			centreFixture(1, "Alpha", "700001", [2]int{8, 4}, [2]int{6, 0}),
			centreFixture(2, "Beta", "700001", [2]int{5, 5}),
		}
		mustImport(t, env.Store, centres...)
		var sids []string
		for _, c := range centres {
			for _, ss := range c.Sessions {
				sids = append(sids, ss.ID)
			}
		}
		reqs := people(t, env.Store, 40)
		slots := centres[0].Sessions[0].Slots

		run := func(workersPerPerson, ops int) {
			var wg sync.WaitGroup
			var bad atomic.Value
			for i, r := range reqs {
				for w := range workersPerPerson {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := r // each worker its own copy
						rng := rand.New(rand.NewPCG(uint64(i), uint64(w)))
						for range ops {
							r.Dose = 1 + rng.IntN(2)
							var err error
							if rng.IntN(4) == 0 {
								err = env.Cancel(ctx, r.Msisdn, r.Beneficiary, r.Dose)
								if errors.Is(err, dialog.ErrNotFound) {
									err = nil
								}
							} else {
								r.SessionID = sids[rng.IntN(len(sids))]
								r.Slot = slots[rng.IntN(len(slots))]
								_, err = env.Book(ctx, r)
								// Two workers hammering one person may
								// exhaust Book's retries: a valid answer.
								if errors.Is(err, dialog.ErrFullyBooked) ||
									(workersPerPerson > 1 && errors.Is(err, dialog.ErrConflict)) {
									err = nil
								}
							}
							if err != nil {
								bad.Store(err)
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			if err, _ := bad.Load().(error); err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
		}

		run(1, 25)
		checkSeatInvariants(t, env, centres, reqs, true)

		run(2, 15)
		checkSeatInvariants(t, env, centres, reqs, false)
		env.clock.Advance(env.cfg.RepairGrace + time.Second)
		if _, err := env.Repair(ctx); err != nil {
			t.Fatal(err)
		}
		checkSeatInvariants(t, env, centres, reqs, true)

		// The appointments counter matches what accounts hold: a booking
		// that creates the field counts once, a cancel that removes it once.
		var n int64
		seen := map[string]bool{}
		for _, r := range reqs {
			if !seen[r.Msisdn] {
				seen[r.Msisdn] = true
				acc, _ := env.Account(ctx, r.Msisdn)
				n += int64(len(acc.Appointments))
			}
		}
		if st, _ := env.Stats(ctx); st.Appointments != n {
			t.Errorf("stats appointments %d, accounts hold %d", st.Appointments, n)
		}
	})
}

func TestBookRules(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(7, "Rules", "700007", [2]int{2, 2}, [2]int{1, 1})
		c.Sessions[1].MinAge = 45
		c2 := centreFixture(8, "Other", "700007", [2]int{1, 0})
		mustImport(t, env.Store, c, c2)
		m := msisdn(1)
		young, err := env.AddBeneficiary(ctx, m, dialog.NewBeneficiary{Name: "Young", BirthYear: 1995, IDType: dialog.IDPAN, IDNumber: "ABCPE1234F"})
		if err != nil {
			t.Fatal(err)
		}
		s0, s1, s2 := c.Sessions[0], c.Sessions[1], c2.Sessions[0]
		req := func(sid, slot string, dose int) dialog.BookRequest {
			return dialog.BookRequest{Msisdn: m, Beneficiary: young.Ref, SessionID: sid, Slot: slot, Dose: dose}
		}
		// The refusals (age, unknown session, slot, person, another
		// account's person, dose 3) are dialogtest's port suite, which
		// TestPorts runs on this store.

		// Book, then change the slot in the same session: same id and code.
		a1, err := env.Book(ctx, req(s0.ID, s0.Slots[0], 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(a1.ID) != 12 || len(a1.Code) != 4 || a1.CentreID != 7 || !a1.Date.Equal(s0.Date) {
			t.Errorf("appointment = %+v", a1)
		}
		a2, err := env.Book(ctx, req(s0.ID, s0.Slots[1], 1))
		if err != nil {
			t.Fatal(err)
		}
		if a2.ID != a1.ID || a2.Code != a1.Code || a2.Slot != s0.Slots[1] {
			t.Errorf("slot change: %+v, was %+v", a2, a1)
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{1, 2}, Booked: [2]int{1, 0}})

		// Dose 2 is a separate appointment.
		if _, err := env.Book(ctx, req(s0.ID, s0.Slots[0], 2)); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{1, 1}, Booked: [2]int{1, 1}})

		// Reschedule dose 1 elsewhere: the old seat is freed.
		a3, err := env.Book(ctx, req(s2.ID, s2.Slots[0], 1))
		if err != nil {
			t.Fatal(err)
		}
		if a3.ID == a1.ID || a3.SessionID != s2.ID {
			t.Errorf("reschedule = %+v", a3)
		}
		expectSeats(t, env, s0.ID, dialog.Seats{Free: [2]int{2, 1}, Booked: [2]int{0, 1}})
		expectSeats(t, env, s2.ID, dialog.Seats{Free: [2]int{0, 0}, Booked: [2]int{1, 0}})
		acc, err := env.Account(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(acc.Appointments) != 2 {
			t.Fatalf("appointments = %+v", acc.Appointments)
		}
		if got, ok := acc.AppointmentFor(young.Ref, 1); !ok || got.ID != a3.ID || got.Code != a3.Code {
			t.Errorf("AppointmentFor = %+v", got)
		}

		// s2 is now full for anyone else.
		other, err := env.AddBeneficiary(ctx, m, dialog.NewBeneficiary{Name: "Other", BirthYear: 1960, IDType: dialog.IDVoter, IDNumber: "ABC1234567"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Book(ctx, dialog.BookRequest{Msisdn: m, Beneficiary: other.Ref, SessionID: s2.ID, Slot: s2.Slots[0], Dose: 1}); !errors.Is(err, dialog.ErrFullyBooked) {
			t.Errorf("full session: %v", err)
		}
		// ...but the 45+ session fits them.
		if _, err := env.Book(ctx, dialog.BookRequest{Msisdn: m, Beneficiary: other.Ref, SessionID: s1.ID, Slot: s1.Slots[0], Dose: 1}); err != nil {
			t.Errorf("45+ session: %v", err)
		}

		// Cancel frees; a second cancel is ErrNotFound.
		if err := env.Cancel(ctx, m, young.Ref, 1); err != nil {
			t.Fatal(err)
		}
		if err := env.Cancel(ctx, m, young.Ref, 1); !errors.Is(err, dialog.ErrNotFound) {
			t.Errorf("second cancel: %v", err)
		}
		expectSeats(t, env, s2.ID, dialog.Seats{Free: [2]int{1, 0}})
		st, _ := env.Stats(ctx)
		if st.Appointments != 2 {
			t.Errorf("stats appointments = %d, want 2", st.Appointments)
		}
	})
}

func expectSeats(t *testing.T, env *testEnv, sid string, want dialog.Seats) {
	t.Helper()
	got, err := env.Seats(context.Background(), []string{sid})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != want {
		t.Errorf("seats %s = %+v, want %+v", sid, got[0], want)
	}
}

// TestRepair simulates each crash that the ordered steps can leave and checks
// that Repair frees exactly the orphaned seat, only after the grace period.
func TestRepair(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(3, "Repair", "700003", [2]int{4, 0}, [2]int{3, 0})
		mustImport(t, env.Store, c)
		sA, sB := c.Sessions[0], c.Sessions[1]
		reqs := people(t, env.Store, 4)
		for i := range reqs {
			reqs[i].SessionID = sA.ID
		}

		// Crash 1: seat taken (step 2), process died before the appointment.
		field := apptField(reqs[0].Beneficiary, 1)
		st, _, err := env.takeSeat(ctx, sA.ID, field, 1, newAppointmentID(), reqs[0].Msisdn, newToken(), env.now().UnixMilli())
		if err != nil || st != 0 {
			t.Fatalf("takeSeat = %d, %v", st, err)
		}
		// Crash 2: a reschedule wrote the appointment in B (steps 2, 3) but
		// never released A.
		if _, err := env.Book(ctx, reqs[1]); err != nil {
			t.Fatal(err)
		}
		moveWithoutRelease(t, env, reqs[1], sB.ID)
		// Crash 3: a cancel removed the appointment but never freed the seat.
		if _, err := env.Book(ctx, reqs[2]); err != nil {
			t.Fatal(err)
		}
		if err := env.rdb.HDel(ctx, apptKey(reqs[2].Msisdn), apptField(reqs[2].Beneficiary, 1)).Err(); err != nil {
			t.Fatal(err)
		}
		// A healthy booking that Repair must leave alone.
		healthy, err := env.Book(ctx, reqs[3])
		if err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, sA.ID, dialog.Seats{Free: [2]int{0, 0}, Booked: [2]int{4, 0}})

		// Within the grace period nothing is touched.
		if n, err := env.Repair(ctx); err != nil || n != 0 {
			t.Fatalf("early repair = %d, %v", n, err)
		}
		env.clock.Advance(env.cfg.RepairGrace + time.Second)
		n, err := env.Repair(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("repaired %d, want 3", n)
		}
		expectSeats(t, env, sA.ID, dialog.Seats{Free: [2]int{3, 0}, Booked: [2]int{1, 0}})
		expectSeats(t, env, sB.ID, dialog.Seats{Free: [2]int{2, 0}, Booked: [2]int{1, 0}})
		checkSeatInvariants(t, env, []dialog.Centre{c}, reqs, true)
		acc, _ := env.Account(ctx, reqs[3].Msisdn)
		if a, ok := acc.AppointmentFor(reqs[3].Beneficiary, 1); !ok || a.ID != healthy.ID {
			t.Errorf("healthy appointment lost: %+v", acc.Appointments)
		}
		if n, _ := env.Repair(ctx); n != 0 {
			t.Errorf("second repair fixed %d", n)
		}
	})
}

// TestRepairManyHolds: a session with more holds than Repair reads at a
// time is repaired whole, a batch at a time.
func TestRepairManyHolds(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const seats, orphans = 2000, 3*repairBatch + 7
		c := centreFixture(4, "Many", "700004", [2]int{seats, 0})
		mustImport(t, env.Store, c)
		sid := c.Sessions[0].ID
		for i := range orphans {
			field := apptField(fmt.Sprintf("%013d", i), 1)
			st, _, err := env.takeSeat(ctx, sid, field, 1, newAppointmentID(), msisdn(100+i), newToken(), env.now().UnixMilli())
			if err != nil || st != 0 {
				t.Fatalf("takeSeat %d = %d, %v", i, st, err)
			}
		}
		expectSeats(t, env, sid, dialog.Seats{Free: [2]int{seats - orphans, 0}, Booked: [2]int{orphans, 0}})
		env.clock.Advance(env.cfg.RepairGrace + time.Second)
		n, err := env.Repair(ctx)
		if err != nil || n != orphans {
			t.Fatalf("repaired %d, %v; want %d", n, err, orphans)
		}
		expectSeats(t, env, sid, dialog.Seats{Free: [2]int{seats, 0}, Booked: [2]int{0, 0}})
	})
}

// moveWithoutRelease performs Book steps 2 and 3 of a reschedule to sid and
// skips step 4.
func moveWithoutRelease(t *testing.T, env *testEnv, r dialog.BookRequest, sid string) {
	t.Helper()
	ctx := context.Background()
	field := apptField(r.Beneficiary, r.Dose)
	token := newToken()
	st, id, err := env.takeSeat(ctx, sid, field, r.Dose, newAppointmentID(), r.Msisdn, token, env.now().UnixMilli())
	if err != nil || st != 0 {
		t.Fatalf("takeSeat = %d, %v", st, err)
	}
	rec := apptRecord{Appointment: dialog.Appointment{ID: id, Code: "1234", Beneficiary: r.Beneficiary,
		Msisdn: r.Msisdn, SessionID: sid, Slot: r.Slot, Dose: r.Dose}, Hold: token}
	js, _ := json.Marshal(rec)
	if err := env.rdb.HSet(ctx, apptKey(r.Msisdn), field, js).Err(); err != nil {
		t.Fatal(err)
	}
	if err := env.rdb.HIncrBy(ctx, apptGenKey(r.Msisdn), field, 1).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestBookRetryAfterCrash: a booking retried after a crash between steps 2
// and 3 keeps the seat it took instead of taking a second one.
func TestBookRetryAfterCrash(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(4, "Retry", "700004", [2]int{2, 0})
		mustImport(t, env.Store, c)
		r := people(t, env.Store, 1)[0]
		r.SessionID = c.Sessions[0].ID
		field := apptField(r.Beneficiary, 1)
		_, held, err := env.takeSeat(ctx, r.SessionID, field, 1, newAppointmentID(), r.Msisdn, newToken(), env.now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		a, err := env.Book(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != held {
			t.Errorf("retry took a new appointment id %s, held %s", a.ID, held)
		}
		expectSeats(t, env, r.SessionID, dialog.Seats{Free: [2]int{1, 0}, Booked: [2]int{1, 0}})
		if st, _ := env.Stats(ctx); st.Appointments != 1 {
			t.Errorf("appointments = %d", st.Appointments)
		}
	})
}

// ---- benchmarks (real redis-server) -------------------------------------

func benchEnv(b *testing.B) *testEnv {
	b.Helper()
	return newEnv(b, realRedis.start(b))
}

// BenchmarkBook: each iteration books a distinct beneficiary into a large
// session (3 round trips: read, seat, appointment; plus the counter).
func BenchmarkBook(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	c := centreFixture(1, "Bench", "700001", [2]int{1 << 30, 0})
	mustImport(b, env.Store, c)
	reqs := people(b, env.Store, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i]
		r.SessionID = c.Sessions[0].ID
		if _, err := env.Book(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBookParallel: the same from GOMAXPROCS×4 goroutines.
func BenchmarkBookParallel(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	c := centreFixture(1, "Bench", "700001", [2]int{1 << 30, 0})
	mustImport(b, env.Store, c)
	reqs := people(b, env.Store, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := reqs[next.Add(1)-1]
			r.SessionID = c.Sessions[0].ID
			if _, err := env.Book(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBookCancel: a book/cancel pair per iteration for one person.
func BenchmarkBookCancel(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	c := centreFixture(1, "Bench", "700001", [2]int{1, 0})
	mustImport(b, env.Store, c)
	r := people(b, env.Store, 1)[0]
	r.SessionID = c.Sessions[0].ID
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := env.Book(ctx, r); err != nil {
			b.Fatal(err)
		}
		if err := env.Cancel(ctx, r.Msisdn, r.Beneficiary, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStaleBookingConflicts replays, step by step, the interleaving that
// would sell a seat twice without the account generation: booking k takes
// a seat; booking m for the same person reuses it, writes its appointment
// and is cancelled (freeing the seat); k's late step 3 must then fail. The
// same holds when Repair frees a stalled booking's seat.
func TestStaleBookingConflicts(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		c := centreFixture(5, "Stale", "700005", [2]int{3, 0})
		mustImport(t, env.Store, c)
		r := people(t, env.Store, 1)[0]
		r.SessionID = c.Sessions[0].ID
		field := apptField(r.Beneficiary, 1)
		gen := func() int64 {
			n, _ := env.rdb.HGet(ctx, apptGenKey(r.Msisdn), field).Int64()
			return n
		}
		lateWrite := func(g int64, id, token string) int64 {
			js, _ := json.Marshal(apptRecord{Appointment: dialog.Appointment{ID: id, SessionID: r.SessionID, Beneficiary: r.Beneficiary, Dose: 1}, Hold: token})
			res, err := scriptApptPut.Run(ctx, env.rdb, []string{apptKey(r.Msisdn), apptGenKey(r.Msisdn)}, field, js, g).Slice()
			if err != nil {
				t.Fatal(err)
			}
			return res[0].(int64)
		}

		// k: steps 1 and 2.
		g0 := gen()
		tk := newToken()
		_, idK, err := env.takeSeat(ctx, r.SessionID, field, 1, newAppointmentID(), r.Msisdn, tk, env.now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		// m: a whole booking (reusing k's seat), then a cancel.
		if a, err := env.Book(ctx, r); err != nil || a.ID != idK {
			t.Fatalf("m booked %+v, %v (k holds %s)", a, err, idK)
		}
		if err := env.Cancel(ctx, r.Msisdn, r.Beneficiary, 1); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, r.SessionID, dialog.Seats{Free: [2]int{3, 0}})
		// k: step 3 is refused.
		if ok := lateWrite(g0, idK, tk); ok != 0 {
			t.Fatal("stale step 3 accepted: an appointment without a seat")
		}

		// A booking stalled past the grace period: Repair frees its seat
		// and fences the account, so its step 3 is refused too.
		g1 := gen()
		ts := newToken()
		_, idS, err := env.takeSeat(ctx, r.SessionID, field, 1, newAppointmentID(), r.Msisdn, ts, env.now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		env.clock.Advance(env.cfg.RepairGrace + time.Second)
		if n, err := env.Repair(ctx); err != nil || n != 1 {
			t.Fatalf("repair = %d, %v", n, err)
		}
		if ok := lateWrite(g1, idS, ts); ok != 0 {
			t.Fatal("stalled step 3 accepted after Repair freed its seat")
		}
		expectSeats(t, env, r.SessionID, dialog.Seats{Free: [2]int{3, 0}})
		// And a normal booking afterwards works.
		if _, err := env.Book(ctx, r); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, r.SessionID, dialog.Seats{Free: [2]int{2, 0}, Booked: [2]int{1, 0}})
	})
}
