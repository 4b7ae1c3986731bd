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
