package main

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tikasetu/tikasetu/dialog"
)

// admission bounds the turns in progress so that, past the machine's
// capacity, the gateway answers every request at once, serving what it can
// and turning the rest away politely, instead of letting every caller wait
// into the USSD deadline.
//
// The bound is a count of turns in flight (by Little's law, capacity ×
// the latency one accepts). A caller already in a journey may use every
// slot, up to limit; a new session is let in only while fewer than
// newLimit turns are in flight. newLimit is small: about the concurrency at
// which the machine serves the most, so that new journeys are taken on
// only while the CPU has room for them; limit is large, so that the
// callers already taken on are turned away only in a burst far beyond
// that. Under surge the half-registered are served first and new callers
// are the ones asked to dial again.
type admission struct {
	next     dialog.Handler
	busy     func(msisdn string, ch dialog.Channel) dialog.Reply
	limit    int64 // turns in flight for callers mid-journey
	newLimit int64 // turns in flight at which new sessions are turned away
	inflight atomic.Int64
	shed     *prometheus.CounterVec
	admitted *prometheus.CounterVec
}

func newAdmission(next dialog.Handler, limit, newLimit int, busy func(string, dialog.Channel) dialog.Reply, reg prometheus.Registerer) *admission {
	a := &admission{
		next: next, busy: busy, limit: int64(limit), newLimit: int64(max(1, min(newLimit, limit))),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_admission_shed_total", Help: "Turns turned away with the busy screen because too many were in flight, by kind (new, continuing).",
		}, []string{"kind"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_admission_admitted_total", Help: "Turns admitted, by kind (new, continuing).",
		}, []string{"kind"}),
	}
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tikasetu_turns_in_flight", Help: "Turns being processed now.",
	}, func() float64 { return float64(a.inflight.Load()) })
	reg.MustRegister(a.shed, a.admitted, inflight)
	return a
}

// isNew tells a turn that starts a conversation: the first request of a
// USSD session, or an SMS asking to start.
func isNew(t dialog.Turn) bool {
	if t.Channel == dialog.USSD {
		return t.NewSession
	}
	switch strings.ToUpper(strings.TrimSpace(t.Input)) {
	case "REG", "HI":
		return true
	}
	return false
}

// Handle admits the turn or answers it with the busy screen at once.
func (a *admission) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	n := a.inflight.Add(1)
	defer a.inflight.Add(-1)
	kind, limit := "continuing", a.limit
	if isNew(t) {
		kind, limit = "new", a.newLimit
	}
	if n > limit {
		a.shed.WithLabelValues(kind).Inc()
		return a.busy(t.Msisdn, t.Channel), nil
	}
	a.admitted.WithLabelValues(kind).Inc()
	return a.next.Handle(ctx, t)
}
