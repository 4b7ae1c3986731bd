// Package admission is the gateway's admission control: a gate between the
// providers and the dialog engine that, past the machine's capacity, serves
// the callers it can and answers the others at once with the busy screen,
// instead of letting every caller wait into the USSD deadline. It admits
// journeys rather than requests, and adapts how many it lets in from the
// load it sees (TIKASETU_TARGET_INFLIGHT, TIKASETU_MAX_INFLIGHT; the
// reasoning and the settings are in docs/performance.md).
package admission

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tikasetu/tikasetu/dialog"
)

// Gate decides, for every turn, whether to serve it or to answer at once
// with the busy screen. It is a dialog.Gate: providers ask it on the
// request's own goroutine, so that a turn turned away touches no worker
// goroutine, and Redis only for a new caller while the surge queue
// (SetQueue) is in use: to give them a place, or to use their invitation.
//
// It admits journeys, not requests. A caller who has begun a journey is
// always served while fewer than limit turns are in flight (a bound on
// latency, by Little's law), and past it waits for a turn to finish, up to
// half of the deadline. A new caller is let in only while fewer
// journeys are in progress than sessionLimit, which the gate adapts every
// tick from the smoothed average of turns in flight: above target (the
// concurrency at which the machine serves the most) it stops letting new
// callers in and notes the turns served per second as the capacity; well
// below target it lets the limit grow. Since a journey let in now sends
// its turns over the following minutes, too late for the turns in flight
// to warn of them, the limit is also held to the journeys the capacity can
// carry at the rate one journey sends turns. The limit settles at about
// target journeys for callers who answer at once, thousands for callers who
// take seconds to read and type. (A gate on turns in flight alone let in
// new callers whenever the machine was idle between the hops of slow
// typists, and then had to turn away callers mid-journey.)
//
// A turn that fails (the store down or hung) ends its caller's journey: the
// caller got the busy screen, and a claim kept for sessionIdle would keep new
// callers out long after the store answers again. Failed turns teach the
// controller nothing either: what a failing store lets through is not what
// the machine can serve, so ticks that saw only failures, or turns in
// flight and none finished, hold the limit where it was.
type Gate struct {
	next   dialog.Handler
	busy   func(dialog.Turn) dialog.Reply
	target float64 // average turns in flight the session limit steers to
	now    func() time.Time

	// slots holds a token for every turn in flight; its capacity is the
	// most turns in flight, a bound on latency. Callers mid-journey who
	// find it full queue for a token in order.
	slots    chan struct{}
	busyNs   atomic.Int64 // time spent in turns served since the last tick
	finished atomic.Int64 // turns served since the last tick
	failed   atomic.Int64 // turns failed since the last tick
	nextTick atomic.Int64 // unix ns of the next tick

	mu           sync.Mutex
	sessions     map[string]time.Time // callers with a journey in progress → their last turn
	sessionLimit int
	fixedLimit   int     // FixJourneys: the journey limit, not adapted (0: adaptive)
	avgInflight  float64 // smoothed average of turns in flight
	perJourney   float64 // smoothed turns per second of one journey in progress
	capacity     float64 // turns per second served while turns queued (0: not seen yet)
	lastTick     time.Time
	lastSweep    time.Time

	shed     *prometheus.CounterVec
	admitted *prometheus.CounterVec
	waited   prometheus.Counter

	queue queueing
}

// Queue is the fleet's queue of new callers turned away (the store's).
type Queue interface {
	// QueueArrive returns 0 when msisdn (E.164) held a live invitation,
	// now used; otherwise, with join, the caller's place in the queue, 1
	// first, and without it -1.
	QueueArrive(ctx context.Context, msisdn string, join bool) (int, error)
}

// queueing is the gate's side of the surge queue (SetQueue): a new caller
// who finds no room, or finds others waiting, is given a place in the
// queue instead of the plain busy screen; the gateway's invite loop
// (Room, Invited) lets the first of them in as journeys end.
type queueing struct {
	q      Queue
	queued func(t dialog.Turn, position, minutes int) dialog.Reply
	log    *slog.Logger

	waiting     atomic.Int64 // callers waiting fleet-wide, as last seen
	outstanding atomic.Int64 // invitations out fleet-wide, as last seen

	// Under Gate.mu:
	pending    []time.Time // when this gateway sent its invitations not yet used nor expired, oldest first
	inviteRate float64     // smoothed invitations a second, fleet-wide
	lastTotal  int64       // the fleet's invitations as last seen
	lastSeen   time.Time   // when

	invitations *prometheus.CounterVec
	waits       prometheus.Histogram
}

