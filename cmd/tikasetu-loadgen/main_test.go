package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, exitConfig, "", "usage: tikasetu-loadgen"},
		{"unknown command", []string{"loadgen"}, exitConfig, "", `unknown command "loadgen"`},
		{"help", []string{"help"}, exitOK, "usage: tikasetu-loadgen", ""},
		{"-h", []string{"-h"}, exitOK, "floor", ""},
		{"run reaches its flags", []string{"run", "--nope"}, exitConfig, "", "flag provided but not defined"},
		{"floor reaches its flags", []string{"floor", "--nope"}, exitConfig, "", "flag provided but not defined"},
		{"compare reaches its flags", []string{"compare", "--nope"}, exitConfig, "", "flag provided but not defined"},
		{"help names compare", []string{"help"}, exitOK, "compare", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q: %s", tt.wantStdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q: %s", tt.wantStderr, stderr.String())
			}
		})
	}
}

func TestEnvOr(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"set", "http://gw:8080", "http://gw:8080"},
		{"empty", "", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TIKASETU_LOADGEN_TEST_VAR", tt.value)
			if got := envOr("TIKASETU_LOADGEN_TEST_VAR", "default"); got != tt.want {
				t.Fatalf("envOr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		w    io.Writer
	}{
		{"a buffer", &bytes.Buffer{}},
		{"a file", f},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if isTerminal(tt.w) {
				t.Fatal("taken for a terminal")
			}
		})
	}
}

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
