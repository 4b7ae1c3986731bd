//go:build !linux

package main

import "syscall"

// childAttrs: only Linux can tie a child's life to its parent's; elsewhere
// children are stopped by the deferred clean-up (and on Ctrl-C) only.
func childAttrs() *syscall.SysProcAttr { return nil }
