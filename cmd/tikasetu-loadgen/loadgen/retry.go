package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Retry is how callers turned away at the dial try again, as people did in
// 2021. Given a place in the surge queue (the queued screen), a caller
// waits for the invitation SMS and dials a reaction time (React) after it.
// Given the plain busy screen, they redial on their own after a wait drawn
// from an exponential distribution of mean RedialMean. Either way they give
// up Patience after their first refusal, and count as never let in; a
// Patience of 0 waits until the run ends (after its drain).
type Retry struct {
	React      Range
	RedialMean time.Duration
	Patience   time.Duration
}

// Defaults of Retry.
var (
	DefaultReact      = Range{Min: 2 * time.Second, Max: 20 * time.Second}
	DefaultRedialMean = 30 * time.Second
)

func (r *Retry) defaults() error {
	if r.React == (Range{}) {
		r.React = DefaultReact
	}
	if r.RedialMean <= 0 {
		r.RedialMean = DefaultRedialMean
	}
	switch {
	case r.React.Min < 0 || r.React.Max < r.React.Min:
		return fmt.Errorf("loadgen: reaction time %v: want 0 ≤ min ≤ max", r.React)
	case r.Patience < 0:
		return fmt.Errorf("loadgen: negative patience %v", r.Patience)
	}
	return nil
}

// Range is a duration drawn uniformly between Min and Max.
type Range struct{ Min, Max time.Duration }

// ParseRange reads "2s-20s" (uniform between the two) or "5s" (always 5 s).
func ParseRange(s string) (Range, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	a, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return Range{}, fmt.Errorf("range %q: %w", s, err)
	}
	b := a
	if found {
		if b, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return Range{}, fmt.Errorf("range %q: %w", s, err)
		}
	}
	if a < 0 || b < a {
		return Range{}, fmt.Errorf("range %q: want MIN-MAX with 0 ≤ MIN ≤ MAX", s)
	}
	return Range{Min: a, Max: b}, nil
}

func (r Range) String() string {
	if r.Min == r.Max {
		return r.Min.String()
	}
	return r.Min.String() + "-" + r.Max.String()
}

// draw returns a duration uniformly distributed in [Min, Max].
func (r Range) draw(rng *rand.Rand) time.Duration {
	return r.Min + time.Duration(rng.Int64N(int64(r.Max-r.Min)+1))
}

// redialWait draws a caller's own wait before dialling again.
func redialWait(rng *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(rng.ExpFloat64() * float64(mean))
}

// away is one caller's time turned away at the dial: the first refusal,
// the first invitation (zero: none) and the dial that let them in (zero:
// never), and how many dials were refused, with a place in the queue or
// without.
type away struct {
	refused, invited, admitted time.Time
	queued, busy               int
}

// isQueued reports whether an END screen gives the caller a place in the
// queue: one of the queued markers appears in it as words of their own.
func (t *target) isQueued(screen string) bool {
	low := strings.ToLower(screen)
	for _, m := range t.queued {
		if m != "" && containsWord(low, m) {
			return true
		}
	}
	return false
}

// dial makes the first request of the journey. With retries on, a caller
// turned away (the busy or the queued screen) tries again as Retry says
// until let in or out of patience, each time in a new USSD session; their
// time turned away is kept in j.away. A caller who is never let in ends
// shed at the dial.
func (j *journey) dial(ctx context.Context) (string, *Outcome) {
	r := j.t.retry
	if r == nil {
		return j.step(ctx, "dial", "")
	}
	base := j.session
	var giveUp <-chan time.Time
	for n := 0; ; n++ {
		if n > 0 {
			j.session, j.inputs, j.dialled = fmt.Sprintf("%s-%d", base, n), nil, false
		}
		// Registered before the dial: the invitation may come before
		// its answer is read.
		invite := j.t.sink.ExpectInvite(j.msisdn)
		s, o := j.step(ctx, "dial", "")
		if o == nil || o.Kind != Shed {
			j.t.sink.ForgetInvite(j.msisdn, invite)
			if o == nil && j.away != nil {
				j.away.admitted = time.Now()
			}
			return s, o
		}
		now := time.Now()
		if j.away == nil {
			j.away = &away{refused: now}
			if r.Patience > 0 {
				pt := time.NewTimer(r.Patience)
				defer pt.Stop()
				giveUp = pt.C
			}
		}
		var wake <-chan time.Time
		queued := j.t.isQueued(o.Detail)
		if queued {
			j.away.queued++
			wake = invite
		} else {
			j.away.busy++
			j.t.sink.ForgetInvite(j.msisdn, invite)
			wake = time.After(redialWait(j.rng, r.RedialMean))
		}
		if !j.wait(ctx, wake, giveUp, func(at time.Time) {
			if queued && j.away.invited.IsZero() {
				j.away.invited = at
			}
		}) {
			j.t.sink.ForgetInvite(j.msisdn, invite)
			return s, j.end(Shed, "dial", "never let in", o.Detail)
		}
		j.t.sink.ForgetInvite(j.msisdn, invite)
		if queued && !j.wait(ctx, time.After(r.React.draw(j.rng)), giveUp, nil) {
			return s, j.end(Shed, "dial", "never let in", o.Detail)
		}
	}
}

// wait waits for wake, counted as waiting rather than in flight, and
// reports false when patience or the run ran out first. woke, when set,
// is given wake's value.
func (j *journey) wait(ctx context.Context, wake, giveUp <-chan time.Time, woke func(time.Time)) bool {
	j.t.stats.waitBegin()
	defer j.t.stats.waitEnd()
	select {
	case at := <-wake:
		if woke != nil {
			woke(at)
		}
		return true
	case <-giveUp:
	case <-ctx.Done():
	}
	return false
}
