//go:build !linux

package main

import "errors"

// threadsUnderBatch is not known here.
func threadsUnderBatch() (batch, other int, err error) {
	return 0, 0, errors.New("scheduling policies are read on Linux only")
}
