package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu/loadgen"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe to write from one goroutine and read
// from another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func summary(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	for _, f := range []string{"offered_journeys_per_s", "completed_journeys", "journeys_per_s", "hops", "hops_per_s",
		"hop_p50_ms", "hop_p95_ms", "hop_p99_ms", "hop_max_ms", "shed", "errors", "timeouts"} {
		if _, ok := m[f]; !ok {
			t.Errorf("summary lacks %q", f)
		}
	}
	return m
}

// Smoke: the subcommand against a fake gateway for a second. The fake runs
// in this process, so it also sees the generator's GOMAXPROCS and its
// threads' scheduling policy during the run: GOMAXPROCS left alone by
// default, one with --procs 1; every thread under SCHED_BATCH (on Linux)
// unless --sched-batch=false; and both as before once the command returns.
func TestLoadgenCmdAgainstFakeGateway(t *testing.T) {
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
				if b, o, err := threadsUnderBatch(); err == nil {
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
			if code := loadgenCmd(context.Background(), args, &stdout, &stderr); code != exitOK {
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
			if b, _, err := threadsUnderBatch(); err == nil && b != 0 {
				t.Errorf("%d threads still under SCHED_BATCH after the run", b)
			}
		})
	}
}

// The floor subcommand on a real redis-server, measured by loadgen --floor.
func TestFloorCmdWithLoadgen(t *testing.T) {
	url := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- floorCmd(ctx, []string{"--addr", "127.0.0.1:0", "--redis-url", url}, &out, &errs) }()

	listening := regexp.MustCompile(`listening on (http://[^/\s]+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case c := <-done:
			t.Fatalf("floor exited %d: %s", c, errs.String())
		default:
		}
	}
	if base == "" {
		t.Fatal("floor did not say where it listens")
	}

	var stdout, stderr bytes.Buffer
	code := loadgenCmd(context.Background(), []string{"--floor", "--url", base, "--rate", "10", "--ramp", "0s",
		"--duration", "1s", "--arrivals", "even"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("loadgen exit %d: %s", code, stderr.String())
	}
	m := summary(t, stdout.String())
	if m["completed_journeys"] != 10.0 || m["hops"] != float64(10*loadgen.RealJourneyHops) || m["errors"] != 0.0 {
		t.Fatalf("summary %s", stdout.String())
	}
	cancel()
	if c := <-done; c != exitOK {
		t.Fatalf("floor exit %d: %s", c, errs.String())
	}
}

func TestLoadgenAndFloorFlags(t *testing.T) {
	t.Setenv("TIKASETU_SMS_HTTP_SECRET", "")
	t.Setenv("TIKASETU_ADMIN_TOKEN", "")
	t.Setenv("REDIS_URL", "")
	tests := []struct {
		name string
		cmd  func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int
		args []string
		want string
	}{
		{"journeys need the sink secret", lg, nil, "--sink-secret"},
		{"seed needs the admin token", lg, []string{"--seed", "--sink-secret", "k"}, "--admin-token"},
		{"seed is not for the floor", lg, []string{"--seed", "--floor", "--admin-token", "t"}, "floor"},
		{"arrivals", lg, []string{"--arrivals", "bursty", "--sink-secret", "k"}, "poisson or even"},
		{"negative procs", lg, []string{"--procs", "-1", "--sink-secret", "k"}, "--procs must be 0"},
		{"stray arguments", lg, []string{"--sink-secret", "k", "extra"}, "unexpected arguments"},
		{"unknown flag", lg, []string{"--nope"}, "flag provided but not defined"},
		{"bad mode", lg, []string{"--mode", "sideways", "--floor"}, "open or closed"},
		{"floor needs Redis", fl, nil, "--redis-url"},
		{"floor with a bad Redis URL", fl, []string{"--redis-url", "http://x"}, "redis URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := tt.cmd(context.Background(), tt.args, &stdout, &stderr); code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q: %s", tt.want, stderr.String())
			}
		})
	}
}

func lg(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) int {
	return loadgenCmd(ctx, args, stdout, stderr)
}

func fl(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) int {
	return floorCmd(ctx, args, stdout, stderr)
}
