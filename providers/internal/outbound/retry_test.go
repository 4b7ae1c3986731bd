package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// step is what one scripted attempt returns.
type step struct {
	retry bool
	wait  time.Duration
	err   error
}

// script answers attempts from steps, the last one repeating, and counts
// the calls.
type script struct {
	steps []step
	calls int
}

func (s *script) try(context.Context) (bool, time.Duration, error) {
	st := s.steps[min(s.calls, len(s.steps)-1)]
	s.calls++
	return st.retry, st.wait, st.err
}

// recordWaits is a Retry.Sleep that records the waits instead of taking
// them.
func recordWaits(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}

func TestRetryDo(t *testing.T) {
	errBusy := errors.New("status 503")
	errRefused := errors.New("status 400")
	retryable := step{retry: true, err: errBusy}
	tests := []struct {
		name      string
		retry     Retry
		steps     []step
		calls     int
		waits     []time.Duration // nil: as many as calls-1, each within the back-off
		wantErr   error
		wantText  string // the whole error text
		wantLines int    // retry warnings logged
	}{
		{name: "success first time", retry: Retry{Attempts: 3}, steps: []step{{}}, calls: 1},
		{name: "retried, then success", retry: Retry{Attempts: 3, Backoff: 10 * time.Millisecond, MaxBackoff: time.Second},
			steps: []step{retryable, {}}, calls: 2, wantLines: 1},
		{name: "gives up after Attempts", retry: Retry{Attempts: 3, Backoff: 10 * time.Millisecond, MaxBackoff: time.Second},
			steps: []step{retryable}, calls: 3, wantErr: errBusy, wantText: "send r1, attempt 3/3: status 503", wantLines: 2},
		{name: "five attempts", retry: Retry{Attempts: 5, Backoff: 10 * time.Millisecond, MaxBackoff: time.Second},
			steps: []step{retryable}, calls: 5, wantErr: errBusy, wantText: "send r1, attempt 5/5: status 503", wantLines: 4},
		{name: "a final failure is not retried", retry: Retry{Attempts: 3},
			steps: []step{{err: errRefused}}, calls: 1, wantErr: errRefused, wantText: "send r1, attempt 1/3: status 400"},
		{name: "zero value makes one attempt", steps: []step{retryable}, calls: 1,
			wantErr: errBusy, wantText: "send r1, attempt 1/1: status 503"},
		{name: "Retry-After honoured", retry: Retry{Attempts: 2, Backoff: 10 * time.Millisecond, MaxBackoff: 4 * time.Second},
			steps: []step{{retry: true, wait: 2 * time.Second, err: errBusy}, {}}, calls: 2,
			waits: []time.Duration{2 * time.Second}, wantLines: 1},
		{name: "Retry-After capped by MaxBackoff", retry: Retry{Attempts: 2, Backoff: 10 * time.Millisecond, MaxBackoff: 1500 * time.Millisecond},
			steps: []step{{retry: true, wait: time.Hour, err: errBusy}, {}}, calls: 2,
			waits: []time.Duration{1500 * time.Millisecond}, wantLines: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var waits []time.Duration
			tc.retry.Sleep = recordWaits(&waits)
			var logs bytes.Buffer
			s := &script{steps: tc.steps}
			n, err := tc.retry.Do(context.Background(), "send r1", slog.New(slog.NewTextHandler(&logs, nil)), s.try)
			if s.calls != tc.calls || n != tc.calls {
				t.Errorf("%d calls, Do says %d; want %d", s.calls, n, tc.calls)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr != nil && (!errors.Is(err, tc.wantErr) || err.Error() != tc.wantText):
				t.Errorf("error %q, want %q wrapping %v", err, tc.wantText, tc.wantErr)
			}
			if tc.waits != nil && fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", waits, tc.waits)
			}
			if len(waits) != tc.calls-1 {
				t.Errorf("%d waits for %d calls", len(waits), tc.calls)
			}
			for _, d := range waits {
				if d <= 0 || d > tc.retry.MaxBackoff {
					t.Errorf("wait %v outside (0, %v]", d, tc.retry.MaxBackoff)
				}
			}
			if got := strings.Count(logs.String(), `msg="sms send failed; retrying"`); got != tc.wantLines {
				t.Errorf("%d retry warnings, want %d:\n%s", got, tc.wantLines, logs.String())
			}
		})
	}
}

