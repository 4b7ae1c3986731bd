//go:build unix

package main

import (
	"os"
	"syscall"
)

// pauseSignal and resumeSignal freeze and thaw a process (the redis-stall
// scenario).
var (
	pauseSignal  os.Signal = syscall.SIGSTOP
	resumeSignal os.Signal = syscall.SIGCONT
)
