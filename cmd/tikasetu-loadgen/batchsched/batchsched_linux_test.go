package batchsched

import (
	"runtime"
	"sync"
	"testing"
)

// lockThreads starts n goroutines each holding a thread of its own, so the
// runtime must start new threads; release ends them (and their threads).
func lockThreads(n int) (release func()) {
	ready, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			ready <- struct{}{}
			<-stop
		}()
	}
	for range n {
		<-ready
	}
	return func() { close(stop); wg.Wait() }
}

func wantThreads(t *testing.T, when string, batch bool) {
	t.Helper()
	b, o, err := Threads()
	if err != nil {
		t.Fatal(err)
	}
	if batch && (o != 0 || b == 0) || !batch && b != 0 {
		t.Errorf("%s: %d threads under SCHED_BATCH, %d under another policy; want all %s", when, b, o,
			map[bool]string{true: "batch", false: "not batch"}[batch])
	}
}

func TestBatchScheduling(t *testing.T) {
	tests := []struct {
		name  string
		twice bool // switch again while already switched: the inner restore must leave the threads batch
	}{
		{"from the default policy", false},
		{"already batch", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantThreads(t, "before", false)
			restore, err := Enable()
			if err != nil {
				t.Fatal(err)
			}
			release := lockThreads(8) // threads started after the switch inherit it
			wantThreads(t, "switched, with 8 threads started after", true)
			release()
			if tt.twice {
				inner, err := Enable()
				if err != nil {
					t.Fatal(err)
				}
				if err := inner(); err != nil {
					t.Fatal(err)
				}
				wantThreads(t, "after the inner restore", true)
			}
			if err := restore(); err != nil {
				t.Fatal(err)
			}
			wantThreads(t, "restored", false)
		})
	}
}
