package dialog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestOTPForOtherNumbers: a caller may have codes sent to three numbers
// other than their own in an hour; the fourth gets a screen that says so,
// and no SMS.
func TestOTPForOtherNumbers(t *testing.T) {
	cal := newCalendar(t)
	c := &caller{t: t, w: cal.world(t), b: budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
		run: 900, msisdn: "+919830099001"}
	c.start("lang")
	c.lang = "en"
	c.step("1", "number", "")
	for i := range 4 {
		other := fmt.Sprintf("98300990%02d", 10+i)
		c.step("2", "other_number", "")
		if i == 3 {
			c.step(other, "other_number", c.text("otp.others", "minutes", "60"))
			c.w.eng.Drain()
			if got := c.w.sms.To("+91" + other); len(got) != 0 {
				t.Fatalf("a code was sent past the budget: %d SMS", len(got))
			}
			break
		}
		c.step(other, "otp", "")
		if code := c.w.lastCode(t, "+91"+other); code == "" {
			t.Fatalf("no code sent to number %d", i+1)
		}
		c.start("resume")
		c.step("2", "number", "")
	}
	// Their own number is not counted.
	c.step("0", "number", "")
	c.step("1", "otp", "")
	if code := c.otp(); code == "" {
		t.Fatal("no code for the caller's own number")
	}
}

// codes counts the codes sent to msisdn so far.
func (w *world) codes(msisdn string) int {
	w.eng.Drain()
	n := 0
	for _, m := range w.sms.To(msisdn) {
		if strings.HasPrefix(m.Ref, dialog.OTPRefPrefix) {
			n++
		}
	}
	return n
}

// TestVerifiedNumberStaysVerified: a number that passed its code is taken
// straight to Home when it calls again within the time set, on a provider
// that vouches for the number; after that time, on a provider that does
// not vouch, or with the setting off, the code is asked again, and a
// returning caller never waits out a cool-down for a code already used.
// Another number always needs its own code, from Home too.
func TestVerifiedNumberStaysVerified(t *testing.T) {
	cal := newCalendar(t)
	tests := []struct {
		name      string
		for_      time.Duration
		vouched   bool
		later     time.Duration // before dialling again
		skipsCode bool
	}{
		{"within the day", 24 * time.Hour, true, 5 * time.Second, true},
		{"after the day", 24 * time.Hour, true, 24 * time.Hour, false},
		// Within the 30 s cool-down of the code just used.
		{"a provider that does not vouch", 24 * time.Hour, false, 5 * time.Second, false},
		{"the setting off", 0, true, 5 * time.Second, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := cal.worldWith(t, func(c *dialog.Config) { c.VerifiedFor = tc.for_ })
			c := &caller{t: t, w: w, b: budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
				run: 910 + i, msisdn: fmt.Sprintf("+9198300991%02d", i), vouched: tc.vouched}
			c.start("lang")
			c.lang = "en"
			c.step("1", "number", "")
			c.step("1", "otp", "")
			c.step(c.otp(), "home", "")
			c.step("0", end, c.text("home.bye"))
			sent := w.codes(c.msisdn)

			w.clock.Advance(tc.later)
			if tc.skipsCode {
				c.start("home")
				if got := w.codes(c.msisdn); got != sent {
					t.Fatalf("%d codes sent on the second call, want none", got-sent)
				}
				if a := c.conversation().Account; a != c.msisdn {
					t.Fatalf("signed in as %q", a)
				}
				// Another number always needs its own code; Back from it
				// returns Home.
				c.step("6", "other_number", "")
				c.step("0", "home", "")
				c.step("6", "other_number", "")
				c.step("9830099199", "otp", "")
				return
			}
			c.start("number")
			// The code just used leaves no cool-down: a new one goes at once.
			c.step("1", "otp", "")
			if got := w.codes(c.msisdn); got != sent+1 {
				t.Fatalf("%d new codes on the second call, want 1", got-sent)
			}
			c.step(c.otp(), "home", "")
		})
	}
}

