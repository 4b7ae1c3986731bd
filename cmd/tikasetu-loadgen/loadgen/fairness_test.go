package loadgen

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func pairs(xs ...int) [][2]time.Duration {
	var ps [][2]time.Duration
	for i := 0; i+1 < len(xs); i += 2 {
		ps = append(ps, [2]time.Duration{time.Duration(xs[i]), time.Duration(xs[i+1])})
	}
	return ps
}

func TestInversions(t *testing.T) {
	tests := []struct {
		name          string
		pairs         [][2]time.Duration
		inv, possible int64
	}{
		{"none", nil, 0, 0},
		{"one", pairs(1, 5), 0, 0},
		{"in order", pairs(1, 10, 2, 20, 3, 30, 4, 40), 0, 6},
		{"given out of order, in order", pairs(3, 30, 1, 10, 4, 40, 2, 20), 0, 6},
		{"reversed", pairs(1, 40, 2, 30, 3, 20, 4, 10), 6, 6},
		{"one swap", pairs(1, 10, 2, 30, 3, 20, 4, 40), 1, 6},
		{"the same moment before: no order", pairs(1, 20, 1, 10, 2, 30), 0, 2},
		{"the same moment after: not inverted", pairs(1, 10, 2, 10), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, possible := inversions(tt.pairs)
			if inv != tt.inv || possible != tt.possible {
				t.Fatalf("inversions = %d of %d, want %d of %d", inv, possible, tt.inv, tt.possible)
			}
		})
	}
}

// The O(n log n) count agrees with counting every pair.
func TestInversionsMatchPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50 {
		n := rng.IntN(60)
		ps := make([][2]time.Duration, n)
		for i := range ps {
			ps[i] = [2]time.Duration{time.Duration(rng.IntN(20)), time.Duration(rng.IntN(20))}
		}
		var want, possible int64
		for i := range ps {
			for j := range ps {
				if ps[i][0] < ps[j][0] {
					possible++
					if ps[i][1] > ps[j][1] {
						want++
					}
				}
			}
		}
		if inv, all := inversions(ps); inv != want || all != possible {
			t.Fatalf("%v: %d of %d, pairwise %d of %d", ps, inv, all, want, possible)
		}
	}
}

func TestQuantile(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 10; i++ {
		xs = append(xs, time.Duration(i)*time.Second)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0, time.Second}, {0.1, time.Second}, {0.15, 2 * time.Second}, {0.5, 5 * time.Second}, {0.9, 9 * time.Second}, {0.99, 10 * time.Second}, {1, 10 * time.Second}} {
		if got := quantile(xs, tt.p); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing is not 0")
	}
}

func TestSummariseAway(t *testing.T) {
	s := time.Second
	rec := func(refused, invited, admitted time.Duration, booked bool) awayRecord {
		r := awayRecord{refused: refused, invited: invited, admitted: admitted, booked: booked}
		if invited >= 0 {
			r.queued = 1
		} else {
			r.busy = 2
		}
		return r
	}
	tests := []struct {
		name    string
		recs    []awayRecord
		elapsed time.Duration
		want    TurnedAway
	}{
		{name: "nobody turned away", elapsed: 3 * s, want: TurnedAway{}},
		{
			name: "queued, let in in order, one never",
			recs: []awayRecord{
				rec(1*s, 3*s, 4*s, true),
				rec(2*s, 4*s, 6*s, false), // let in, then failed
				rec(2500*time.Millisecond, -1, -1, false),
			},
			elapsed: 7 * s,
			want: TurnedAway{Callers: 3, Through: 2, Booked: 1, NeverThrough: 1, Queued: 2, Busy: 2, Invited: 2,
				WaitP10S: 3, WaitP50S: 3, WaitP90S: 4, WaitP99S: 4, WaitMaxS: 4, WaitSpreadS: 1,
				OrderPairs: 1, OrderInversions: 0, InviteOrderPairs: 1, InviteOrderInversions: new(0.0),
				RefusedBySecond: []int64{0, 1, 3, 3, 3, 3, 3}, ThroughBySecond: []int64{0, 0, 0, 0, 1, 1, 2}},
		},
		{
			name: "redialled: the later let in first",
			recs: []awayRecord{
				rec(1*s, -1, 9*s, true),
				rec(2*s, -1, 3*s, true),
				rec(3*s, -1, 5*s, true),
			},
			elapsed: 9500 * time.Millisecond,
			want: TurnedAway{Callers: 3, Through: 3, Booked: 3, Busy: 6,
				WaitP10S: 1, WaitP50S: 2, WaitP90S: 8, WaitP99S: 8, WaitMaxS: 8, WaitSpreadS: 7,
				OrderPairs: 3, OrderInversions: 0.6667,
				RefusedBySecond: []int64{0, 1, 2, 3, 3, 3, 3, 3, 3, 3}, ThroughBySecond: []int64{0, 0, 0, 1, 1, 2, 2, 2, 2, 3}},
		},
		{
			name: "invited out of order",
			recs: []awayRecord{
				rec(1*s, 5*s, 6*s, true),
				rec(2*s, 4*s, 7*s, true),
			},
			elapsed: 8 * s,
			want: TurnedAway{Callers: 2, Through: 2, Booked: 2, Queued: 2, Invited: 2,
				WaitP10S: 5, WaitP50S: 5, WaitP90S: 5, WaitP99S: 5, WaitMaxS: 5, WaitSpreadS: 0,
				OrderPairs: 1, InviteOrderPairs: 1, InviteOrderInversions: new(1.0),
				RefusedBySecond: []int64{0, 1, 2, 2, 2, 2, 2, 2}, ThroughBySecond: []int64{0, 0, 0, 0, 0, 0, 1, 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := *summariseAway(tt.recs, tt.elapsed)
			if cdf := got.WaitCDF; tt.want.Through > 0 {
				if len(cdf) != 101 || cdf[50] != got.WaitP50S || cdf[90] != got.WaitP90S || cdf[100] != got.WaitMaxS || !slices.IsSorted(cdf) {
					t.Errorf("wait CDF %v does not match the quantiles of %+v", cdf, got)
				}
			} else if cdf != nil {
				t.Errorf("wait CDF %v with nobody let in", cdf)
			}
			got.WaitCDF = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
