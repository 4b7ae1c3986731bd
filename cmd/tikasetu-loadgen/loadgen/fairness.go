package loadgen

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// awayRecord is one caller turned away at the dial, at times since the
// start of the run: first refused, first invited and let in (-1: never).
type awayRecord struct {
	refused, invited, admitted time.Duration
	queued, busy               int  // dials refused with a place in the queue, and without
	booked                     bool // let in, and the journey completed
}

// record turns a into offsets from start.
func (a *away) record(start time.Time, booked bool) awayRecord {
	off := func(t time.Time) time.Duration {
		if t.IsZero() {
			return -1
		}
		return t.Sub(start)
	}
	return awayRecord{refused: off(a.refused), invited: off(a.invited), admitted: off(a.admitted),
		queued: a.queued, busy: a.busy, booked: booked && !a.admitted.IsZero()}
}

// TurnedAway is the summary's account of the callers turned away at the
// dial at least once, in a run with retries (Config.Retry): how many got
// through later, how long they waited and in what order they were let in.
type TurnedAway struct {
	Callers      int64 `json:"callers"`       // turned away at the dial at least once
	Through      int64 `json:"through"`       // of them, let in later
	Booked       int64 `json:"booked"`        // of them, let in later and booked
	NeverThrough int64 `json:"never_through"` // never let in: out of patience, or the run ended
	Queued       int64 `json:"queued_dials"`  // dials answered with a place in the queue
	Busy         int64 `json:"busy_dials"`    // dials answered with the plain busy screen
	Invited      int64 `json:"invited"`       // callers who got an invitation SMS

	// Waits from the first refusal to the dial that let the caller in, of
	// the callers let in, in seconds; the spread is p90 − p10.
	WaitP10S    float64 `json:"wait_p10_s"`
	WaitP50S    float64 `json:"wait_p50_s"`
	WaitP90S    float64 `json:"wait_p90_s"`
	WaitP99S    float64 `json:"wait_p99_s"`
	WaitMaxS    float64 `json:"wait_max_s"`
	WaitSpreadS float64 `json:"wait_spread_s"`

	// Order: of the pairs of callers let in who were first turned away at
	// different moments, the share let in in the opposite order (0: first
	// come, first served; about 0.5: no regard for who came first).
	OrderPairs      int64   `json:"order_pairs"`
	OrderInversions float64 `json:"order_inversions"`
	// The same by the arrival of the first invitation SMS, of the callers
	// invited: the gateway's own order, before callers' reaction times.
	InviteOrderPairs      int64    `json:"invite_order_pairs,omitempty"`
	InviteOrderInversions *float64 `json:"invite_order_inversions,omitempty"`

	// For charts (tikasetu-loadgen compare): the waits of the callers let
	// in at quantiles 0, 0.01, …, 1, in seconds; and, cumulative by the end
	// of each second of the run, the callers first turned away and those of
	// them let in.
	WaitCDF         []float64 `json:"wait_cdf_s,omitempty"`
	RefusedBySecond []int64   `json:"refused_by_second,omitempty"`
	ThroughBySecond []int64   `json:"through_by_second,omitempty"`
}

// summariseAway computes TurnedAway from the callers turned away in a run
// of the given length.
func summariseAway(recs []awayRecord, elapsed time.Duration) *TurnedAway {
	ta := &TurnedAway{Callers: int64(len(recs))}
	var waits []time.Duration
	var order, invite [][2]time.Duration
	for _, r := range recs {
		ta.Queued += int64(r.queued)
		ta.Busy += int64(r.busy)
		if r.invited >= 0 {
			ta.Invited++
			invite = append(invite, [2]time.Duration{r.refused, r.invited})
		}
		if r.admitted < 0 {
			ta.NeverThrough++
			continue
		}
		ta.Through++
		if r.booked {
			ta.Booked++
		}
		waits = append(waits, r.admitted-r.refused)
		order = append(order, [2]time.Duration{r.refused, r.admitted})
	}
	slices.Sort(waits)
	q := func(p float64) float64 { return secs(quantile(waits, p)) }
	ta.WaitP10S, ta.WaitP50S, ta.WaitP90S, ta.WaitP99S = q(0.10), q(0.50), q(0.90), q(0.99)
	ta.WaitMaxS, ta.WaitSpreadS = q(1), round2(q(0.90)-q(0.10))
	if len(waits) > 0 {
		for i := range 101 {
			ta.WaitCDF = append(ta.WaitCDF, q(float64(i)/100))
		}
	}
	var inv int64
	inv, ta.OrderPairs = inversions(order)
	ta.OrderInversions = share(inv, ta.OrderPairs)
	if inv, pairs := inversions(invite); pairs > 0 {
		sh := share(inv, pairs)
		ta.InviteOrderPairs, ta.InviteOrderInversions = pairs, &sh
	}

	n := int(math.Ceil(elapsed.Seconds()))
	if len(recs) > 0 && n > 0 {
		ta.RefusedBySecond, ta.ThroughBySecond = make([]int64, n), make([]int64, n)
		for _, r := range recs {
			ta.RefusedBySecond[second(r.refused, n)]++
			if r.admitted >= 0 {
				ta.ThroughBySecond[second(r.admitted, n)]++
			}
		}
		for i := 1; i < n; i++ {
			ta.RefusedBySecond[i] += ta.RefusedBySecond[i-1]
			ta.ThroughBySecond[i] += ta.ThroughBySecond[i-1]
		}
	}
	return ta
}

// second is the index of the second of the run that d falls in, [0, n).
func second(d time.Duration, n int) int {
	return min(max(int(d/time.Second), 0), n-1)
}

// quantile is the nearest-rank quantile p of sorted values (0 for none; p
// 0 is the smallest).
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func secs(d time.Duration) float64 { return round2(d.Seconds()) }

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*1e4) / 1e4
}

// inversions counts, of the pairs of (before, after) whose befores differ,
// those in the opposite order after: the earlier before with the later
// after. It returns that count and the number of such pairs, in
// O(n log n).
func inversions(pairs [][2]time.Duration) (inverted, total int64) {
	ps := slices.Clone(pairs)
	slices.SortFunc(ps, func(a, b [2]time.Duration) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	n := int64(len(ps))
	total = n * (n - 1) / 2
	for i := 0; i < len(ps); { // pairs with the same before have no order
		j := i
		for j < len(ps) && ps[j][0] == ps[i][0] {
			j++
		}
		k := int64(j - i)
		total -= k * (k - 1) / 2
		i = j
	}
	after := make([]time.Duration, len(ps))
	for i, p := range ps {
		after[i] = p[1]
	}
	return countInversions(after, make([]time.Duration, len(after))), total
}

// countInversions sorts xs (with buf as scratch of the same length) and
// returns the number of pairs i < j with xs[i] > xs[j] it had.
func countInversions(xs, buf []time.Duration) int64 {
	if len(xs) < 2 {
		return 0
	}
	m := len(xs) / 2
	n := countInversions(xs[:m], buf[:m]) + countInversions(xs[m:], buf[m:])
	i, j, k := 0, m, 0
	for i < m && j < len(xs) {
		if xs[j] < xs[i] { // xs[j] comes before every one left of the left half
			n += int64(m - i)
			buf[k] = xs[j]
			j++
		} else {
			buf[k] = xs[i]
			i++
		}
		k++
	}
	k += copy(buf[k:], xs[i:m])
	copy(buf[k:], xs[j:])
	copy(xs, buf)
	return n
}
