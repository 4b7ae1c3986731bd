package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts durations in log-linear buckets, the HDR histogram's
// layout done simply: values are whole microseconds; below 128 µs every value
// has its own bucket, and every octave above it ([128·2^e, 256·2^e) µs) is cut
// into 128 equal buckets. A bucket is thus at most 1/128 (0.8 %) of its
// values wide, and Quantile, which answers a bucket's midpoint, is off by at
// most half that (0.4 %). Memory is fixed (histBuckets counters, 32 KiB)
// whatever the number of samples.
//
// Record is safe for concurrent use and lock-free. Reads (Quantile, Count,
// Max, Merge as the source) are exact once recording has stopped; while it
// goes on they see some consistent-enough recent state.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64 // µs
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per octave
	histMaxExp  = 36               // octaves kept above 128 µs: up to ~2.4 hours
	histBuckets = histSub + histMaxExp*histSub
	histMaxUS   = int64(histSub)<<histMaxExp - 1
)

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// bucketOf maps a value in µs to its bucket index.
func bucketOf(us int64) int {
	if us < histSub {
		return int(max(us, 0))
	}
	if us > histMaxUS {
		us = histMaxUS
	}
	e := bits.Len64(uint64(us)) - (histSubBits + 1) // us>>e is in [128, 256)
	return histSub + e*histSub + int(us>>e) - histSub
}

// bucketRange is the smallest and largest value (µs) of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < histSub {
		return int64(i), int64(i)
	}
	e := (i - histSub) / histSub
	m := int64(histSub + (i-histSub)%histSub)
	return m << e, (m+1)<<e - 1
}

// Record adds one duration (negative counts as 0).
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest value recorded (exact, to the microsecond).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the value at quantile q (0 < q ≤ 1): the midpoint of the
// bucket holding the ⌈q·n⌉-th smallest value, never above Max. It returns 0
// for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := min((lo+hi)/2, h.max.Load())
			return time.Duration(v) * time.Microsecond
		}
	}
	return h.Max()
}

// Merge adds the counts of o into h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	om := o.max.Load()
	for {
		m := h.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			return
		}
	}
}

// ms expresses d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
