package loadgen

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	// 1..10000 µs, one each: the q-quantile is q·10000 µs.
	uniform := func(h *Histogram) {
		for v := 1; v <= 10000; v++ {
			h.Record(time.Duration(v) * time.Microsecond)
		}
	}
	type tc struct {
		name   string
		fill   func(*Histogram)
		q      float64
		want   time.Duration
		exact  bool
		maxVal time.Duration
		skipQ  bool // only Max is checked
	}
	tests := []tc{
		{name: "empty", fill: func(*Histogram) {}, q: 0.5, exact: true},
		{name: "one value", fill: func(h *Histogram) { h.Record(3 * time.Millisecond) }, q: 0.99,
			want: 3 * time.Millisecond, maxVal: 3 * time.Millisecond},
		{name: "small values are exact", fill: func(h *Histogram) {
			for v := range 100 {
				h.Record(time.Duration(v+1) * time.Microsecond)
			}
		}, q: 0.5, want: 50 * time.Microsecond, exact: true, maxVal: 100 * time.Microsecond},
		{name: "uniform p50", fill: uniform, q: 0.50, want: 5000 * time.Microsecond, maxVal: 10 * time.Millisecond},
		{name: "uniform p95", fill: uniform, q: 0.95, want: 9500 * time.Microsecond, maxVal: 10 * time.Millisecond},
		{name: "uniform p99", fill: uniform, q: 0.99, want: 9900 * time.Microsecond, maxVal: 10 * time.Millisecond},
		{name: "uniform p100 is the max", fill: uniform, q: 1, want: 10 * time.Millisecond, maxVal: 10 * time.Millisecond},
		{name: "a slow tail", fill: func(h *Histogram) {
			for range 98 {
				h.Record(2 * time.Millisecond)
			}
			h.Record(1500 * time.Millisecond)
			h.Record(1800 * time.Millisecond)
		}, q: 0.99, want: 1500 * time.Millisecond, maxVal: 1800 * time.Millisecond},
		{name: "beyond the range: max still exact", fill: func(h *Histogram) { h.Record(100 * time.Hour) },
			q: 0.5, maxVal: 100 * time.Hour, skipQ: true},
		{name: "negative counts as zero", fill: func(h *Histogram) { h.Record(-time.Second) }, q: 0.5, exact: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHistogram()
			tt.fill(h)
			got := h.Quantile(tt.q)
			if tt.exact {
				if got != tt.want {
					t.Fatalf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
				}
			} else if !tt.skipQ {
				if rel := math.Abs(float64(got-tt.want)) / float64(tt.want); rel > 0.01 {
					t.Fatalf("Quantile(%v) = %v, want %v within 1%% (off by %.2f%%)", tt.q, got, tt.want, rel*100)
				}
			}
			if h.Max() != tt.maxVal {
				t.Fatalf("Max = %v, want %v", h.Max(), tt.maxVal)
			}
		})
	}
}

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	for _, us := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, histMaxUS} {
		i := bucketOf(us)
		lo, hi := bucketRange(i)
		if us < lo || us > hi {
			t.Errorf("%d µs in bucket %d [%d, %d]", us, i, lo, hi)
		}
		if us >= histSub && float64(hi-lo+1)/float64(lo) > 1.0/histSub+1e-9 {
			t.Errorf("bucket %d [%d, %d] wider than 1/%d of its values", i, lo, hi, histSub)
		}
	}
	if i := bucketOf(histMaxUS); i != histBuckets-1 {
		t.Errorf("largest value in bucket %d, want the last, %d", i, histBuckets-1)
	}
}

func TestHistogramMergeAndConcurrency(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range 1000 {
				a.Record(time.Duration(g*1000+v+1) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	b.Record(time.Hour)
	b.Merge(a)
	if a.Count() != 8000 || b.Count() != 8001 {
		t.Fatalf("counts %d, %d; want 8000, 8001", a.Count(), b.Count())
	}
	if a.Max() != 8*time.Millisecond || b.Max() != time.Hour {
		t.Fatalf("max %v, %v", a.Max(), b.Max())
	}
	if got := a.Quantile(0.5); math.Abs(float64(got-4*time.Millisecond)) > 0.01*float64(4*time.Millisecond) {
		t.Fatalf("p50 = %v, want 4ms", got)
	}
}