// inviteHold is how long an invitation holds room for its caller's
// journey: most callers who will dial have dialled by then. One who dials
// later is still let in, past the limit, like a caller mid-journey; an
// invitation that is never used stops keeping others out.
const inviteHold = 2 * time.Minute

// held counts the invitations that hold room at now (a.mu held).
func (q *queueing) held(now time.Time) int {
	from := now.Add(-inviteHold)
	i, _ := slices.BinarySearchFunc(q.pending, from, func(t, from time.Time) int { return t.Compare(from) })
	return len(q.pending) - i
}

var _ dialog.Gate = (*Gate)(nil)

const (
	// tickInterval is how often the session limit is adjusted.
	tickInterval = 100 * time.Millisecond
	// sessionIdle is how long a journey counts as in progress after its
	// last turn: a caller who hung up without an END stops counting then.
	sessionIdle = time.Minute
	// minSessionLimit keeps a few new callers coming in whatever happens.
	minSessionLimit = 4
	// sessionGrowth and sessionCut are the adjustments per tick: growth by
	// 3% (doubling in about 2.5 s) while there is room, a cut to 95% of the
	// journeys in progress as soon as turns queue.
	sessionGrowth = 0.03
	sessionCut    = 0.95
	// growBelow is the share of the target under which the limit grows:
	// between it and the target the limit holds.
	growBelow = 0.5
	// smoothing is the weight of each tick's average in the smoothed one.
	smoothing = 0.2
	// carry is the share of the capacity seen that journeys let in may use.
	carry = 0.95
	// capacityProbe is how fast the capacity seen is assumed to grow back
	// (per tick) while there is room: 3% a second.
	capacityProbe = 0.003
)

// New returns a gate in front of next. limit is the most turns in flight
// (callers mid-journey queue for one past it; 0 lets no turn in), target the
// average of turns in flight the journey limit steers to (at least 1, at
// most limit), busy the screen of a turn turned away. Its metrics are
// registered with reg.
func New(next dialog.Handler, limit, target int, busy func(dialog.Turn) dialog.Reply, reg prometheus.Registerer) *Gate {
	target = max(1, min(target, limit))
	a := &Gate{
		next: next, busy: busy, target: float64(target), now: time.Now, slots: make(chan struct{}, limit),
		sessions: map[string]time.Time{}, sessionLimit: target,
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_admission_shed_total", Help: "Turns turned away, by kind (new: no room for another journey or turn, busy screen; queued: the same, given a place in the surge queue; continuing: every slot still taken after waiting half the deadline).",
		}, []string{"kind"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_admission_admitted_total", Help: "Turns admitted, by kind (new, continuing, invited: a new caller with a live invitation from the surge queue).",
		}, []string{"kind"}),
		waited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tikasetu_admission_waited_total", Help: "Turns of callers mid-journey that found every slot taken and waited for one (served or, at half their deadline, turned away).",
		}),
	}
	a.lastTick = a.now()
	a.lastSweep = a.lastTick
	a.nextTick.Store(a.lastTick.Add(tickInterval).UnixNano())
	a.queue.invitations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tikasetu_queue_invitations_total", Help: "Invitations of the surge queue: sent by this gateway, used at it, and found expired by it (unused within TIKASETU_INVITE_TTL).",
	}, []string{"outcome"})
	a.queue.waits = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tikasetu_queue_wait_seconds", Help: "How long callers this gateway invited waited in the queue for their invitation.",
		Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
	})
	reg.MustRegister(a.queue.invitations, a.queue.waits,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tikasetu_queue_waiting", Help: "Callers waiting in the surge queue, fleet-wide, as this gateway last saw.",
		}, func() float64 { return float64(a.queue.waiting.Load()) }))
	reg.MustRegister(a.shed, a.admitted, a.waited,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tikasetu_turns_in_flight", Help: "Turns being processed now.",
		}, func() float64 { return float64(len(a.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tikasetu_admission_journeys", Help: "Journeys in progress (callers served within the last minute, not yet ended).",
		}, func() float64 { n, _ := a.journeys(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tikasetu_admission_journey_limit", Help: "Journeys in progress at which new callers are turned away (adapted every 100 ms).",
		}, func() float64 { _, l := a.journeys(); return float64(l) }),
	)
	return a
}

