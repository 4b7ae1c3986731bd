// Package batchsched runs the load generator's threads under Linux's
// SCHED_BATCH scheduling policy. The generator shares a machine with the
// gateway and Redis it measures; under SCHED_BATCH a generator thread woken
// by an arrival or an answer does not preempt them, but waits for them to
// block or use up their slice. Elsewhere than on Linux, Enable fails and
// the generator runs under the default policy.
//
// Only the load lab uses it: the gateway runs under the default policy.
package batchsched
