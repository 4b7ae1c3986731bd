package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name    string
		start   func(testing.TB) string
		cluster bool
	}{
		{"redis", Start, false},
		{"embedded", Embedded, false},
		{"cluster1", func(t testing.TB) string { return StartCluster(t, 1) }, true},
		{"cluster3", func(t testing.TB) string { return StartCluster(t, 3) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.start(t)
			ctx := context.Background()
			var c redis.UniversalClient
			if tc.cluster {
				o, err := redis.ParseClusterURL(u)
				if err != nil {
					t.Fatal(err)
				}
				c = redis.NewClusterClient(o)
			} else {
				o, err := redis.ParseURL(u)
				if err != nil {
					t.Fatal(err)
				}
				c = redis.NewClient(o)
			}
			defer c.Close()
			if err := c.Set(ctx, "k{a}", "v", 0).Err(); err != nil {
				t.Fatalf("set: %v", err)
			}
			if v, err := c.Get(ctx, "k{a}").Result(); err != nil || v != "v" {
				t.Fatalf("get = %q, %v", v, err)
			}
			if tc.cluster {
				// A cluster refuses multi-key commands across slots.
				err := c.Do(ctx, "MSET", "x{a}", "1", "x{b}", "2").Err()
				if err == nil {
					t.Fatal("MSET across slots succeeded; want CROSSSLOT")
				}
			}
		})
	}
}

func TestRunClose(t *testing.T) {
	Require(t)
	s, err := Run()
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(s.Addrs[0])
	if r, err := ping(atoiT(t, port)); err != nil || r != "+PONG" {
		t.Fatalf("ping = %q, %v", r, err)
	}
	s.Close()
	s.Close() // idempotent
	if _, err := ping(atoiT(t, port)); err == nil {
		t.Fatal("server still answers after Close")
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("bad port %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
