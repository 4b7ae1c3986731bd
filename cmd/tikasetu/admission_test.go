package main

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tikasetu/tikasetu/dialog"
)

// blockingHandler holds every turn until released, counting them.
type blockingHandler struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingHandler) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	b.started <- struct{}{}
	<-b.release
	return dialog.Reply{Text: "served"}, nil
}

func TestAdmissionFavoursCallersMidJourney(t *testing.T) {
	busy := func(msisdn string, ch dialog.Channel) dialog.Reply {
		return dialog.Reply{Text: "busy " + string(ch), End: true}
	}
	tests := []struct {
		name    string
		limit   int
		newLim  int
		holding int // turns already in flight (continuing callers)
		turn    dialog.Turn
		served  bool
	}{
		{"new session with room", 8, 3, 2, dialog.Turn{Channel: dialog.USSD, NewSession: true}, true},
		{"new session at the new-session limit is turned away", 8, 3, 3, dialog.Turn{Channel: dialog.USSD, NewSession: true}, false},
		{"continuing caller past the new-session limit is served", 8, 3, 6, dialog.Turn{Channel: dialog.USSD, Input: "1"}, true},
		{"continuing caller at the limit is turned away", 8, 3, 8, dialog.Turn{Channel: dialog.USSD, Input: "1"}, false},
		{"SMS REG counts as new", 8, 3, 3, dialog.Turn{Channel: dialog.SMSChannel, Input: " reg "}, false},
		{"SMS answer counts as continuing", 8, 3, 3, dialog.Turn{Channel: dialog.SMSChannel, Input: "2"}, true},
		{"a new-session limit above the limit is the limit", 4, 10, 4, dialog.Turn{Channel: dialog.USSD, NewSession: true}, false},
		{"a limit of 1 still lets a new caller in", 1, 1, 0, dialog.Turn{Channel: dialog.USSD, NewSession: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &blockingHandler{started: make(chan struct{}, 64), release: make(chan struct{})}
			reg := prometheus.NewRegistry()
			a := newAdmission(h, tt.limit, tt.newLim, busy, reg)
			var wg sync.WaitGroup
			for range tt.holding {
				wg.Go(func() { a.Handle(context.Background(), dialog.Turn{Channel: dialog.USSD, Input: "1"}) })
				<-h.started
			}
			done := make(chan dialog.Reply, 1)
			go func() {
				r, _ := a.Handle(context.Background(), tt.turn)
				done <- r
			}()
			var r dialog.Reply
			if tt.served {
				<-h.started // it reached the engine
				close(h.release)
				r = <-done
			} else {
				r = <-done // answered while every other turn is still held
				close(h.release)
			}
			wg.Wait()
			if got := r.Text == "served"; got != tt.served {
				t.Fatalf("served = %v (%q), want %v", got, r.Text, tt.served)
			}
			if !tt.served && (!r.End || r.Text != "busy "+string(tt.turn.Channel)) {
				t.Fatalf("shed reply = %+v, want the channel's busy screen, ending", r)
			}
			shed := testutil.ToFloat64(a.shed.WithLabelValues("new")) + testutil.ToFloat64(a.shed.WithLabelValues("continuing"))
			if want := map[bool]float64{true: 0, false: 1}[tt.served]; shed != want {
				t.Fatalf("shed counter = %v, want %v", shed, want)
			}
			if n := a.inflight.Load(); n != 0 {
				t.Fatalf("%d turns still counted in flight", n)
			}
		})
	}
}
