package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// check is one part of a scenario's bar.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// result is what a scenario reports: a few lines for people, the figures
// as one JSON line, and whether every check of its bar was met.
type result struct {
	Scenario string   `json:"scenario"`
	Pass     bool     `json:"pass"`
	Bar      string   `json:"bar"`
	Checks   []check  `json:"checks,omitempty"`
	Error    string   `json:"error,omitempty"` // the scenario could not run to its end
	Seconds  float64  `json:"seconds"`
	Figures  any      `json:"figures,omitempty"`
	Lines    []string `json:"-"`
}

// check records one part of the bar.
func (r *result) check(name string, ok bool, format string, a ...any) {
	r.Checks = append(r.Checks, check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
}

// line adds a line of the human-readable report.
func (r *result) line(format string, a ...any) { r.Lines = append(r.Lines, fmt.Sprintf(format, a...)) }

// settle decides Pass: no error, at least one check, all of them met.
func (r *result) settle() {
	r.Pass = r.Error == "" && len(r.Checks) > 0
	for _, c := range r.Checks {
		r.Pass = r.Pass && c.OK
	}
}

// print writes the report: a heading, the lines, the checks and the JSON
// line of the figures.
func (r *result) print(w io.Writer) {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "== %s: %s (%.1f s)\n   bar: %s\n", r.Scenario, verdict, r.Seconds, r.Bar)
	for _, l := range r.Lines {
		fmt.Fprintf(w, "   %s\n", l)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "   [%s] %s: %s\n", mark, c.Name, c.Detail)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "   error: %s\n", r.Error)
	}
	js, err := json.Marshal(r)
	if err != nil {
		js = []byte(fmt.Sprintf(`{"scenario":%q,"pass":false,"error":"encode figures: %s"}`, r.Scenario, err))
	}
	fmt.Fprintf(w, "%s\n", js)
}

// secondCount is how many events fell in one wall-clock second.
type secondCount struct {
	Unix  int64 `json:"unix"`
	Count int   `json:"count"`
}

// perSecond counts events by wall-clock second, in order, with the empty
// seconds between the first and the last.
func perSecond(ts []time.Time) []secondCount {
	if len(ts) == 0 {
		return nil
	}
	counts := map[int64]int{}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, t := range ts {
		s := t.Unix()
		counts[s]++
		lo, hi = min(lo, s), max(hi, s)
	}
	out := make([]secondCount, 0, hi-lo+1)
	for s := lo; s <= hi; s++ {
		out = append(out, secondCount{Unix: s, Count: counts[s]})
	}
	return out
}

// rateFigures sum up events counted against a rate per second.
type rateFigures struct {
	Total        int `json:"total"`
	Seconds      int `json:"seconds"`        // wall seconds from the first to the last
	MaxPerSecond int `json:"max_per_second"` // the busiest wall second
	// Unexplained counts the wall seconds over the rate whose excess the
	// second before does not make up for (see withinRate).
	Unexplained int   `json:"seconds_over_rate_unexplained"`
	PerSecond   []int `json:"per_second"`
	rate        int
}

// rateOf computes rateFigures of counts from perSecond against rate.
func rateOf(counts []secondCount, rate int) rateFigures {
	f := rateFigures{Seconds: len(counts), PerSecond: make([]int, len(counts)), rate: rate}
	for i, c := range counts {
		f.Total += c.Count
		f.PerSecond[i] = c.Count
		f.MaxPerSecond = max(f.MaxPerSecond, c.Count)
		if c.Count <= rate {
			continue
		}
		prev := rate // a first second has no window before it to spill from
		if i > 0 {
			prev = counts[i-1].Count
		}
		if c.Count+prev > 2*rate {
			f.Unexplained++
		}
	}
	return f
}

// withinRate is the bar of a fixed-window limit of rate a second over a
// load offered for offered seconds: no more than rate·(offered+1) in all
// (the offered span touches at most offered+1 of the limiter's windows),
// and no wall second over rate, but for the window's edge: the limiter
// counts by the gateway's second when it issues a code, the sink by the
// second the SMS arrives, a few milliseconds later, so a code issued at the
// end of one second may arrive in the next. A second over rate passes when
// the second before it fell short by as much.
func withinRate(f rateFigures, offered int) (ok bool, detail string) {
	bound := f.rate * (offered + 1)
	ok = f.Total <= bound && f.Unexplained == 0
	detail = fmt.Sprintf("%d codes in all (bound %d = %d×(%d+1)); busiest wall second %d (rate %d), %d over it unexplained by the edge",
		f.Total, bound, f.rate, offered, f.MaxPerSecond, f.rate, f.Unexplained)
	return ok, detail
}

// durations sums up latencies.
type durations struct {
	N     int     `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	MaxMs float64 `json:"max_ms"`
}

func summarise(ds []time.Duration) durations {
	if len(ds) == 0 {
		return durations{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return durations{N: len(s), P50Ms: ms(s[(len(s)-1)/2]), MaxMs: ms(s[len(s)-1])}
}

// ms is d in milliseconds, to 0.1 ms.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e5) / 10 }

// secs is d in seconds, to 0.01 s; a negative d (the figures' "never")
// is -1.
func secs(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return math.Round(d.Seconds()*100) / 100
}

// tally counts strings (screens, reasons), for a report.
type tally map[string]int

func (t tally) add(k string) { t[k]++ }

// String lists the counts, most frequent first.
func (t tally) String() string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if t[a] != t[b] {
			return t[b] - t[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d× %s", t[k], k)
	}
	return strings.Join(parts, "; ")
}
