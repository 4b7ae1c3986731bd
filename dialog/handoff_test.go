package dialog_test

import (
	"fmt"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// TestSMSReplyContinuesUSSDJourney: a caller whose USSD session stopped on
// the PIN screen (with a notice) or on the second page of the centres, and
// who then sends an SMS that is no keyword, such as "ok" in answer to the
// hand-off SMS, is shown that screen over SMS from its first page, the
// notice cleared: the message is not taken as an answer. What they send
// next answers the screen. Keywords keep their meaning.
func TestSMSReplyContinuesUSSDJourney(t *testing.T) {
	cal := newCalendar(t)
	ussd := budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget}
	sms := budgetCase{name: "sms", channel: dialog.SMSChannel, want: dialog.SMSReplyBudget}
	tests := []struct {
		name   string
		stop   func(c *caller) // the USSD turns after the PIN screen; nil: a wrong PIN
		reply  string          // the first SMS
		state  string          // the screen it shows
		notice func(c *caller) string
		then   func(c *caller)
	}{
		{name: "a reply", reply: "ok", state: "pin", notice: func(*caller) string { return "" },
			then: func(c *caller) {
				// Now the conversation is the SMS's: input answers the screen.
				c.step("ok", "pin", c.text("hint.pin"))
				c.step(testPin, "centre", "")
			}},
		{name: "a PIN at once", reply: testPin, state: "pin", notice: func(*caller) string { return "" },
			then: func(c *caller) { c.step(testPin, "centre", "") }},
		{name: "HELP", reply: "HELP", state: "pin", notice: func(c *caller) string { return c.text("sms.help") },
			then: func(c *caller) { c.step(testPin, "centre", "") }},
		{name: "centres, page 2",
			stop: func(c *caller) {
				c.step(testPin, "centre", "")
				c.send("98")
				if p := c.conversation().Page; p != 1 {
					c.t.Fatalf("98 on the centres: page %d, want 1", p)
				}
			},
			reply: "1", state: "centre", notice: func(*caller) string { return "" },
			then: func(c *caller) { c.step("1", "date", "") }},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// people() makes ID numbers from runs below 100; each world is a store of its own.
			c := &caller{t: t, w: cal.world(t), b: ussd, run: 90 + i, msisdn: fmt.Sprintf("+9198300996%02d", i)}
			c.start("lang")
			c.lang = "en"
			c.step("1", "number", "")
			c.login(false)
			c.addPerson(0, people("en", c.run)[0])
			c.step("2", "book_who", "")
			c.step("1", "pin", "")
			if tc.stop != nil {
				tc.stop(c)
			} else {
				c.step("12", "pin", c.text("hint.pin"))
			}
			c.w.eng.Drain()
			sent := len(c.w.sms.To(c.msisdn))

			// The USSD session drops; the caller answers by SMS.
			c.b = sms
			r := c.send(tc.reply)
			if conv := c.conversation(); conv.Page != 0 || conv.Channel != dialog.SMSChannel {
				t.Fatalf("after SMS %q: page %d, channel %q; want page 0 over SMS", tc.reply, conv.Page, conv.Channel)
			}
			c.expect(tc.reply, r, tc.state, tc.notice(c))
			if tc.then != nil {
				tc.then(c)
			}
			c.w.eng.Drain()
			if got := len(c.w.sms.To(c.msisdn)); got != sent {
				t.Fatalf("%d SMS sent after the switch, want none", got-sent)
			}
		})
	}
}

// TestMidJourney: states with something half done are worth a hand-off;
// the first screens, Home, the appointments list, the resume offer and
// the last words are not.
func TestMidJourney(t *testing.T) {
	tests := []struct {
		state string
		want  bool
	}{
		{"", false},
		{"lang", false},
		{"number", false},
		{"resume", false},
		{"done", false},
		{"end", false},
		{"no_such_state", false},
		{"otp", true},
		{"home", false},
		{"my_appointments", false},
		{"other_number", true},
		{"id_number", true},
		{"pin", true},
		{"centre", true},
		{"confirm_booking", true},
	}
	for _, tc := range tests {
		if got := dialog.MidJourney(tc.state); got != tc.want {
			t.Errorf("MidJourney(%q) = %v, want %v", tc.state, got, tc.want)
		}
	}
}
