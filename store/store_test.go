package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestNewClient(t *testing.T) {
	for _, tc := range []struct {
		url   string
		kind  string // single, cluster, failover, error
		proto int    // the RESP version it speaks
	}{
		{"redis://localhost:6379", "single", 2},
		{"redis://:pw@localhost:6379/2?dial_timeout=3", "single", 2},
		{"rediss://localhost:6380", "single", 2},
		{"redis://localhost:6379?protocol=3", "single", 3},
		{"redis://h1:7000?addr=h2:7001&addr=h3:7002", "cluster", 2},
		{"redis://h1:7000?addr=h2:7001&protocol=3", "cluster", 3},
		{"redis://s1:26379?master_name=mymaster&addr=s2:26379", "failover", 2},
		{"http://localhost", "error", 0},
		{"redis://localhost:6379?no_such_option=1", "error", 0},
	} {
		c, err := NewClient(tc.url)
		got, proto := "error", 0
		if err == nil {
			switch c := c.(type) {
			case *redis.ClusterClient:
				got, proto = "cluster", c.Options().Protocol
			case *redis.Client:
				got, proto = "single", c.Options().Protocol
				// go-redis names a sentinel-backed client's address so.
				if c.Options().Addr == "FailoverClient" {
					got = "failover"
				}
			}
			_ = c.Close()
		}
		if got != tc.kind || proto != tc.proto {
			t.Errorf("%s: %s speaking RESP%d, want %s speaking RESP%d (%v)", tc.url, got, proto, tc.kind, tc.proto, err)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, Config{URL: "redis://127.0.0.1:1"}); err == nil {
		t.Error("Open without a secret succeeded")
	}
	if _, err := Open(ctx, Config{Secret: []byte("x")}); err == nil {
		t.Error("Open without a URL succeeded")
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := Open(cctx, Config{URL: "redis://127.0.0.1:1?dial_timeout=100ms&max_retries=-1", Secret: []byte("x")}); err == nil {
		t.Error("Open on a closed port succeeded")
	}
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		if err := env.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if env.cfg.MaxBeneficiaries != 4 || env.cfg.OTPValidity != 180*time.Second || env.cfg.OTPMaxTries != 3 ||
			env.cfg.OTPCooldown != 30*time.Second || env.cfg.OTPHourlyCap != 5 {
			t.Errorf("defaults = %+v", env.cfg)
		}
		if err := env.Close(); err != nil {
			t.Fatal(err)
		}
		if err := env.Ping(ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
}

func TestOpenEmbedded(t *testing.T) {
	ctx := context.Background()
	s, stop, err := OpenEmbedded(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, centreFixture(1, "Demo", "700001", [2]int{1, 0}))
	b, err := s.AddBeneficiary(ctx, msisdn(1), person(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Book(ctx, dialog.BookRequest{Msisdn: msisdn(1), Beneficiary: b.Ref, SessionID: "s-1-0", Slot: "09:00AM-11:00AM", Dose: 1}); err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("J8369854")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := s.Open(sealed); err != nil || plain != "J8369854" {
		t.Errorf("Open = %q, %v", plain, err)
	}
	stop()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after stop succeeded")
	}
}

// TestScriptCacheFlushed: scripts still run (EVALSHA falls back to EVAL),
// alone, in pipelines and batched, after the server forgot them (restart,
// failover).
func TestScriptCacheFlushed(t *testing.T) {
	forBackends(t, []backend{realRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		mustImport(t, env.Store, centreFixture(1, "A", "700001", [2]int{3, 0}))
		flush := func() {
			var err error
			if cc, ok := env.rdb.(*redis.ClusterClient); ok {
				err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ScriptFlush(ctx).Err() })
			} else {
				err = env.rdb.ScriptFlush(ctx).Err()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		flush()
		r := mustImport(t, env.Store, centreFixture(1, "A", "700001", [2]int{5, 0})) // pipelined scripts
		if r.UpdatedSessions != 1 {
			t.Errorf("import after flush: %+v", r)
		}
		flush()
		reqs := people(t, env.Store, 1)
		reqs[0].SessionID = "s-1-0"
		if _, err := env.Book(ctx, reqs[0]); err != nil {
			t.Fatal(err)
		}
		flush()
		env.clock.Advance(time.Hour)
		if _, err := env.Repair(ctx); err != nil {
			t.Fatal(err)
		}
		expectSeats(t, env, "s-1-0", dialog.Seats{Free: [2]int{4, 0}, Booked: [2]int{1, 0}})

		// Batched, as under load: the scripts went through the autopipeliner.
		env.waiting.Add(batchFrom)
		defer env.waiting.Add(-batchFrom)
		flush()
		if n, err := env.run(ctx, scriptSeatRelease, []string{seatsKey("s-1-0"), holdKey("s-1-0")}, "no-such-hold").Int64(); err != nil || n != 0 {
			t.Errorf("batched script after flush = %d, %v; want 0 (no hold released)", n, err)
		}
		flush()
		if r := mustImport(t, env.Store, centreFixture(1, "A", "700001", [2]int{6, 0})); r.UpdatedSessions != 1 {
			t.Errorf("batched import after flush: %+v", r)
		}
		expectSeats(t, env, "s-1-0", dialog.Seats{Free: [2]int{5, 0}, Booked: [2]int{1, 0}})
	})
}

// TestErrorsWrapped: Redis failures come back wrapped with context, typed
// domain errors stay matchable.
func TestErrorsWrapped(t *testing.T) {
	env := newEnv(t, redistestEmbedded(t))
	ctx := context.Background()
	_ = env.Close()
	_, err := env.Account(ctx, msisdn(1))
	if err == nil || !errors.Is(err, redis.ErrClosed) || err.Error()[:7] != "store: " {
		t.Errorf("closed client error = %v", err)
	}
}

// TestConnectionsHideTheirDescriptor checks that NewClient's connections do
// not offer syscall.Conn (so go-redis skips its per-command peek), and that
// a connection the server closed costs the caller nothing: the next command
// reads EOF on it and go-redis retries it on a new connection.
func TestConnectionsHideTheirDescriptor(t *testing.T) {
	for _, b := range []backend{realRedis, cluster} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rdb, err := NewClient(b.start(t))
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()

			var dial func(context.Context, string, string) (net.Conn, error)
			var addr string
			switch c := rdb.(type) {
			case *redis.Client:
				dial, addr = c.Options().Dialer, c.Options().Addr
			case *redis.ClusterClient:
				dial, addr = c.Options().Dialer, c.Options().Addrs[0]
			}
			conn, err := dial(ctx, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := conn.(syscall.Conn); ok {
				t.Errorf("%T offers syscall.Conn: go-redis would peek at it before every command", conn)
			}
			conn.Close()

			key := "ts:test:{killed}"
			for i := range 3 {
				if err := rdb.Set(ctx, key, i, time.Minute).Err(); err != nil {
					t.Fatalf("set before kill %d: %v", i, err)
				}
				// Close every other client's connection from the server side
				// (SKIPME yes spares the killer's own connection).
				killer := redis.NewClient(&redis.Options{Addr: killAddr(t, ctx, rdb, key)})
				if err := killer.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
					t.Fatalf("client kill: %v", err)
				}
				killer.Close()
				got, err := rdb.Get(ctx, key).Int()
				if err != nil || got != i {
					t.Fatalf("get after the server closed the connection: %d, %v; want %d", got, err, i)
				}
			}
		})
	}
}

// killAddr is the address of the node that holds key.
func killAddr(t *testing.T, ctx context.Context, rdb redis.UniversalClient, key string) string {
	t.Helper()
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		var addr string
		err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			if n.Exists(ctx, key).Val() == 1 {
				addr = n.Options().Addr
			}
			return nil
		})
		if err != nil || addr == "" {
			t.Fatalf("no master holds %s (%v)", key, err)
		}
		return addr
	}
	t.Fatalf("client %T", rdb)
	return ""
}

