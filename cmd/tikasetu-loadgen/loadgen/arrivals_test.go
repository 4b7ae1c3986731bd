package loadgen

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestArrivalsCount(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		want int
	}{
		{"steady only", Schedule{Rate: 100, Duration: 3 * time.Second}, 300},
		{"ramp then steady", Schedule{Rate: 100, Ramp: 2 * time.Second, Duration: 3 * time.Second}, 400},
		{"ramp only", Schedule{Rate: 50, Ramp: 4 * time.Second}, 100},
		{"fractional rate", Schedule{Rate: 2.5, Duration: 10 * time.Second}, 25},
		{"zero rate", Schedule{Rate: 0, Duration: 10 * time.Second}, 0},
		{"zero duration", Schedule{Rate: 10}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewArrivals(tt.s, nil)
			n := 0
			var last time.Duration
			for {
				off, ok := a.Next()
				if !ok {
					break
				}
				if off < last || off > tt.s.Span() {
					t.Fatalf("arrival %d at %v after %v (span %v)", n, off, last, tt.s.Span())
				}
				last = off
				n++
			}
			if n != tt.want {
				t.Fatalf("%d evenly spaced arrivals, want %d", n, tt.want)
			}
			if e := tt.s.Expected(); math.Abs(e-float64(tt.want)) > 1e-9 {
				t.Fatalf("Expected() = %v, want %d", e, tt.want)
			}
		})
	}
}

// Poisson arrivals (fixed seeds): the count is near Λ within 4 standard
// deviations (√Λ), and the ramp's first half holds a quarter of its arrivals.
func TestArrivalsPoisson(t *testing.T) {
	s := Schedule{Rate: 1000, Ramp: 10 * time.Second, Duration: 10 * time.Second, Poisson: true}
	for seed := range uint64(5) {
		a := NewArrivals(s, rand.New(rand.NewPCG(seed, 42)))
		n, firstHalfRamp, ramp := 0, 0, 0
		for {
			off, ok := a.Next()
			if !ok {
				break
			}
			n++
			if off < 5*time.Second {
				firstHalfRamp++
			}
			if off < 10*time.Second {
				ramp++
			}
		}
		lambda := s.Expected() // 15000
		if math.Abs(float64(n)-lambda) > 4*math.Sqrt(lambda) {
			t.Errorf("seed %d: %d arrivals, want about %.0f", seed, n, lambda)
		}
		if r := float64(firstHalfRamp) / float64(ramp); math.Abs(r-0.25) > 0.03 {
			t.Errorf("seed %d: first half of the ramp has %.3f of its arrivals, want 0.25", seed, r)
		}
	}
}

func TestScheduleRateAt(t *testing.T) {
	s := Schedule{Rate: 100, Ramp: 10 * time.Second, Duration: 5 * time.Second}
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{{-time.Second, 0}, {0, 0}, {5 * time.Second, 50}, {10 * time.Second, 100}, {15 * time.Second, 100}, {16 * time.Second, 0}} {
		if got := s.RateAt(tt.at); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("RateAt(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}
