package batchsched

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Enable puts every thread of this process that runs under the default
// policy (SCHED_NORMAL) under SCHED_BATCH, and returns a function that puts
// them back. Threads the Go runtime starts later inherit the
// policy of the thread that starts them, so once every thread is switched
// the whole process stays switched. Under SCHED_BATCH a thread that wakes
// up does not preempt the one running: the load generator, sharing a
// machine with the gateway and Redis, then waits for them to block or use
// up their slice instead of cutting in on every arrival and every answer.
// Threads under another policy (real-time, idle) are left alone.
func Enable() (restore func() error, err error) {
	switched, err := setPolicy(unix.SCHED_NORMAL, unix.SCHED_BATCH)
	if err != nil {
		if switched > 0 { // put back the threads switched before the failure
			_, _ = setPolicy(unix.SCHED_BATCH, unix.SCHED_NORMAL)
		}
		return nil, fmt.Errorf("SCHED_BATCH: %w", err)
	}
	if switched == 0 {
		// Already batch (started under chrt -b, say): nothing to undo.
		return func() error { return nil }, nil
	}
	return func() error {
		if _, err := setPolicy(unix.SCHED_BATCH, unix.SCHED_NORMAL); err != nil {
			return fmt.Errorf("back from SCHED_BATCH: %w", err)
		}
		return nil
	}, nil
}

// setPolicy moves every thread of the process under policy from to policy
// to, keeping its nice value, and returns how many it moved. It goes over
// the threads again until a pass finds none left to move, since a thread
// not yet moved may start another meanwhile.
func setPolicy(from, to uint32) (int, error) {
	moved := 0
	for pass := 0; pass < 10; pass++ {
		attrs, err := threadAttrs()
		if err != nil {
			return moved, err
		}
		left := 0
		for tid, attr := range attrs {
			if attr.Policy != from {
				continue
			}
			left++
			attr.Policy = to
			attr.Flags = 0
			if err := unix.SchedSetAttr(tid, attr, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				return moved, fmt.Errorf("setting scheduling policy %d on thread %d: %w", to, tid, err)
			}
			moved++
		}
		if left == 0 {
			return moved, nil
		}
	}
	return moved, errors.New("threads kept starting under the old scheduling policy")
}

// threadAttrs reads the scheduling attributes of each of the process's
// threads, by thread ID; a thread that ends meanwhile is left out.
func threadAttrs() (map[int]*unix.SchedAttr, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}
	attrs := make(map[int]*unix.SchedAttr, len(ents))
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue // the thread ended
		}
		if err != nil {
			return nil, fmt.Errorf("scheduling policy of thread %d: %w", tid, err)
		}
		attrs[tid] = attr
	}
	return attrs, nil
}

// Threads counts the process's threads under SCHED_BATCH and under any
// other policy.
func Threads() (batch, other int, err error) {
	attrs, err := threadAttrs()
	if err != nil {
		return 0, 0, err
	}
	for _, attr := range attrs {
		if attr.Policy == unix.SCHED_BATCH {
			batch++
		} else {
			other++
		}
	}
	return batch, other, nil
}
