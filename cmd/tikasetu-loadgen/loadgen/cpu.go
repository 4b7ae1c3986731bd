package loadgen

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc is a process whose CPU time a run divides by the hops answered:
// the gateway, Redis, a floor handler. PID 0 is the generator itself.
type Proc struct {
	Name string
	PID  int
}

// procRoot is where the process table is read (tests point it elsewhere).
var procRoot = "/proc"

// userHZ is the unit of the times in /proc/<pid>/stat: Linux exports them
// in USER_HZ, 100 a second on every architecture it runs on.
const userHZ = 100

// ParseProc reads "name=pid" or "name=command": a process id, or the name
// of the one running process with that command (as /proc/<pid>/comm shows
// it, e.g. tikasetu or redis-server) on this machine.
func ParseProc(s string) (Proc, error) {
	name, who, ok := strings.Cut(s, "=")
	if !ok || name == "" || who == "" {
		return Proc{}, fmt.Errorf("%q: want name=pid or name=command, e.g. gateway=tikasetu", s)
	}
	if pid, err := strconv.Atoi(who); err == nil {
		if pid <= 0 {
			return Proc{}, fmt.Errorf("%q: a process id is above 0", s)
		}
		return Proc{Name: name, PID: pid}, nil
	}
	pid, err := findProc(who)
	if err != nil {
		return Proc{}, fmt.Errorf("%q: %w", s, err)
	}
	return Proc{Name: name, PID: pid}, nil
}

// findProc returns the id of the one process whose command is comm.
func findProc(comm string) (int, error) {
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, err
	}
	var found []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, d.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(b)) == comm {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("no process named %q", comm)
	case 1:
		return found[0], nil
	}
	return 0, fmt.Errorf("%d processes named %q (%v): give a pid", len(found), comm, found)
}

// cpuTicks is a process's user plus system time so far, in USER_HZ ticks
// (fields 14 and 15 of /proc/<pid>/stat, counted after the command, which
// is in parentheses and may hold spaces and parentheses itself).
func cpuTicks(pid int) (int64, error) {
	if pid == 0 {
		pid = os.Getpid()
	}
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, errors.New("stat: no command")
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("stat of %d: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat of %d: %w", pid, err)
	}
	return utime + stime, nil
}

// cpuSample is the CPU time of each process and the hops answered, at one
// moment.
type cpuSample struct {
	ticks []int64 // per process, -1 when it could not be read
	hops  int64
}

func sampleCPU(procs []Proc, hops int64) cpuSample {
	s := cpuSample{ticks: make([]int64, len(procs)), hops: hops}
	for i, p := range procs {
		t, err := cpuTicks(p.PID)
		if err != nil {
			t = -1
		}
		s.ticks[i] = t
	}
	return s
}

// perHop is each process's CPU time between two samples divided by the
// hops answered between them, in microseconds; a process that could not be
// read at either moment is left out.
func perHop(procs []Proc, from, to cpuSample) map[string]float64 {
	hops := to.hops - from.hops
	if hops <= 0 {
		return nil
	}
	out := map[string]float64{}
	for i, p := range procs {
		if from.ticks[i] < 0 || to.ticks[i] < 0 {
			continue
		}
		us := float64(to.ticks[i]-from.ticks[i]) * 1e6 / userHZ / float64(hops)
		out[p.Name] = math.Round(us*10) / 10
	}
	return out
}
