//go:build !unix

package main

import "os"

// pauseSignal and resumeSignal are nil where a process cannot be frozen:
// the redis-stall scenario then fails with a message.
var (
	pauseSignal  os.Signal
	resumeSignal os.Signal
)
