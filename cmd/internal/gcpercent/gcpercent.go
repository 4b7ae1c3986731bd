// Package gcpercent sets the garbage collector's target for the servers
// (the gateway and the floor handler it is measured against). Their live
// heap is a few megabytes while a turn allocates over 10 KB, so at Go's
// default (GOGC=100) the collector runs tens of times a second: in the
// journey benchmark of 32 callers at once, a target of 400 took a tenth
// off the CPU a journey, for a heap that peaks a few times higher.
package gcpercent

import "runtime/debug"

// Default is the target a server runs with when GOGC is not set: the heap
// may grow to five times what was live after the last collection.
const Default = 400

// Apply sets the collector's target to Default unless the environment
// (getenv) sets GOGC, which the runtime has read already, and returns the
// target in effect (-1: collection off).
func Apply(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(Default)
	return Default
}