// FixJourneys holds the journey limit at n instead of adapting it
// (TIKASETU_MAX_JOURNEYS): a known ceiling for an operator, and for tests.
// Callers mid-journey are still served past it, and turns in flight are
// still bounded by the limit New was given.
func (a *Gate) FixJourneys(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fixedLimit = max(1, n)
	a.sessionLimit = a.fixedLimit
}

// SetQueue gives new callers turned away a place in q, answered with
// queued (their place and the minutes it is likely to take) instead of
// the busy screen. The gateway's invite loop then calls Room and Invited.
// log (slog.Default when nil) says when the queue cannot be reached.
func (a *Gate) SetQueue(q Queue, queued func(t dialog.Turn, position, minutes int) dialog.Reply, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queue.q, a.queue.queued, a.queue.log = q, queued, log
}

// Room is how many callers this gateway may invite now: the journeys it
// could let in, less the invitations that hold room (inviteHold).
func (a *Gate) Room() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessionLimit - len(a.sessions) - a.queue.held(a.now())
}

// Round is what one round of the gateway's invite loop learnt from the
// queue (store.InviteRound).
type Round struct {
	Sent        int             // invitations this gateway sent now
	Settled     int             // of its earlier ones, those used or expired since
	Expired     int             // invitations the round found expired, whoever sent them
	Waiting     int             // callers waiting, fleet-wide
	Outstanding int             // invitations out, fleet-wide
	Total       int64           // invitations the fleet has sent, ever: their rate estimates waits
	Waited      []time.Duration // how long each caller invited now waited
}

// Invited records one round of the invite loop. The invitations settled
// are taken to be the oldest: which ones were used is not known here, and
// an invitation held past inviteHold holds no room anyway.
func (a *Gate) Invited(r Round) {
	now := a.now()
	a.mu.Lock()
	q := &a.queue
	q.pending = q.pending[min(r.Settled, len(q.pending)):]
	for range r.Sent {
		q.pending = append(q.pending, now)
	}
	if !q.lastSeen.IsZero() {
		if dt := now.Sub(q.lastSeen).Seconds(); dt > 0 && r.Total >= q.lastTotal {
			// Smoothed over about a minute of rounds.
			w := min(1, dt/60)
			q.inviteRate += w * (float64(r.Total-q.lastTotal)/dt - q.inviteRate)
		}
	}
	q.lastTotal, q.lastSeen = r.Total, now
	a.mu.Unlock()
	q.waiting.Store(int64(r.Waiting))
	q.outstanding.Store(int64(r.Outstanding))
	q.invitations.WithLabelValues("sent").Add(float64(r.Sent))
	q.invitations.WithLabelValues("expired").Add(float64(r.Expired))
	for _, w := range r.Waited {
		q.waits.Observe(w.Seconds())
	}
}

// QueueView is one gateway's side of the queue, for GET /admin/v1/queue.
type QueueView struct {
	Journeys     int     `json:"journeys"`            // journeys in progress here
	JourneyLimit int     `json:"journey_limit"`       // where new callers start to queue
	Pending      int     `json:"pending_invitations"` // invitations sent from here, not yet used nor expired
	Held         int     `json:"held_invitations"`    // of them, those that hold room (sent within the last 2 minutes)
	InvitesPerM  float64 `json:"fleet_invitations_per_minute"`
}

// QueueView reports the gate's side of the queue.
func (a *Gate) QueueView() QueueView {
	a.mu.Lock()
	defer a.mu.Unlock()
	return QueueView{Journeys: len(a.sessions), JourneyLimit: a.sessionLimit, Pending: len(a.queue.pending),
		Held: a.queue.held(a.now()), InvitesPerM: a.queue.inviteRate * 60}
}

// waitMinutes estimates how long the caller at position will wait: at the
// rate the fleet invites callers, or before any invitation at the rate the
// journeys in progress would end if each took typicalJourney.
func (a *Gate) waitMinutes(position int) int {
	a.mu.Lock()
	rate := a.queue.inviteRate
	if rate < 1e-3 {
		rate = float64(max(1, a.sessionLimit)) / typicalJourney.Seconds()
	}
	a.mu.Unlock()
	return int(math.Ceil(float64(position) / rate / 60))
}

// typicalJourney is how long a journey is taken to last before the queue
// has seen any invitation (for the first estimates of waits).
const typicalJourney = 3 * time.Minute

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

