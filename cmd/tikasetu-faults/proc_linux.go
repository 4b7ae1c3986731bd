package main

import "syscall"

// childAttrs makes a child process die with this one: the kernel sends it
// SIGKILL when the faults command ends, even by SIGKILL, so that no
// redis-server or gateway outlives a run.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
