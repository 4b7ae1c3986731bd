package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// The floor subcommand on a real redis-server, measured by run --floor.
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
	code := runCmd(context.Background(), []string{"--floor", "--url", base, "--rate", "10", "--ramp", "0s",
		"--duration", "1s", "--arrivals", "even"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("run exit %d: %s", code, stderr.String())
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

func TestFloorCmdFlags(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"needs Redis", nil, "--redis-url"},
		{"a bad Redis URL", []string{"--redis-url", "http://x"}, "redis URL"},
		{"a ttl of zero", []string{"--redis-url", "redis://127.0.0.1:1", "--ttl", "0s"}, "positive --ttl"},
		{"stray arguments", []string{"--redis-url", "redis://127.0.0.1:1", "extra"}, "no arguments"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := floorCmd(context.Background(), tt.args, &stdout, &stderr); code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitConfig, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q: %s", tt.want, stderr.String())
			}
		})
	}
}
