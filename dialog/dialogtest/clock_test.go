package dialogtest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := NewClock(Start)
	for _, step := range []struct {
		by   time.Duration
		want time.Time
	}{
		{0, Start},
		{time.Second, Start.Add(time.Second)},
		{24 * time.Hour, Start.Add(24*time.Hour + time.Second)},
	} {
		c.Advance(step.by)
		if got := c.Now(); !got.Equal(step.want) {
			t.Errorf("after %v: %v, want %v", step.by, got, step.want)
		}
	}
}

// TestClockConcurrent moves one clock from several goroutines, forwards
// and back: every move counts once.
func TestClockConcurrent(t *testing.T) {
	tests := []struct {
		name  string
		moves []time.Duration
		want  time.Time
	}{
		{"still", nil, Start},
		{"forward", []time.Duration{time.Second, time.Minute}, Start.Add(time.Minute + time.Second)},
		{"back", []time.Duration{-time.Hour}, Start.Add(-time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(Start)
			var wg sync.WaitGroup
			for _, d := range tc.moves {
				wg.Go(func() {
					c.Advance(d)
					_ = c.Now()
				})
			}
			wg.Wait()
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now = %v, want %v", got, tc.want)
			}
		})
	}
}
