package dialogtest

import (
	"context"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestSMSLog(t *testing.T) {
	l := &SMSLog{}
	code := func(to, c string) dialog.SMS {
		return dialog.SMS{To: to, Kind: dialog.SMSKindOTP, Ref: dialog.OTPRefPrefix + "1", Text: "TikaSetu code: " + c + ". Valid 3 minutes."}
	}
	l.Deliver(caller, []dialog.SMS{code(caller, "111111"), {To: caller, Kind: dialog.SMSKindSlip, Text: "slip 222222"}})
	if err := l.Send(context.Background(), code(other, "333333")); err != nil {
		t.Fatal(err)
	}
	l.Drain()
	for _, tc := range []struct {
		number string
		sms    int
		code   string
	}{
		{caller, 2, "111111"}, // the slip's digits are no code
		{other, 1, "333333"},
		{number(9), 0, ""},
	} {
		if got := len(l.To(tc.number)); got != tc.sms {
			t.Errorf("%d SMS to %s, want %d", got, dialog.MaskMsisdn(tc.number), tc.sms)
		}
		if got, ok := l.LastCode(tc.number); got != tc.code || ok != (tc.code != "") {
			t.Errorf("last code to %s: %q %v, want %q", dialog.MaskMsisdn(tc.number), got, ok, tc.code)
		}
	}
	if n := len(l.All()); n != 3 {
		t.Errorf("%d SMS in all, want 3", n)
	}
}