// TestOTPNoDeadEnd: after wrong codes void the code, asking for a new one
// during the cool-down says when it can be sent and stays on the number
// screen (there is no code to enter); a code sent moments ago, still live,
// takes the caller to the code screen to enter it; and once the cool-down
// is over the new code goes.
func TestOTPNoDeadEnd(t *testing.T) {
	cal := newCalendar(t)
	w := cal.world(t)
	c := &caller{t: t, w: w, b: budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
		run: 930, msisdn: "+919830099300"}
	c.start("lang")
	c.lang = "en"
	c.step("1", "number", "")
	c.step("1", "otp", "")
	first := c.otp()

	// Dial again at once and start again: the live code is asked for,
	// with when a new one may go.
	c.start("resume")
	c.step("2", "number", "")
	c.step("1", "otp", c.text("otp.wait", "seconds", "30"))
	if w.codes(c.msisdn) != 1 {
		t.Fatalf("%d codes sent, want 1", w.codes(c.msisdn))
	}

	// Three wrong tries void it: back to the number screen.
	bad := "000000"
	if first == bad {
		bad = "111111"
	}
	c.step(bad, "otp", c.text("otp.wrong", "left", "2"))
	c.step(bad, "otp", c.text("otp.wrong", "left", "1"))
	c.step(bad, "number", c.text("otp.locked"))
	w.clock.Advance(10 * time.Second)
	c.step("1", "number", c.text("otp.wait_new", "seconds", "20"))
	w.clock.Advance(20 * time.Second)
	c.step("1", "otp", "")
	if w.codes(c.msisdn) != 2 {
		t.Fatalf("%d codes sent, want 2", w.codes(c.msisdn))
	}
	c.step(c.otp(), "home", "")
}

// undeliveredCounter counts the OTP screen's questions about delivery.
type undeliveredCounter struct {
	dialog.OTPs
	asked int
}

func (u *undeliveredCounter) Undelivered(ctx context.Context, msisdn string) (bool, error) {
	u.asked++
	return u.OTPs.Undelivered(ctx, msisdn)
}

// TestOTPScreenAsksAboutDelivery: the OTP screen says when the code's SMS
// was reported undelivered, and does not ask the store on the turn that
// issued a code (a new code is never marked).
func TestOTPScreenAsksAboutDelivery(t *testing.T) {
	cal := newCalendar(t)
	var otps *undeliveredCounter
	w := cal.worldWith(t, func(cfg *dialog.Config) {
		otps = &undeliveredCounter{OTPs: cfg.OTPs}
		cfg.OTPs = otps
	})
	c := &caller{t: t, w: w, b: budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget},
		run: 901, msisdn: "+919830099002"}
	c.start("lang")
	c.lang = "en"
	c.step("1", "number", "")
	tests := []struct {
		name       string
		before     func()
		input      string
		asked      int
		undeliver  bool // the screen says the code was not delivered
		wantNotice string
	}{
		{name: "own number: code issued", input: "1", asked: 0},
		{name: "code reported undelivered", before: func() {
			if err := w.eng.DeliveryFailed(w.ctx, c.msisdn, dialog.OTPRefPrefix+"0002-x"); err != nil {
				t.Fatal(err)
			}
		}, input: "12", asked: 1, undeliver: true},
		{name: "new code", input: "0", asked: 0, wantNotice: c.text("otp.resent")},
		{name: "wrong length again", input: "12", asked: 1},
	}
	for _, tt := range tests {
		if tt.before != nil {
			tt.before()
		}
		before := otps.asked
		r := c.send(tt.input)
		if c.state() != "otp" {
			t.Fatalf("%s: state %q, want otp:\n%s", tt.name, c.state(), r.Text)
		}
		if got := otps.asked - before; got != tt.asked {
			t.Errorf("%s: asked about delivery %d times, want %d", tt.name, got, tt.asked)
		}
		if got := strings.Contains(r.Text, c.text("otp.undelivered")); got != tt.undeliver {
			t.Errorf("%s: says undelivered %v, want %v:\n%s", tt.name, got, tt.undeliver, r.Text)
		}
		if tt.wantNotice != "" && !strings.Contains(r.Text, tt.wantNotice) {
			t.Errorf("%s: no %q in:\n%s", tt.name, tt.wantNotice, r.Text)
		}
	}
}
