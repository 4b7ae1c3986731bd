//go:build !linux

package batchsched

import "errors"

// errNotLinux is every answer here: SCHED_BATCH is Linux's.
var errNotLinux = errors.New("SCHED_BATCH is Linux's")

// Enable is Linux's SCHED_BATCH; elsewhere it fails, and the caller runs
// under the default policy.
func Enable() (restore func() error, err error) {
	return nil, errNotLinux
}

// Threads is not known here: scheduling policies are read on Linux only.
func Threads() (batch, other int, err error) {
	return 0, 0, errNotLinux
}
