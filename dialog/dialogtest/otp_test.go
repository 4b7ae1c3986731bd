package dialogtest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestOTPRefusesBadNumbers: every method refuses a number that is not
// E.164, as store's do.
func TestOTPRefusesBadNumbers(t *testing.T) {
	ctx := context.Background()
	s := New(Config{})
	bad := "9830000001"
	for name, call := range map[string]func() error{
		"Issue":           func() error { _, err := s.Issue(ctx, dialog.OTPRequest{To: bad}); return err },
		"Issue by caller": func() error { _, err := s.Issue(ctx, dialog.OTPRequest{To: caller, Caller: bad}); return err },
		"Verify":          func() error { return s.Verify(ctx, bad, "123456") },
		"MarkUndelivered": func() error { return s.MarkUndelivered(ctx, bad) },
		"Undelivered":     func() error { _, err := s.Undelivered(ctx, bad); return err },
		"Remember":        func() error { return s.Remember(ctx, bad, time.Hour) },
		"Remembered":      func() error { _, err := s.Remembered(ctx, bad); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s accepted %q", name, bad)
		}
	}
}

// TestOTPKeptHashed: the code itself is nowhere in the store.
func TestOTPKeptHashed(t *testing.T) {
	s := New(Config{Clock: NewClock(Start)})
	code, err := s.Issue(context.Background(), dialog.OTPRequest{To: caller})
	if err != nil {
		t.Fatal(err)
	}
	st := s.d.otps[caller]
	if strings.Contains(string(st.hash), code) || len(st.hash) != 32 {
		t.Errorf("code kept as %x", st.hash)
	}
}

// TestOTPConcurrentWrongTries: wrong tries at once are each counted: of
// three, one leaves 2 tries, one 1, and one voids the code.
func TestOTPConcurrentWrongTries(t *testing.T) {
	ctx := context.Background()
	for range 20 {
		s := New(Config{Clock: NewClock(Start)})
		code, err := s.Issue(ctx, dialog.OTPRequest{To: caller})
		if err != nil {
			t.Fatal(err)
		}
		results := make([]string, 3)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				err := s.Verify(ctx, caller, otherCode(code))
				var wrong *dialog.OTPWrongError
				switch {
				case errors.As(err, &wrong):
					results[i] = strings.Repeat("left", wrong.Left)
				case errors.Is(err, dialog.ErrOTPLocked):
					results[i] = "locked"
				default:
					results[i] = err.Error()
				}
			})
		}
		wg.Wait()
		slices.Sort(results)
		if got := strings.Join(results, " "); got != "left leftleft locked" {
			t.Fatalf("three wrong tries at once: %s", got)
		}
	}
}
