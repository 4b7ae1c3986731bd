package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

func cacheCentre(id int64, name string) dialog.Centre {
	return dialog.Centre{ID: id, Name: name, Pincode: "700001", FeeType: dialog.Free,
		Sessions: []dialog.Session{{ID: "cache-s" + name, CentreID: id,
			Date: time.Date(2021, 5, 3, 0, 0, 0, 0, ist), MinAge: 18, Slots: []string{"09:00AM-11:00AM"}, Capacity: [2]int{5, 0}}}}
}

func TestCalendarCache(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		if _, err := env.ImportCentres(ctx, []dialog.Centre{cacheCentre(7001, "First")}); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2021, 5, 1, 10, 0, 0, 0, ist)
		var mu sync.Mutex
		c := NewCalendarCache(env.Store, 5*time.Second)
		c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		names := func() []string {
			cs, err := c.CentresByPin(ctx, "700001")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ce := range cs {
				out = append(out, ce.Name)
			}
			return out
		}
		if got := names(); len(got) != 1 || got[0] != "First" {
			t.Fatalf("first lookup = %v", got)
		}
		// Another process imports a second centre: this one sees it only
		// when its entry expires.
		if _, err := env.Store.ImportCentres(ctx, []dialog.Centre{cacheCentre(7002, "Second")}); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 1 {
			t.Fatalf("within the TTL the cache went to Redis: %v", got)
		}
		if ce, err := c.Centre(ctx, 7001); err != nil || ce.Name != "First" {
			t.Fatalf("Centre(7001) = %v, %v", ce.Name, err)
		}
		if ce, err := c.Centre(ctx, 7002); err != nil || ce.Name != "Second" {
			t.Fatalf("Centre not in the cache must come from Redis: %v, %v", ce.Name, err)
		}
		advance(6 * time.Second)
		if got := names(); len(got) != 2 {
			t.Fatalf("after the TTL = %v, want both centres", got)
		}
		// An import through the cache drops it at once.
		if _, err := c.ImportCentres(ctx, []dialog.Centre{cacheCentre(7003, "Third")}); err != nil {
			t.Fatal(err)
		}
		if got := names(); len(got) != 3 {
			t.Fatalf("after an import through the cache = %v, want three", got)
		}
		// Many turns asking at once get one consistent answer.
		advance(6 * time.Second)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if got := names(); len(got) != 3 {
					t.Errorf("concurrent lookup = %v", got)
				}
			})
		}
		wg.Wait()
		if _, err := c.Centre(ctx, 9999); err == nil {
			t.Fatal("unknown centre found")
		}
	})
}

// TestCalendarCacheSeats: seat counts come from the cache within SeatsTTL,
// except those this process's own bookings, cancellations and imports
// changed, which it reads again at once.
func TestCalendarCacheSeats(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		centre := cacheCentre(7101, "Seats")
		other := cacheCentre(7102, "Other")
		mustImport(t, env.Store, centre, other)
		sid, oid := centre.Sessions[0].ID, other.Sessions[0].ID
		now := time.Date(2021, 5, 1, 10, 0, 0, 0, ist)
		var mu sync.Mutex
		c := NewCalendarCache(env.Store, 5*time.Second)
		c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		reqs := people(t, env.Store, 3)
		for i := range reqs {
			reqs[i].SessionID = sid
		}
		free := func() [2]int {
			t.Helper()
			got, err := c.Seats(ctx, []string{sid, oid})
			if err != nil || len(got) != 2 {
				t.Fatalf("seats = %v, %v", got, err)
			}
			if got[1].Free[0] != 5 {
				t.Fatalf("the other session's seats = %+v, want 5 free", got[1])
			}
			return got[0].Free
		}
		steps := []struct {
			name string
			do   func()
			want int
		}{
			{"first read", func() {}, 5},
			{"another process books: not seen within the TTL", func() {
				if _, err := env.Store.Book(ctx, reqs[0]); err != nil {
					t.Fatal(err)
				}
			}, 5},
			{"after the TTL", func() { advance(SeatsTTL) }, 4},
			{"a booking through the cache: seen at once", func() {
				if _, err := c.Book(ctx, reqs[1]); err != nil {
					t.Fatal(err)
				}
			}, 3},
			{"a cancellation through the cache: seen at once", func() {
				if err := c.Cancel(ctx, reqs[1].Msisdn, reqs[1].Beneficiary, 1); err != nil {
					t.Fatal(err)
				}
			}, 4},
			{"another process books again", func() {
				if _, err := env.Store.Book(ctx, reqs[2]); err != nil {
					t.Fatal(err)
				}
			}, 4},
			{"an import through the cache: seen at once", func() {
				if _, err := c.ImportCentres(ctx, []dialog.Centre{cacheCentre(7103, "Third")}); err != nil {
					t.Fatal(err)
				}
			}, 3},
		}
		for _, st := range steps {
			st.do()
			if got := free(); got[0] != st.want {
				t.Fatalf("%s: %d free, want %d", st.name, got[0], st.want)
			}
		}
	})
}
