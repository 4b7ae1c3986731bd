package dialog

import (
	"context"
	"testing"
)

// A turn whose deadline has passed must not leave a pooled state machine
// half way through a transition: every later turn borrowing it would fail.
func TestFireWithExpiredContextLeavesNoBrokenMachine(t *testing.T) {
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		ctx  context.Context
		from string
		ev   string
		to   string
	}{
		{expired, stNumber, evOwnNumber, stOTP},
		{context.Background(), stNumber, evOwnNumber, stOTP},
		{expired, stHome, evAdd, stIDType},
		{context.Background(), stIDType, evBack, stHome},
		{context.Background(), stCentre, evCentre, stDate},
	}
	for round := range 50 { // enough to reuse pooled machines
		for _, tt := range tests {
			tr := &turn{ctx: tt.ctx, c: &Conversation{State: tt.from, Page: 2}}
			if err := tr.fire(tt.ev); err != nil {
				t.Fatalf("round %d: %s --%s--> : %v", round, tt.from, tt.ev, err)
			}
			if tr.c.State != tt.to || tr.c.Page != 0 {
				t.Fatalf("round %d: %s --%s--> %s page %d, want %s page 0", round, tt.from, tt.ev, tr.c.State, tr.c.Page, tt.to)
			}
		}
	}
}
