package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// wrongCode returns a 6-digit code different from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestOTP(t *testing.T) {
	type step struct {
		do      string        // issue, verify, wrong, advance
		advance time.Duration // for advance
		want    error         // nil, sentinel, or a typed error to compare
	}
	wrongLeft := func(n int) error { return &dialog.OTPWrongError{Left: n} }
	limit := func(d time.Duration, hourly, live bool) error {
		return &dialog.OTPLimitError{RetryAfter: d, Hourly: hourly, Live: live}
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"right code consumes it", []step{
			{do: "issue"}, {do: "verify"}, {do: "verify", want: dialog.ErrOTPExpired},
		}},
		{"none issued", []step{{do: "wrong", want: dialog.ErrOTPExpired}}},
		{"wrong, wrong, right", []step{
			{do: "issue"}, {do: "wrong", want: wrongLeft(2)}, {do: "wrong", want: wrongLeft(1)}, {do: "verify"},
		}},
		{"three wrong lock it", []step{
			{do: "issue"}, {do: "wrong", want: wrongLeft(2)}, {do: "wrong", want: wrongLeft(1)},
			{do: "wrong", want: dialog.ErrOTPLocked}, {do: "verify", want: dialog.ErrOTPLocked},
			{do: "advance", advance: time.Hour}, {do: "verify", want: dialog.ErrOTPLocked},
			{do: "issue"}, {do: "verify"},
		}},
		{"expires after 180 s", []step{
			{do: "issue"}, {do: "advance", advance: 180 * time.Second}, {do: "wrong", want: wrongLeft(2)},
			{do: "advance", advance: time.Millisecond}, {do: "verify", want: dialog.ErrOTPExpired},
		}},
		{"resend cool-down", []step{
			{do: "issue"}, {do: "advance", advance: 10 * time.Second}, {do: "issue", want: limit(20*time.Second, false, true)},
			{do: "advance", advance: 20 * time.Second}, {do: "issue"},
			// The old code was replaced.
			{do: "verify"},
		}},
		{"a used code needs no cool-down", []step{
			{do: "issue"}, {do: "verify"}, {do: "advance", advance: time.Second}, {do: "issue"}, {do: "verify"},
		}},
		{"hourly cap, rolling", []step{
			{do: "issue"}, {do: "advance", advance: 30 * time.Second},
			{do: "issue"}, {do: "advance", advance: 30 * time.Second},
			{do: "issue"}, {do: "advance", advance: 30 * time.Second},
			{do: "issue"}, {do: "advance", advance: 30 * time.Second},
			{do: "issue"}, {do: "advance", advance: 30 * time.Second},
			{do: "issue", want: limit(time.Hour-150*time.Second, true, true)},
			{do: "advance", advance: time.Hour - 150*time.Second - time.Millisecond},
			{do: "issue", want: limit(time.Millisecond, true, false)},
			{do: "advance", advance: time.Millisecond},
			{do: "issue"},
			{do: "advance", advance: 30 * time.Second},
			{do: "issue"}, // the second code of the hour has aged out too
			{do: "advance", advance: 10 * time.Second},
			// Cool-down and cap would both allow a code in 20 s: a tie
			// reports the cool-down.
			{do: "issue", want: limit(20*time.Second, false, true)},
		}},
		{"a locked code is not live", []step{
			{do: "issue"}, {do: "wrong", want: wrongLeft(2)}, {do: "wrong", want: wrongLeft(1)},
			{do: "wrong", want: dialog.ErrOTPLocked}, {do: "advance", advance: 5 * time.Second},
			{do: "issue", want: limit(25*time.Second, false, false)},
		}},
	}
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := msisdn(100 + i)
				var code string
				for j, st := range tc.steps {
					var err error
					switch st.do {
					case "issue":
						var c string
						c, err = env.Issue(ctx, dialog.OTPRequest{To: m})
						if err == nil {
							if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
								t.Fatalf("code %q", c)
							}
							code = c
						}
					case "verify":
						err = env.Verify(ctx, m, code)
					case "wrong":
						err = env.Verify(ctx, m, wrongCode(code))
					case "advance":
						env.clock.Advance(st.advance)
						continue
					}
					if !sameErr(err, st.want) {
						t.Fatalf("step %d (%s): err = %v, want %v", j, st.do, err, st.want)
					}
				}
			})
		}
	})
}

