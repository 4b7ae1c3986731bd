//go:build !linux

package main

import "errors"

// batchScheduling is Linux's SCHED_BATCH; elsewhere the generator runs
// under the default policy.
func batchScheduling() (restore func() error, err error) {
	return nil, errors.New("SCHED_BATCH is Linux's")
}