// Handle admits the turn and runs it, or answers it with the busy screen.
func (a *Gate) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	run, busy, ok := a.Admit(ctx, t)
	if !ok {
		return busy, nil
	}
	return run.Handle(ctx, t)
}

// Admit implements dialog.Gate: it decides whether the turn runs, and
// counts an admitted turn in; the handler it returns runs the turn and
// counts it out. A new caller is let in only with room for another journey
// and a free slot. A caller mid-journey who finds every slot taken waits
// for one, in order, for at most half the time left before ctx's deadline
// (not at all without one), and is turned away only then: a moment's stall
// of the machine costs them latency, not their journey.
func (a *Gate) Admit(ctx context.Context, t dialog.Turn) (dialog.Handler, dialog.Reply, bool) {
	start := a.now()
	a.maybeTick(start)

	if isNew(t) {
		a.mu.Lock()
		_, known := a.sessions[t.Msisdn] // a caller redialling keeps their place
		room := len(a.sessions)+a.queue.held(start) < a.sessionLimit
		// With the queue kept, a new caller asks it first whenever callers
		// wait (the room is theirs: this one queues behind them) or
		// invitations are out (this may be an invited caller, whose
		// invitation must be used).
		ask := !known && a.queue.q != nil && (a.queue.waiting.Load() > 0 || a.queue.outstanding.Load() > 0 || !room)
		ok := !ask && (known || room) && a.take(t.Msisdn, start)
		a.mu.Unlock()
		switch {
		case ok:
			a.admitted.WithLabelValues("new").Inc()
			return admittedTurn{a, start}, dialog.Reply{}, true
		case ask:
			return a.arrive(ctx, t, room && a.queue.waiting.Load() == 0)
		}
		return a.refuse(t, "new")
	}

	select {
	case a.slots <- struct{}{}:
	default:
		if !a.waitForSlot(ctx) {
			return a.refuse(t, "continuing")
		}
		start = a.now()
	}
	a.mu.Lock()
	a.sessions[t.Msisdn] = start
	a.mu.Unlock()
	a.admitted.WithLabelValues("continuing").Inc()
	return admittedTurn{a, start}, dialog.Reply{}, true
}

// waitForSlot queues for a slot for half the time left before ctx's
// deadline, leaving the other half to the turn.
func (a *Gate) waitForSlot(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	if !ok {
		return false
	}
	wait := time.Until(deadline) / 2
	if wait <= 0 {
		return false
	}
	a.waited.Inc()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// take claims a slot and a journey for msisdn, if a slot is free (a.mu
// held).
func (a *Gate) take(msisdn string, now time.Time) bool {
	select {
	case a.slots <- struct{}{}:
		a.sessions[msisdn] = now
		return true
	default:
		return false
	}
}

// arrive takes a new caller to the queue: one holding an invitation is
// let in ahead of new callers, like a caller mid-journey (waiting for a
// slot if every one is taken); with free room and nobody waiting, any
// other is let in as a new caller; otherwise they are given their place.
// When the queue cannot be reached, the caller gets the busy screen.
func (a *Gate) arrive(ctx context.Context, t dialog.Turn, free bool) (dialog.Handler, dialog.Reply, bool) {
	msisdn, err := dialog.NormaliseMsisdn(t.Msisdn)
	if err != nil {
		return a.refuse(t, "new")
	}
	pos, err := a.queue.q.QueueArrive(ctx, msisdn, !free)
	if err != nil {
		a.queue.log.Warn("queue arrive", "to", dialog.MaskMsisdn(msisdn), "err", err)
		return a.refuse(t, "new")
	}
	if pos < 0 { // neither invited nor queued: the room is free
		start := a.now()
		a.mu.Lock()
		ok := a.take(t.Msisdn, start)
		a.mu.Unlock()
		if !ok {
			return a.refuse(t, "new")
		}
		a.admitted.WithLabelValues("new").Inc()
		return admittedTurn{a, start}, dialog.Reply{}, true
	}
	if pos > 0 {
		for { // what this gateway saw last, at least
			w := a.queue.waiting.Load()
			if w >= int64(pos) || a.queue.waiting.CompareAndSwap(w, int64(pos)) {
				break
			}
		}
		a.shed.WithLabelValues("queued").Inc()
		return nil, a.queue.queued(t, pos, a.waitMinutes(pos)), false
	}
	a.queue.invitations.WithLabelValues("used").Inc()
	select {
	case a.slots <- struct{}{}:
	default:
		if !a.waitForSlot(ctx) {
			return a.refuse(t, "continuing") // the invitation is spent: rare, and the caller is told to dial again
		}
	}
	start := a.now()
	a.mu.Lock()
	a.sessions[t.Msisdn] = start
	a.mu.Unlock()
	a.admitted.WithLabelValues("invited").Inc()
	return admittedTurn{a, start}, dialog.Reply{}, true
}

func (a *Gate) refuse(t dialog.Turn, kind string) (dialog.Handler, dialog.Reply, bool) {
	a.shed.WithLabelValues(kind).Inc()
	return nil, a.busy(t), false
}

// admittedTurn runs one admitted turn and counts it out.
type admittedTurn struct {
	a     *Gate
	start time.Time
}

func (at admittedTurn) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	a := at.a
	defer func() { <-a.slots }()
	r, err := a.next.Handle(ctx, t)
	if err != nil {
		a.failed.Add(1)
		a.mu.Lock()
		if a.sessions[t.Msisdn].Equal(at.start) { // not claimed again by a later turn
			delete(a.sessions, t.Msisdn)
		}
		a.mu.Unlock()
		return r, err
	}
	a.busyNs.Add(int64(a.now().Sub(at.start)))
	a.finished.Add(1)
	if r.End {
		a.mu.Lock()
		delete(a.sessions, t.Msisdn)
		a.mu.Unlock()
	}
	return r, err
}