// sameErr compares sentinels with errors.Is and typed OTP errors by value.
func sameErr(got, want error) bool {
	var gw, ww *dialog.OTPWrongError
	var gl, wl *dialog.OTPLimitError
	switch {
	case errors.As(want, &ww):
		return errors.As(got, &gw) && *gw == *ww
	case errors.As(want, &wl):
		return errors.As(got, &gl) && *gl == *wl
	case want == nil:
		return got == nil
	}
	return errors.Is(got, want)
}

// TestOTPConcurrentWrongTries: wrong tries at once are each counted.
func TestOTPConcurrentWrongTries(t *testing.T) {
	forBackends(t, []backend{realRedis, miniRedis}, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		for round := range 20 {
			m := msisdn(round)
			code, err := env.Issue(ctx, dialog.OTPRequest{To: m})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = env.Verify(ctx, m, wrongCode(code))
				}()
			}
			wg.Wait()
			lefts := map[int]bool{}
			locked := 0
			for _, err := range errs {
				var w *dialog.OTPWrongError
				switch {
				case errors.As(err, &w):
					lefts[w.Left] = true
				case errors.Is(err, dialog.ErrOTPLocked):
					locked++
				default:
					t.Fatalf("unexpected %v", err)
				}
			}
			// Three tries: the answers are 2 left, 1 left and locked, in
			// some order — never the same count twice.
			if locked != 1 || !lefts[1] || !lefts[2] {
				t.Fatalf("round %d: %v", round, errs)
			}
			if err := env.Verify(ctx, m, code); !errors.Is(err, dialog.ErrOTPLocked) {
				t.Fatalf("after lock, right code: %v", err)
			}
		}
	})
}

func TestOTPCodesUniform(t *testing.T) {
	// 60,000 codes: each digit position's counts stay within a loose
	// chi-square bound (9 degrees of freedom, p ≈ 1e-6 at 50).
	var counts [6][10]int
	const n = 60000
	for range n {
		c := newOTP()
		for i := range 6 {
			counts[i][c[i]-'0']++
		}
	}
	for i := range counts {
		chi := 0.0
		for _, k := range counts[i] {
			d := float64(k) - n/10
			chi += d * d / (n / 10)
		}
		if chi > 50 {
			t.Errorf("position %d: chi² = %.1f, counts %v", i, chi, counts[i])
		}
	}
}

// TestOTPOtherNumbers: a caller asking codes for 30 other numbers gets 3
// in the hour and 10 in the day; asking again for a number of the hour is
// free; their own number is not counted.
func TestOTPOtherNumbers(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		caller := msisdn(500)
		issued := 0
		var refused *dialog.OTPBudgetError
		for i := range 30 {
			_, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(600 + i), Caller: caller})
			switch {
			case err == nil:
				issued++
			case errors.As(err, &refused) && refused.Reason == dialog.BudgetOtherNumbers:
			default:
				t.Fatalf("number %d: %v", i, err)
			}
		}
		if issued != 3 {
			t.Fatalf("issued %d codes for other numbers in the hour, want 3", issued)
		}
		if refused.RetryAfter != time.Hour {
			t.Fatalf("retry after %v, want 1h (the first number's hour)", refused.RetryAfter)
		}
		env.clock.Advance(31 * time.Second) // past the number's own cool-down
		if _, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(600), Caller: caller}); err != nil {
			t.Fatalf("a number of this hour again: %v", err)
		}
		if _, err := env.Issue(ctx, dialog.OTPRequest{To: caller, Caller: caller}); err != nil {
			t.Fatalf("own number: %v", err)
		}
		// Over the day: 3 more every hour until 10.
		for h := 1; h <= 5; h++ {
			env.clock.Advance(time.Hour)
			for i := range 3 {
				if _, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(700 + 10*h + i), Caller: caller}); err == nil {
					issued++
				}
			}
		}
		if issued != 10 {
			t.Fatalf("issued %d codes for other numbers in the day, want 10", issued)
		}
		_, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(800), Caller: caller})
		if !errors.As(err, &refused) || refused.RetryAfter <= time.Hour {
			t.Fatalf("11th number of the day: %v, want refused for more than an hour", err)
		}
		// A number of earlier today (not of this hour) is one of the ten.
		if _, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(601), Caller: caller}); err != nil {
			t.Fatalf("a number asked earlier today: %v", err)
		}
	})
}

