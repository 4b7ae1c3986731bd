package loadgen

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress writes the live progress line: on a terminal one line rewritten
// in place every second; otherwise (a file, a pipe, CI) a new line every
// 5 seconds, over those 5 seconds, so that logs are not spammed.
type progress struct {
	w     io.Writer
	tty   bool
	every int // seconds per line when not a terminal

	mu      sync.Mutex
	lastLen int
	n       int
}

func newProgress(w io.Writer, tty bool) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, tty: tty, every: 5}
}

// second is called once per timeline point with the run's stats.
func (p *progress) second(st *stats, elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.tty {
		pt, secs := st.lastSeconds(1)
		line := formatProgress(elapsed, pt, secs, st)
		pad := ""
		if len(line) < p.lastLen {
			pad = strings.Repeat(" ", p.lastLen-len(line))
		}
		p.lastLen = len(line)
		fmt.Fprint(p.w, "\r"+line+pad)
		return
	}
	if p.n%p.every == 0 {
		pt, secs := st.lastSeconds(p.every)
		fmt.Fprintln(p.w, formatProgress(elapsed, pt, secs, st))
	}
}

// done ends the progress output.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.lastLen > 0 {
		fmt.Fprintln(p.w)
		p.lastLen = 0
	}
}

// formatProgress is one progress line: pt summed over secs seconds, with
// shed, errors, timeouts and drops as totals so far.
func formatProgress(elapsed time.Duration, pt Point, secs float64, st *stats) string {
	if secs <= 0 {
		secs = 1
	}
	rate := func(n int64) float64 { return float64(n) / secs }
	line := fmt.Sprintf("%5.0fs  offered %.0f/s  journeys %.0f/s  hops %.0f/s  p50 %s p99 %s  in flight %d  shed %d  errors %d  timeouts %d  dropped %d",
		elapsed.Seconds(), rate(pt.Offered), rate(pt.Completed), rate(pt.Hops),
		fmtMS(pt.P50), fmtMS(pt.P99), pt.InFlight,
		st.total.outcomes[Shed].Load(), st.total.outcomes[Errored].Load(),
		st.total.outcomes[TimedOut].Load(), st.total.dropped.Load())
	if pt.Waiting > 0 { // callers turned away, to dial again (with retries)
		line += fmt.Sprintf("  waiting %d", pt.Waiting)
	}
	return line
}

func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}
