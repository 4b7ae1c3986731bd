package dialogtest

import (
	"context"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

// The in-memory Alerts are checked by the port suite (suite_test.go):
// TestPorts runs its alert cases on them, and TestPortCasesCatchBrokenPorts
// on Alerts broken in one way each.

// TestNoticesKeepWhatIsQueued: Notices keeps every SMS in order and
// refuses a caller that is not E.164, as the store's queue does.
func TestNoticesKeepWhatIsQueued(t *testing.T) {
	ctx := context.Background()
	var n Notices
	a, b := dialog.SMS{To: caller, Text: "a"}, dialog.SMS{To: other, Text: "b"}
	if err := n.EnqueueSMS(ctx, caller, a); err != nil {
		t.Fatal(err)
	}
	if err := n.EnqueueSMS(ctx, other, b); err != nil {
		t.Fatal(err)
	}
	if err := n.EnqueueSMS(ctx, "9830000001", a); err == nil {
		t.Error("a caller without +country accepted")
	}
	if got := n.All(); len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("queued %+v, want a then b", got)
	}
}
