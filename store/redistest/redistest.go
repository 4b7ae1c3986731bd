// Package redistest starts Redis servers for tests: a real redis-server
// (single node or a small Redis Cluster) on free loopback ports, or an
// in-process miniredis. Each gives a go-redis URL that store.Open accepts.
//
// A real server is preferred: miniredis emulates Lua and most commands but
// neither Redis Cluster slot rules nor real concurrency. When redis-server is
// not on PATH, Start and StartCluster skip the test with a message, and fail
// it instead when the CI environment variable is set.
//
// Start, StartCluster and Embedded stop their server when the test ends. Run
// and RunCluster return a *Server for a package that shares one server
// across tests (start it lazily, Close it in TestMain); a Redis Cluster
// needs about 2 s before it accepts writes, so sharing one pays.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// ErrNotInstalled is returned by Run and RunCluster when redis-server is not
// on PATH.
var ErrNotInstalled = errors.New("redistest: redis-server not found on PATH")

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is one or more running redis-server processes.
type Server struct {
	// URL reaches the server; for a cluster it lists every node
	// (redis://h:p1?addr=h:p2&addr=h:p3).
	URL   string
	Addrs []string // host:port of each node

	once  sync.Once
	nodes []*node
}

type node struct {
	cmd    *exec.Cmd
	exited chan error
	dir    string
}

// Close stops the processes and removes their directories. It is safe to
// call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		for _, n := range s.nodes {
			n.stop()
		}
	})
}

func (n *node) stop() {
	_ = n.cmd.Process.Kill()
	<-n.exited
	_ = os.RemoveAll(n.dir)
}

// Require skips the test when redis-server is not on PATH, or fails it when
// the CI environment variable is set.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("redistest: redis-server not found on PATH (required when CI is set): %v", err)
		}
		t.Skip("redistest: redis-server not found on PATH; install Redis (e.g. apt-get install redis-server) to run this test")
	}
}

// Start runs a real redis-server on a free loopback port (persistence off,
// temporary directory), waits until it answers PING and stops it when the
// test ends. It returns the server's URL (redis://127.0.0.1:PORT).
func Start(t testing.TB) string {
	t.Helper()
	Require(t)
	s, err := Run()
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(s.Close)
	return s.URL
}

// StartCluster runs a Redis Cluster of n masters (no replicas) that stops
// when the test ends; see RunCluster.
func StartCluster(t testing.TB, n int) string {
	t.Helper()
	Require(t)
	s, err := RunCluster(n)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(s.Close)
	return s.URL
}

// Embedded starts an in-process miniredis, closed when the test ends, and
// returns its URL.
func Embedded(t testing.TB) string {
	t.Helper()
	m := miniredis.RunT(t)
	return "redis://" + m.Addr()
}

// Run starts one redis-server. The caller must Close it.
func Run() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	n, port, err := startNode(bin)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	return &Server{URL: "redis://" + addr, Addrs: []string{addr}, nodes: []*node{n}}, nil
}

// RunCluster starts a Redis Cluster of n masters (n ≥ 1, no replicas) on
// loopback, assigns the 16384 slots evenly and waits until every node has the
// full slot map. Its URL is in the form store.Open reads as a cluster, even
// for one node. Redis in cluster mode refuses a command or script whose keys
// span slots (CROSSSLOT), so a test run against it proves a key layout.
func RunCluster(n int) (*Server, error) {
	if n < 1 {
		n = 1
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	s := &Server{}
	ports := make([]int, n)
	for i := range ports {
		nd, port, err := startNode(bin, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		if err != nil {
			s.Close()
			return nil, err
		}
		s.nodes = append(s.nodes, nd)
		ports[i] = port
		s.Addrs = append(s.Addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	if err := formCluster(ports); err != nil {
		s.Close()
		return nil, err
	}
	s.URL = "redis://" + s.Addrs[0]
	sep := "?"
	for _, a := range s.Addrs[1:] {
		s.URL += sep + "addr=" + a
		sep = "&"
	}
	if n == 1 {
		// A lone address would be read as a single server: name it again
		// so that the URL still selects the cluster client.
		s.URL += "?addr=" + s.Addrs[0]
	}
	return s, nil
}

func formCluster(ports []int) error {
	n := len(ports)
	per := 16384 / n
	ctx := context.Background()
	portStrs := make([]string, n)
	clients := make([]*redis.Client, n)
	for i, p := range ports {
		portStrs[i] = strconv.Itoa(p)
		clients[i] = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", p)})
		defer clients[i].Close()
	}
	for i, c := range clients {
		lo, hi := i*per, (i+1)*per-1
		if i == n-1 {
			hi = 16383
		}
		if err := c.ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			return fmt.Errorf("redistest: cluster addslots on %d: %w", ports[i], err)
		}
	}
	for _, p := range ports[1:] {
		if err := clients[0].ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(p)).Err(); err != nil {
			return fmt.Errorf("redistest: cluster meet %d: %w", p, err)
		}
	}
	// Ready when every node reports cluster_state:ok (Redis waits 2 s after
	// start before it does) and a full slot map, so that a client gets the
	// same map from whichever node it asks.
	deadline := time.Now().Add(30 * time.Second)
	for i, c := range clients {
		for {
			info, err := c.ClusterInfo(ctx).Result()
			ready := err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_slots_ok:16384")
			if ready {
				slots, err := c.ClusterSlots(ctx).Result()
				ready = err == nil && len(slots) == n
				for _, sl := range slots {
					// A lone node may not know its own IP yet: clients then
					// use the address they dialled, so match the port only.
					if len(sl.Nodes) == 0 || !slices.Contains(portStrs, portOf(sl.Nodes[0].Addr)) {
						ready = false
					}
				}
			}
			if ready {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: cluster node %d not ready: %v %q", ports[i], err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// startNode starts one redis-server and returns it with its port. Ports are
// picked at random below 55535 so that a cluster bus port (port+10000) is
// valid too; a port taken between the check and the start is retried.
func startNode(bin string, extra ...string) (*node, int, error) {
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		port := 20000 + rand.IntN(35000)
		if !portFree(port) || !portFree(port+10000) {
			continue
		}
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, 0, fmt.Errorf("redistest: %w", err)
		}
		args := append([]string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", dir,
			"--logfile", filepath.Join(dir, "redis.log"),
		}, extra...)
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		if err := cmd.Start(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, 0, fmt.Errorf("redistest: start redis-server: %w", err)
		}
		n := &node{cmd: cmd, exited: make(chan error, 1), dir: dir}
		go func() { n.exited <- cmd.Wait() }()
		if err := waitPing(port, n.exited); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			n.stop()
			lastErr = fmt.Errorf("%v; output: %s; log: %s", err, out.String(), lastLines(string(log), 5))
			continue
		}
		return n, port, nil
	}
	return nil, 0, fmt.Errorf("redistest: could not start redis-server: %v", lastErr)
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func waitPing(port int, exited chan error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err // keep it for stop
			return fmt.Errorf("redis-server exited: %v", err)
		default:
		}
		if r, err := ping(port); err == nil && r == "+PONG" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG on port %d within %s", port, startTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends PING in RESP and returns the reply line.
func ping(port int) (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
