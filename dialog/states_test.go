package dialog_test

import (
	"fmt"
	"testing"

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
			if got := c.w.ob.Messages("+91" + other); len(got) != 0 {
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
