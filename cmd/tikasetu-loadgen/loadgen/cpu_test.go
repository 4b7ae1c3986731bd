package loadgen

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeProc points procRoot at a process table of the given processes:
// pid → command and stat line.
func fakeProc(t *testing.T, procs map[string][2]string) {
	t.Helper()
	root := t.TempDir()
	for pid, p := range procs {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(p[0]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(p[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := procRoot
	procRoot = root
	t.Cleanup(func() { procRoot = old })
}

// stat is a /proc/<pid>/stat line with utime and stime (fields 14, 15).
func stat(pid, comm, utime, stime string) string {
	f := []string{pid, "(" + comm + ")", "S", "1", "1", "1", "0", "-1", "4194560", "100", "0", "0", "0", utime, stime, "0", "0", "20", "0", "8"}
	return strings.Join(f, " ") + "\n"
}

func TestParseProc(t *testing.T) {
	fakeProc(t, map[string][2]string{
		"101": {"tikasetu", stat("101", "tikasetu", "1", "2")},
		"202": {"redis-server", stat("202", "redis-server", "1", "2")},
		"303": {"worker", stat("303", "worker", "1", "2")},
		"304": {"worker", stat("304", "worker", "1", "2")},
	})
	tests := []struct {
		in      string
		want    Proc
		wantErr string
	}{
		{"gateway=4242", Proc{"gateway", 4242}, ""},
		{"gateway=tikasetu", Proc{"gateway", 101}, ""},
		{"redis=redis-server", Proc{"redis", 202}, ""},
		{"w=worker", Proc{}, "2 processes"},
		{"x=nothing", Proc{}, "no process"},
		{"gateway", Proc{}, "name=pid"},
		{"=101", Proc{}, "name=pid"},
		{"g=-1", Proc{}, "above 0"},
	}
	for _, tt := range tests {
		got, err := ParseProc(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseProc(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseProc(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestCPUTicks(t *testing.T) {
	fakeProc(t, map[string][2]string{
		"7": {"tikasetu", stat("7", "tikasetu", "1234", "56")},
		// A command may hold spaces and parentheses: fields count from the last ')'.
		"8": {"a (b) c", stat("8", "a (b) c", "10", "5")},
		"9": {"broken", "9 (broken) S 1 2\n"},
	})
	for _, tt := range []struct {
		pid  int
		want int64
		ok   bool
	}{{7, 1290, true}, {8, 15, true}, {9, 0, false}, {10, 0, false}} {
		got, err := cpuTicks(tt.pid)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("cpuTicks(%d) = %d, %v; want %d, ok %v", tt.pid, got, err, tt.want, tt.ok)
		}
	}
}

func TestPerHop(t *testing.T) {
	procs := []Proc{{"gateway", 1}, {"redis", 2}, {"gone", 3}}
	from := cpuSample{ticks: []int64{1000, 500, 7}, hops: 10_000}
	to := cpuSample{ticks: []int64{1300, 570, -1}, hops: 30_000}
	// 300 ticks of 10 ms over 20,000 hops: 150 µs a hop; 70 ticks: 35 µs.
	want := map[string]float64{"gateway": 150, "redis": 35}
	if got := perHop(procs, from, to); !reflect.DeepEqual(got, want) {
		t.Errorf("perHop = %v, want %v", got, want)
	}
	if got := perHop(procs, from, from); got != nil {
		t.Errorf("no hops: %v, want nothing", got)
	}
}

// The generator's own CPU is read from the real process table (Linux).
func TestCPUTicksSelf(t *testing.T) {
	n, err := cpuTicks(0)
	if err != nil || n < 0 {
		t.Fatalf("cpuTicks(self) = %d, %v", n, err)
	}
}