// TestOTPRate: 40 made-up callers a second, for 5 seconds, get no more
// codes than the rate allows, and the provider's own rate holds too.
func TestOTPRate(t *testing.T) {
	for _, tc := range []struct {
		name          string
		all, provider int
		want          int // codes in the 5 s
		otherProvider bool
	}{
		{"overall", 10, 0, 50, false},
		{"per provider", 0, 4, 20, false},
		{"provider below overall", 10, 4, 20, false},
		{"two providers share the overall", 10, 8, 50, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, redistestEmbedded(t), func(c *Config) { c.OTPRate, c.OTPProviderRate = tc.all, tc.provider })
			ctx := context.Background()
			env.clock.Advance(time.Second - time.Duration(env.clock.Now().Nanosecond())) // on a second
			issued, n := 0, 0
			for range 5 {
				for range 40 {
					n++
					p := "africastalking"
					if tc.otherProvider && n%2 == 0 {
						p = "partner-x"
					}
					_, err := env.Issue(ctx, dialog.OTPRequest{To: msisdn(2000 + n), Caller: msisdn(2000 + n), Provider: p})
					var refused *dialog.OTPBudgetError
					switch {
					case err == nil:
						issued++
					case errors.As(err, &refused) && refused.Reason == dialog.BudgetRate:
						if refused.RetryAfter <= 0 || refused.RetryAfter > time.Second {
							t.Fatalf("retry after %v", refused.RetryAfter)
						}
					default:
						t.Fatal(err)
					}
					env.clock.Advance(25 * time.Millisecond)
				}
			}
			if issued != tc.want {
				t.Fatalf("issued %d codes in 5 s, want %d", issued, tc.want)
			}
		})
	}
}

// TestRemember: a number that passed a code is remembered for the ttl
// given, and no other number is.
func TestRemember(t *testing.T) {
	forBackends(t, allBackends, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		if ok, err := env.Remembered(ctx, msisdn(900)); err != nil || ok {
			t.Fatalf("remembered before: %v, %v", ok, err)
		}
		if err := env.Remember(ctx, msisdn(900), time.Hour); err != nil {
			t.Fatal(err)
		}
		if ok, err := env.Remembered(ctx, msisdn(900)); err != nil || !ok {
			t.Fatalf("not remembered: %v, %v", ok, err)
		}
		if ok, _ := env.Remembered(ctx, msisdn(901)); ok {
			t.Fatal("another number remembered")
		}
		if ttl := env.rdb.PTTL(ctx, verifiedKey(msisdn(900))).Val(); ttl <= 0 || ttl > time.Hour {
			t.Fatalf("kept for %v, want at most the hour given", ttl)
		}
		env.clock.Advance(time.Hour)
		if ok, err := env.Remembered(ctx, msisdn(900)); err != nil || ok {
			t.Fatalf("remembered past the hour: %v, %v", ok, err)
		}
	})
}
