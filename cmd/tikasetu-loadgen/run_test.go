package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/batchsched"
	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// Smoke: the run subcommand against a fake gateway for a second. The fake runs
// in this process, so it also sees the generator's GOMAXPROCS and its
// threads' scheduling policy during the run: GOMAXPROCS left alone by
// default, one with --procs 1; every thread under SCHED_BATCH (on Linux)
// unless --sched-batch=false; and both as before once the command returns.
func TestRunCmdAgainstFakeGateway(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantProcs int64
		wantBatch bool
	}{
		{"default", nil, 2, runtime.GOOS == "linux"},
		{"one core", []string{"--procs", "1"}, 1, runtime.GOOS == "linux"},
		{"default policy", []string{"--sched-batch=false"}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
			sinkAddr := freeAddr(t)
			fake := &loadgen.FakeGateway{SinkURL: "http://" + sinkAddr + loadgen.SinkPath, SinkSecret: []byte("sinksecret")}
			var procsSeen atomic.Int64
			var batchSeen, otherSeen atomic.Bool // some request saw a thread under SCHED_BATCH, or under another policy
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				procsSeen.Store(int64(runtime.GOMAXPROCS(0)))
				if b, o, err := batchsched.Threads(); err == nil {
					batchSeen.CompareAndSwap(false, b > 0)
					otherSeen.CompareAndSwap(false, o > 0)
				}
				fake.ServeHTTP(w, r)
			}))
			defer func() { gw.Close(); fake.Wait() }()
			plot := filepath.Join(t.TempDir(), "run.png")

			var stdout, stderr bytes.Buffer
			args := append([]string{"--url", gw.URL, "--rate", "20", "--ramp", "0s", "--duration", "1s",
				"--arrivals", "even", "--sink-addr", sinkAddr, "--sink-secret", "sinksecret", "--plot", plot}, tt.args...)
			if code := runCmd(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			m := summary(t, stdout.String())
			if m["completed_journeys"] != 20.0 || m["errors"] != 0.0 || m["timeouts"] != 0.0 || m["shed"] != 0.0 {
				t.Fatalf("summary %s\nstderr: %s", stdout.String(), stderr.String())
			}
			if fi, err := os.Stat(plot); err != nil || fi.Size() == 0 {
				t.Fatalf("no chart: %v", err)
			}
			if got := procsSeen.Load(); got != tt.wantProcs {
				t.Errorf("GOMAXPROCS during the run = %d, want %d", got, tt.wantProcs)
			}
			if got := runtime.GOMAXPROCS(0); got != 2 {
				t.Errorf("GOMAXPROCS after the run = %d, want 2 (as before it)", got)
			}
			if batch, other := batchSeen.Load(), otherSeen.Load(); batch != tt.wantBatch || other == tt.wantBatch {
				t.Errorf("threads during the run: some under SCHED_BATCH %v, some under another policy %v; want all batch: %v", batch, other, tt.wantBatch)
			}
			if b, _, err := batchsched.Threads(); err == nil && b != 0 {
				t.Errorf("%d threads still under SCHED_BATCH after the run", b)
			}
		})
	}
}

func TestRunCmdFlags(t *testing.T) {
	t.Setenv("TIKASETU_SMS_HTTP_SECRET", "")
	t.Setenv("TIKASETU_ADMIN_TOKEN", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"journeys need the sink secret", nil, "--sink-secret"},
		{"seed needs the admin token", []string{"--seed", "--sink-secret", "k"}, "--admin-token"},
		{"seed is not for the floor", []string{"--seed", "--floor", "--admin-token", "t"}, "floor"},
		{"arrivals", []string{"--arrivals", "bursty", "--sink-secret", "k"}, "poisson or even"},
		{"negative procs", []string{"--procs", "-1", "--sink-secret", "k"}, "--procs must be 0"},
		{"stray arguments", []string{"--sink-secret", "k", "extra"}, "unexpected arguments"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"bad mode", []string{"--mode", "sideways", "--floor"}, "open or closed"},
		{"reaction time", []string{"--retry", "--invite-react", "20s-2s", "--sink-secret", "k"}, "--invite-react"},
		{"retries on the floor", []string{"--retry", "--floor"}, "not a floor handler"},
		{"redial mean", []string{"--retry", "--redial-mean", "0s", "--sink-secret", "k"}, "--redial-mean must be above 0"},
		{"patience", []string{"--retry", "--patience", "-1s", "--sink-secret", "k"}, "--patience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runCmd(context.Background(), tt.args, &stdout, &stderr); code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q: %s", tt.want, stderr.String())
			}
		})
	}
}
