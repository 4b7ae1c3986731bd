package dialogtest

import (
	"context"
	"regexp"
	"slices"
	"sync"

	"github.com/tikasetu/tikasetu/dialog"
)

// SMSLog records SMS in the order they are sent. It is a dialog.Sender
// (for a dispatcher to send through) and a dialog.Outbox (the engine's,
// with no queue: Deliver records at once). It is safe for concurrent use.
type SMSLog struct {
	mu   sync.Mutex
	sent []dialog.SMS
}

// Compile-time checks that SMSLog is a Sender and an Outbox.
var (
	_ dialog.Sender = (*SMSLog)(nil)
	_ dialog.Outbox = (*SMSLog)(nil)
)

// Send records m.
func (l *SMSLog) Send(_ context.Context, m dialog.SMS) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, m)
	return nil
}

// Deliver records the SMS of a saved turn.
func (l *SMSLog) Deliver(_ string, sms []dialog.SMS) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, sms...)
}

// Drain returns at once: Deliver keeps nothing back.
func (l *SMSLog) Drain() {}

// All returns every SMS recorded, in order.
func (l *SMSLog) All() []dialog.SMS {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}

// To returns the SMS recorded for one number (E.164), in order.
func (l *SMSLog) To(number string) []dialog.SMS {
	return slices.DeleteFunc(l.All(), func(m dialog.SMS) bool { return m.To != number })
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// LastCode returns the code of the latest code SMS sent to number, and
// false when none was.
func (l *SMSLog) LastCode(number string) (string, bool) {
	msgs := l.To(number)
	for i := len(msgs) - 1; i >= 0; i-- {
		if code := otpCode(msgs[i]); code != "" {
			return code, true
		}
	}
	return "", false
}

// otpCode returns the code an SMS carries, or "" when it carries none.
func otpCode(m dialog.SMS) string {
	if m.Kind != dialog.SMSKindOTP {
		return ""
	}
	return sixDigits.FindString(m.Text)
}