// maybeTick adjusts the session limit once per tickInterval, on whichever
// turn comes first after it is due.
func (a *Gate) maybeTick(now time.Time) {
	due := a.nextTick.Load()
	if now.UnixNano() < due || !a.nextTick.CompareAndSwap(due, now.Add(tickInterval).UnixNano()) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.adjust(now)
}

// adjust is one tick of the controller (a.mu held).
func (a *Gate) adjust(now time.Time) {
	elapsed := now.Sub(a.lastTick)
	a.lastTick = now
	if elapsed <= 0 {
		return
	}
	if now.Sub(a.lastSweep) >= time.Second {
		a.lastSweep = now
		for m, last := range a.sessions {
			if now.Sub(last) > sessionIdle {
				delete(a.sessions, m)
			}
		}
	}
	finished, failed := a.finished.Swap(0), a.failed.Swap(0)
	if finished == 0 && (failed > 0 || len(a.slots) > 0) {
		// Turns fail or hang and none is served: the store is down, not
		// the machine full. Hold everything until turns are served again.
		return
	}
	// By Little's law, time spent in turns over elapsed time is the
	// average number of turns in flight; it is smoothed over about half a
	// second, as one tick's average swings with every burst.
	sample := float64(a.busyNs.Swap(0)) / float64(elapsed)
	a.avgInflight += smoothing * (sample - a.avgInflight)
	avg := a.avgInflight
	active := len(a.sessions)
	served := float64(finished) / elapsed.Seconds()
	if active > 0 {
		a.perJourney += smoothing * (served/float64(active) - a.perJourney)
	}
	switch {
	case avg > a.target:
		// Turns queue: what is served now is what the machine can serve.
		if a.capacity == 0 {
			a.capacity = served
		}
		a.capacity += smoothing * (served - a.capacity)
		a.sessionLimit = max(minSessionLimit, min(a.sessionLimit, int(float64(active)*sessionCut)))
	case avg < growBelow*a.target:
		// Room: the machine may be faster than last seen.
		a.capacity *= 1 + capacityProbe
		if float64(active) >= 0.9*float64(a.sessionLimit) {
			a.sessionLimit += max(1, int(float64(a.sessionLimit)*sessionGrowth))
		}
	}
	// Journeys let in now send their turns over the next seconds or
	// minutes, too late for the turns in flight to warn of them: the limit
	// is also held to the journeys the capacity seen can carry at the rate
	// one journey sends turns now.
	if a.capacity > 0 && a.perJourney > 0 {
		a.sessionLimit = min(a.sessionLimit, max(minSessionLimit, int(carry*a.capacity/a.perJourney)))
	}
	if a.fixedLimit > 0 {
		a.sessionLimit = a.fixedLimit
	}
}

// journeys returns the journeys in progress and the current limit.
func (a *Gate) journeys() (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions), a.sessionLimit
}
