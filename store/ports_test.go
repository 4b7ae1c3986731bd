package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/providers/dispatch"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// TestPorts runs dialogtest's suite of the ports on a real redis-server, on
// miniredis (the embedded mode) and on the package's three-master cluster
// (flushed before each case): the same cases dialogtest's in-memory ports
// pass, so the engine's tests on those prove what they would here, and on a
// cluster no command or script of the ports spans slots. The server and the
// cluster run it twice: with each command sent on its own, and batched
// (Config.Batch).
func TestPorts(t *testing.T) {
	cases := []struct {
		name  string
		start func(testing.TB) string
		batch bool
	}{
		{"redis", redistest.Start, false},
		{"redis batched", redistest.Start, true},
		{"miniredis", redistest.Embedded, false},
		{"cluster", store.SharedCluster, false},
		{"cluster batched", store.SharedCluster, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { dialogtest.RunPorts(t, redisBackend(c.start, c.batch)) })
	}
}

// redisBackend is a dialogtest.Backend on an empty Redis from start (a new
// server, or the shared cluster flushed): a Store, and a dispatcher that
// sends the engine's SMS to an SMSLog.
func redisBackend(start func(testing.TB) string, batch bool) dialogtest.Backend {
	return func(t testing.TB, o dialogtest.Options) dialogtest.Ports {
		t.Helper()
		ctx := context.Background()
		cfg := store.Config{URL: start(t), Secret: []byte("ports test secret: 32 bytes or more, not for production"),
			Clock: o.Clock, OTPRate: o.OTPRate, OTPProviderRate: o.OTPProviderRate, Batch: batch}
		open := func() *store.Store {
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
		st := open()
		log := &dialogtest.SMSLog{}
		out := dispatch.New(ctx, st, log, dispatch.Options{Logger: slog.New(slog.DiscardHandler), Clock: o.Clock})
		t.Cleanup(out.Close)
		return dialogtest.Ports{Conversations: st, OTPs: st, Registry: st, Sealer: st, Alerts: st, Outbox: out, SMS: log,
			Import: func(ctx context.Context, cs []dialog.Centre) error {
				_, err := st.ImportCentres(ctx, cs)
				return err
			},
			Gateway: func() dialog.Conversations { return open() }}
	}
}
