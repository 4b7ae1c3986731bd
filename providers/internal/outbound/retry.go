package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the wait a receiver's Retry-After header can ask for.
const MaxRetryAfter = time.Hour

// Retry is how an HTTP sender retries one message within a single Send:
// a bounded number of attempts, with a jittered exponential back-off
// between them or the wait the receiver asked for, capped. The queue in
// front of the senders (providers/dispatch) retries a failed Send again
// later under its own back-off; Retry covers only the attempts of one
// call. The zero value makes one attempt.
type Retry struct {
	// Attempts is how many attempts a message gets in all; below 1 means 1.
	Attempts int
	// Backoff is the wait before the second attempt; it doubles before
	// each further one, with equal jitter (half fixed, half random).
	Backoff time.Duration
	// MaxBackoff caps any wait, a Retry-After included.
	MaxBackoff time.Duration
	// Sleep waits between attempts; nil means Sleep. Tests replace it to
	// record the waits without taking them.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Attempt is one try at sending. It reports whether a failure may be
// retried and any wait the receiver asked for (see RetryAfter); a nil
// error is success.
type Attempt func(ctx context.Context) (retry bool, wait time.Duration, err error)

// Do calls try until it succeeds, fails for good (retry false), has been
// called Attempts times or ctx ends, waiting Delay between calls. what
// names the message in errors ("smshttp: send r1 to +91XXXXXX3210"); log
// receives one warning per retry and must not carry the full number.
//
// Do returns the number of the attempt that succeeded, or the last
// attempt's error wrapped as "<what>, attempt <n>/<Attempts>: <err>".
// When ctx ended, the error wraps ctx's error too, so errors.Is(err,
// context.Canceled) holds whichever way the attempt failed.
func (r Retry) Do(ctx context.Context, what string, log *slog.Logger, try Attempt) (int, error) {
	attempts := max(r.Attempts, 1)
	sleep := r.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	for attempt := 1; ; attempt++ {
		retry, wait, err := try(ctx)
		if err == nil {
			return attempt, nil
		}
		err = fmt.Errorf("%s, attempt %d/%d: %w", what, attempt, attempts, err)
		if cerr := ctx.Err(); cerr != nil {
			if !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (stopped: %w)", err, cerr)
			}
			return attempt, err
		}
		if !retry || attempt >= attempts {
			return attempt, err
		}
		d := r.Delay(attempt, wait)
		log.Warn("sms send failed; retrying", slog.Int("attempt", attempt),
			slog.Duration("wait", d), slog.String("err", err.Error()))
		if werr := sleep(ctx, d); werr != nil {
			return attempt, fmt.Errorf("%w (gave up waiting to retry: %w)", err, werr)
		}
	}
}

// Delay is the wait after failed attempt number attempt (1-based): the
// receiver's Retry-After when it gave one, otherwise Backoff doubled once
// per earlier attempt with equal jitter, so that the retries of a burst
// spread out; either way at most MaxBackoff (or Backoff, when that is
// larger).
func (r Retry) Delay(attempt int, retryAfter time.Duration) time.Duration {
	backoff := max(r.Backoff, 0)
	ceiling := max(r.MaxBackoff, backoff)
	d := retryAfter
	if d <= 0 {
		d = backoff
		for i := 1; i < attempt && d < ceiling; i++ {
			d *= 2
		}
		d = d/2 + mrand.N(d/2+1)
	}
	return min(d, ceiling)
}

// Sleep waits d or until ctx ends, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retryable reports whether an HTTP status asks for the same request
// again later: 429 and every 5xx.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// RetryAfter reads a Retry-After header value, delay seconds or an HTTP
// date, as a wait from now: 0 when it is absent, unreadable or past, at
// most MaxRetryAfter.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int(MaxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter)
	}
	return 0
}
