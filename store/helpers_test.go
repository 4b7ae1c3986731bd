package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// backend is one Redis to run a test against.
type backend struct {
	name  string
	start func(testing.TB) string
}

var (
	realRedis = backend{"redis", redistest.Start}
	miniRedis = backend{"miniredis", redistest.Embedded}
	// A three-master cluster proves that no command or script spans slots.
	// It is shared by the package's tests (a cluster takes 2 s to start)
	// and flushed before each use.
	cluster = backend{"cluster", sharedCluster}
)

var shared struct {
	once sync.Once
	srv  *redistest.Server
	err  error
}

func sharedCluster(t testing.TB) string {
	t.Helper()
	redistest.Require(t)
	shared.once.Do(func() { shared.srv, shared.err = redistest.RunCluster(3) })
	if shared.err != nil {
		t.Fatalf("cluster: %v", shared.err)
	}
	ctx := context.Background()
	for _, a := range shared.srv.Addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		err := c.FlushAll(ctx).Err()
		_ = c.Close()
		if err != nil {
			t.Fatalf("cluster flush %s: %v", a, err)
		}
	}
	return shared.srv.URL
}

// SharedCluster is sharedCluster for package store_test, whose TestPorts
// runs dialogtest's suite on the cluster too.
var SharedCluster = sharedCluster

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	os.Exit(code)
}

// allBackends is the default set; heavy tests pick fewer.
var allBackends = []backend{realRedis, miniRedis, cluster}

// forBackends runs fn once per backend as a subtest.
func forBackends(t *testing.T, bs []backend, fn func(t *testing.T, env *testEnv)) {
	t.Helper()
	for _, b := range bs {
		t.Run(b.name, func(t *testing.T) {
			fn(t, newEnv(t, b.start(t)))
		})
	}
}

var ist = dialog.IST

// testEnv is a store on a fresh server with a fake clock, sending its
// commands batched as the gateway does by default.
type testEnv struct {
	*Store
	clock *dialogtest.Clock
	url   string
}

const testSecret = "test secret: 32 bytes or more, not for production"

func newEnv(t testing.TB, url string, mod ...func(*Config)) *testEnv {
	t.Helper()
	clock := dialogtest.NewClock(time.Date(2021, 4, 28, 16, 0, 0, 0, ist))
	cfg := Config{URL: addParam(url, "pool_size=64"), Secret: []byte(testSecret), Clock: clock, Batch: true}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &testEnv{Store: s, clock: clock, url: url}
}

func addParam(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}

// dump returns every key with a canonical rendering of its value, from
// every master of a cluster.
func dump(t testing.TB, rdb redis.UniversalClient) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	var mu sync.Mutex
	each := func(ctx context.Context, c redis.UniversalClient) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, "*", 1000).Result()
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := renderKey(ctx, c, k)
				if err != nil {
					return err
				}
				mu.Lock()
				out[k] = v
				mu.Unlock()
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return each(ctx, c) })
	} else {
		err = each(ctx, rdb)
	}
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	return out
}

func renderKey(ctx context.Context, c redis.UniversalClient, k string) (string, error) {
	typ, err := c.Type(ctx, k).Result()
	if err != nil {
		return "", err
	}
	switch typ {
	case "string":
		return c.Get(ctx, k).Result()
	case "hash":
		m, err := c.HGetAll(ctx, k).Result()
		if err != nil {
			return "", err
		}
		var parts []string
		for f, v := range m {
			parts = append(parts, f+"="+v)
		}
		slices.Sort(parts)
		return "hash{" + strings.Join(parts, ", ") + "}", nil
	case "set":
		m, err := c.SMembers(ctx, k).Result()
		slices.Sort(m)
		return "set{" + strings.Join(m, ", ") + "}", err
	case "zset":
		z, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
		var parts []string
		for _, e := range z {
			parts = append(parts, fmt.Sprintf("%v:%v", e.Member, e.Score))
		}
		return "zset{" + strings.Join(parts, ", ") + "}", err
	case "none":
		return "", nil
	}
	return "", fmt.Errorf("unexpected type %s for %s", typ, k)
}

// ---- fixtures --------------------------------------------------------------

func day(n int) time.Time { return time.Date(2021, 5, 1+n, 0, 0, 0, 0, ist) }

// centreFixture is a centre at pin with one session per capacity pair.
func centreFixture(id int64, name, pin string, caps ...[2]int) dialog.Centre {
	c := dialog.Centre{ID: id, Name: name, Pincode: pin, State: "West Bengal",
		District: "Kolkata", FeeType: dialog.Free}
	for i, cp := range caps {
		c.Sessions = append(c.Sessions, dialog.Session{
			ID:       fmt.Sprintf("s-%d-%d", id, i),
			Date:     day(i),
			Vaccine:  "COVISHIELD",
			MinAge:   18,
			Slots:    []string{"09:00AM-11:00AM", "11:00AM-01:00PM"},
			Capacity: cp,
		})
	}
	return c
}

func mustImport(t testing.TB, s *Store, cs ...dialog.Centre) ImportResult {
	t.Helper()
	r, err := s.ImportCentres(context.Background(), cs)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return r
}

func msisdn(i int) string { return fmt.Sprintf("+9198%08d", i) }

func person(i int) dialog.NewBeneficiary {
	return dialog.NewBeneficiary{
		Name: fmt.Sprintf("Person %d", i), BirthYear: 1980, Gender: dialog.Female,
		IDType: dialog.IDPassport, IDNumber: fmt.Sprintf("K%07d", i),
	}
}

// people registers n beneficiaries, 4 per account, concurrently, and returns
// them with their accounts.
func people(t testing.TB, s *Store, n int) []dialog.BookRequest {
	t.Helper()
	ctx := context.Background()
	out := make([]dialog.BookRequest, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			m := msisdn(i / 4)
			b, err := s.AddBeneficiary(ctx, m, person(i))
			if err != nil {
				errs <- err
				return
			}
			out[i] = dialog.BookRequest{Msisdn: m, Beneficiary: b.Ref, Dose: 1, Slot: "09:00AM-11:00AM"}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("add beneficiary: %v", err)
	}
	return out
}

func redistestEmbedded(t testing.TB) string { return redistest.Embedded(t) }