// With Config.Batch, pipelines and scripts go through the autopipeliner
// while others wait for Redis too: an exec answers with every command's
// result, and one whose context ends first gets errAbandoned without its
// commands (which still run). Alone, they go on their own.
func TestBatchedExec(t *testing.T) {
	forBackends(t, []backend{realRedis, cluster}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		if env.ap == nil {
			t.Fatal("a store opened with Batch has no autopipeliner")
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		p := env.rdb.Pipeline()
		p.Set(ctx, "ts:test:{batch}:alone", "0", time.Minute)
		if _, err := env.exec(done, p); !errors.Is(err, context.Canceled) || errors.Is(err, errAbandoned) {
			t.Fatalf("exec alone with its context ended: %v; want the client's own context.Canceled", err)
		}

		env.waiting.Add(batchFrom) // as if others waited
		defer env.waiting.Add(-batchFrom)
		p = env.rdb.Pipeline()
		set := p.Set(ctx, "ts:test:{batch}:a", "1", time.Minute)
		get := p.Get(ctx, "ts:test:{batch}:a")
		miss := p.Get(ctx, "ts:test:{batch}:missing")
		cmds, err := env.exec(ctx, p)
		switch {
		case !errors.Is(err, redis.Nil) || len(cmds) != 3:
			t.Fatalf("exec = %d commands, %v; want 3 and redis.Nil (the first error)", len(cmds), err)
		case set.Err() != nil || get.Val() != "1" || !errors.Is(miss.Err(), redis.Nil):
			t.Fatalf("set %v, get %q %v, missing %v", set.Err(), get.Val(), get.Err(), miss.Err())
		}

		// Commands built without a pipeline, as the hot paths send them.
		setB := redis.NewStatusCmd(ctx, "set", "ts:test:{batch}:b", "3")
		getB := redis.NewStringCmd(ctx, "get", "ts:test:{batch}:b")
		missB := redis.NewStringCmd(ctx, "get", "ts:test:{batch}:missing")
		if err := env.send(ctx, setB, missB, getB); !errors.Is(err, redis.Nil) || setB.Err() != nil || getB.Val() != "3" {
			t.Fatalf("send = %v; set %v, get %q %v; want redis.Nil (the first error), OK and 3", err, setB.Err(), getB.Val(), getB.Err())
		}
		if err := env.send(done, redis.NewStringCmd(ctx, "get", "ts:test:{batch}:b")); !errors.Is(err, errAbandoned) {
			t.Fatalf("send with its context ended: %v; want errAbandoned", err)
		}

		p = env.rdb.Pipeline()
		p.Set(ctx, "ts:test:{batch}:late", "2", time.Minute)
		if cmds, err := env.exec(done, p); !errors.Is(err, errAbandoned) || !errors.Is(err, context.Canceled) || cmds != nil {
			t.Fatalf("exec with its context ended = %v, %v; want errAbandoned", cmds, err)
		}
		if err := env.run(done, scriptSeatRelease, []string{seatsKey("s"), holdKey("s")}, "h").Err(); !errors.Is(err, errAbandoned) {
			t.Fatalf("script with its context ended: %v; want errAbandoned", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for env.rdb.Get(ctx, "ts:test:{batch}:late").Val() != "2" {
			if time.Now().After(deadline) {
				t.Fatal("the abandoned command never ran")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestBatchedTogether counts Redis's reads while 32 callers each run 20
// scripts: batched, many scripts arrive in one read.
func TestBatchedTogether(t *testing.T) {
	forBackends(t, []backend{realRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		reads := func() int64 {
			info := env.rdb.Info(ctx, "stats").Val()
			for _, line := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(line, "total_reads_processed:"); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
			}
			t.Fatal("no total_reads_processed in INFO stats")
			return 0
		}
		const callers, each = 32, 20
		before := reads()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				for j := range each {
					sid := fmt.Sprintf("s%d-%d", i, j)
					if err := env.run(ctx, scriptSeatRelease, []string{seatsKey(sid), holdKey(sid)}, "h").Err(); err != nil && !errors.Is(err, redis.Nil) {
						t.Error(err)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		// Less the two reads of INFO itself.
		if got := reads() - before - 2; got > callers*each/2 {
			t.Errorf("%d scripts took %d reads; batched, at most half as many", callers*each, got)
		}
	})
}