// The retry warning names the attempt, the wait and the error, and
// nothing the caller did not put in what.
func TestRetryDoLogs(t *testing.T) {
	var logs bytes.Buffer
	r := Retry{Attempts: 2, Backoff: time.Second, MaxBackoff: time.Second, Sleep: recordWaits(new([]time.Duration))}
	s := &script{steps: []step{{retry: true, wait: time.Second, err: errors.New("status 503")}, {}}}
	log := slog.New(slog.NewTextHandler(&logs, nil)).With("to", "+91XXXXXX3210")
	if _, err := r.Do(context.Background(), "send r1 to +91XXXXXX3210", log, s.try); err != nil {
		t.Fatal(err)
	}
	want := `level=WARN msg="sms send failed; retrying" to=+91XXXXXX3210 attempt=1 wait=1s err="send r1 to +91XXXXXX3210, attempt 1/2: status 503"`
	if got := strings.TrimSpace(logs.String()); !strings.HasSuffix(got, want) {
		t.Errorf("log\n%s\nwant it to end\n%s", got, want)
	}
}

func TestRetryDoStopsWithContext(t *testing.T) {
	errBusy := errors.New("status 503")
	tests := []struct {
		name     string
		try      func(cancel context.CancelFunc) Attempt
		sleep    func(cancel context.CancelFunc) func(context.Context, time.Duration) error
		calls    int
		wantText string
	}{
		{
			name: "ended during an attempt",
			try: func(cancel context.CancelFunc) Attempt {
				return func(context.Context) (bool, time.Duration, error) {
					cancel()
					return true, 0, errBusy
				}
			},
			calls:    1,
			wantText: "send r1, attempt 1/3: status 503 (stopped: context canceled)",
		},
		{
			name: "the attempt's error already says so",
			try: func(cancel context.CancelFunc) Attempt {
				return func(ctx context.Context) (bool, time.Duration, error) {
					cancel()
					return true, 0, fmt.Errorf("post: %w", ctx.Err())
				}
			},
			calls:    1,
			wantText: "send r1, attempt 1/3: post: context canceled",
		},
		{
			name: "ended while waiting to retry",
			try: func(context.CancelFunc) Attempt {
				return func(context.Context) (bool, time.Duration, error) { return true, 0, errBusy }
			},
			sleep: func(cancel context.CancelFunc) func(context.Context, time.Duration) error {
				return func(ctx context.Context, d time.Duration) error {
					cancel()
					return Sleep(ctx, d) // an hour, unless the cancellation reaches it
				}
			},
			calls:    1,
			wantText: "send r1, attempt 1/3: status 503 (gave up waiting to retry: context canceled)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := Retry{Attempts: 3, Backoff: time.Hour, MaxBackoff: time.Hour}
			if tc.sleep != nil {
				r.Sleep = tc.sleep(cancel)
			}
			calls := 0
			try := tc.try(cancel)
			n, err := r.Do(ctx, "send r1", slog.New(slog.DiscardHandler), func(ctx context.Context) (bool, time.Duration, error) {
				calls++
				return try(ctx)
			})
			if !errors.Is(err, context.Canceled) || err.Error() != tc.wantText {
				t.Errorf("error %q, want %q wrapping context.Canceled", err, tc.wantText)
			}
			if calls != tc.calls || n != tc.calls {
				t.Errorf("%d calls, Do says %d; want %d", calls, n, tc.calls)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	r := Retry{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	tests := []struct {
		name       string
		r          Retry
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"first back-off", r, 1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{"doubles", r, 2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{"doubles again", r, 3, 0, 200 * time.Millisecond, 400 * time.Millisecond},
		{"capped", r, 10, 0, 500 * time.Millisecond, time.Second},
		{"Retry-After honoured", r, 1, 700 * time.Millisecond, 700 * time.Millisecond, 700 * time.Millisecond},
		{"Retry-After capped", r, 1, time.Minute, time.Second, time.Second},
		{"no back-off", Retry{MaxBackoff: time.Second}, 3, 0, 0, 0},
		{"cap below the back-off", Retry{Backoff: 2 * time.Second, MaxBackoff: time.Second}, 2, 0, time.Second, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				if got := tc.r.Delay(tc.attempt, tc.retryAfter); got < tc.lo || got > tc.hi {
					t.Fatalf("Delay = %v, want in [%v, %v]", got, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestSleep(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"waits", context.Background(), time.Millisecond, nil},
		{"cut short", cancelled, time.Hour, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := Sleep(tc.ctx, tc.d)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("Sleep = %v, want %v", err, tc.want)
			}
			if took := time.Since(start); tc.want == nil && took < tc.d {
				t.Errorf("Sleep returned after %v, before %v", took, tc.d)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{200, false}, {400, false}, {401, false}, {404, false}, {422, false},
		{429, true}, {500, true}, {502, true}, {503, true},
	}
	for _, tc := range tests {
		if got := Retryable(tc.status); got != tc.want {
			t.Errorf("Retryable(%d) = %v, want %v", tc.status, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2021, 4, 28, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"99999999", MaxRetryAfter},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{" " + now.Add(10*time.Second).Format(http.TimeFormat) + " ", 10 * time.Second},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := RetryAfter(tc.in, now); got != tc.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
