package loadgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// Schedule is the open-loop offered load: the arrival rate climbs linearly
// from 0 to Rate journeys/s over Ramp, then stays at Rate for Duration.
// The expected number of arrivals by time t is the integral of the rate,
//
//	Λ(t) = Rate·t²/(2·Ramp)               for t < Ramp
//	Λ(t) = Rate·Ramp/2 + Rate·(t − Ramp)  after,
//
// so a whole run offers Rate·(Ramp/2 + Duration) journeys.
type Schedule struct {
	Rate     float64 // journeys per second at the top of the ramp
	Ramp     time.Duration
	Duration time.Duration // at full rate, after the ramp
	// Poisson makes arrivals a (time-varying) Poisson process, as
	// independent callers are; otherwise they are evenly spaced.
	Poisson bool
}

// Span is the time over which arrivals happen: Ramp + Duration.
func (s Schedule) Span() time.Duration { return s.Ramp + s.Duration }

// Expected is Λ(Span): the mean number of arrivals in a run (exact for
// evenly spaced arrivals, up to rounding down).
func (s Schedule) Expected() float64 {
	return s.Rate * (s.Ramp.Seconds()/2 + s.Duration.Seconds())
}

// RateAt is the target arrival rate at offset t.
func (s Schedule) RateAt(t time.Duration) float64 {
	switch {
	case t < 0 || t > s.Span():
		return 0
	case t < s.Ramp:
		return s.Rate * t.Seconds() / s.Ramp.Seconds()
	}
	return s.Rate
}

// at inverts Λ: the offset by which x arrivals are expected.
func (s Schedule) at(x float64) time.Duration {
	ramp := s.Ramp.Seconds()
	var t float64
	if inRamp := s.Rate * ramp / 2; ramp > 0 && x < inRamp {
		t = math.Sqrt(2 * x * ramp / s.Rate)
	} else {
		t = ramp + (x-inRamp)/s.Rate
	}
	return time.Duration(t * float64(time.Second))
}

// Arrivals yields the offsets (from the start of the run) at which journeys
// arrive, in order. Evenly spaced arrivals put the k-th journey at Λ⁻¹(k);
// Poisson arrivals put it at Λ⁻¹(E₁+…+E_k) with Eᵢ independent unit
// exponentials (time rescaling of a unit-rate Poisson process), which gives
// a Poisson process whose rate follows the ramp. Not safe for concurrent use.
type Arrivals struct {
	s   Schedule
	rng *rand.Rand
	x   float64 // Λ of the last arrival
}

// NewArrivals returns the arrivals of s; rng drives Poisson arrivals and
// may be nil for evenly spaced ones.
func NewArrivals(s Schedule, rng *rand.Rand) *Arrivals {
	if s.Poisson && rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Arrivals{s: s, rng: rng}
}

// Next returns the offset of the next arrival, and false once the schedule
// is over.
func (a *Arrivals) Next() (time.Duration, bool) {
	if a.s.Rate <= 0 {
		return 0, false
	}
	if a.s.Poisson {
		a.x += a.rng.ExpFloat64()
	} else {
		a.x++
	}
	t := a.s.at(a.x)
	if t > a.s.Span() {
		return 0, false
	}
	return t, true
}
