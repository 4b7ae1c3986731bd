package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is one redis-server of a scenario: on a free loopback port, in
// a temporary directory, with the persistence production uses (AOF,
// fsync every second).
//
// store/redistest.Run was the first choice, but it starts Redis with
// --appendonly no and does not expose the process, which the redis-stall
// scenario must SIGSTOP; so the faults command starts its own.
type redisServer struct {
	URL  string // redis://127.0.0.1:PORT
	Addr string

	cmd    *exec.Cmd
	dir    string
	exited chan struct{}
	client *redis.Client
}

// redisStartTimeout bounds how long redis-server may take to answer PING.
const redisStartTimeout = 10 * time.Second

// startRedis starts a redis-server under parent (a temporary directory of
// the run). A port taken between the check and the start is retried.
func startRedis(ctx context.Context, parent string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found on PATH (install Redis 6.2 or later)")
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := tryRedis(ctx, bin, parent)
		if err == nil {
			return r, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("start redis-server: %w", last)
}

func tryRedis(ctx context.Context, bin, parent string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "redis-")
	if err != nil {
		return nil, fmt.Errorf("redis directory: %w", err)
	}
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r := &redisServer{URL: "redis://" + addr, Addr: addr, cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.exited) }()
	r.client = redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})

	deadline := time.Now().Add(redisStartTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := r.client.Ping(pctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		select {
		case <-r.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			r.Close()
			return nil, fmt.Errorf("redis-server on port %d exited: %s", port, lastLines(string(log), 3))
		default:
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			r.Close()
			return nil, fmt.Errorf("redis-server on port %d: no PONG within %s: %w", port, redisStartTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause freezes the server (SIGSTOP): connections stay open, nothing is
// answered.
func (r *redisServer) Pause() error {
	if pauseSignal == nil {
		return errors.New("pausing a process is not supported on this system")
	}
	if err := r.cmd.Process.Signal(pauseSignal); err != nil {
		return fmt.Errorf("pause redis-server: %w", err)
	}
	return nil
}

// Resume thaws a paused server (SIGCONT).
func (r *redisServer) Resume() error {
	if resumeSignal == nil {
		return errors.New("resuming a process is not supported on this system")
	}
	if err := r.cmd.Process.Signal(resumeSignal); err != nil {
		return fmt.Errorf("resume redis-server: %w", err)
	}
	return nil
}

// Keys lists the keys matching pattern (SCAN, at most limit of them).
func (r *redisServer) Keys(ctx context.Context, pattern string, limit int) ([]string, error) {
	var keys []string
	iter := r.client.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) && len(keys) < limit {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return keys, fmt.Errorf("scan %q: %w", pattern, err)
	}
	return keys, nil
}

// Close kills the server (a paused one too) and removes its directory.
func (r *redisServer) Close() {
	if r.client != nil {
		_ = r.client.Close()
	}
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Kill()
		select {
		case <-r.exited:
		case <-time.After(5 * time.Second):
		}
	}
	_ = os.RemoveAll(r.dir)
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before it is used; callers retry.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines returns the last n lines of s, joined with " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
