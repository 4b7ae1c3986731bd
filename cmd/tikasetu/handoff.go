package main

// The USSD-to-SMS hand-off. A caller whose USSD session drops mid-journey
// (no next turn within TIKASETU_HANDOFF_AFTER of a CON screen) gets one SMS:
// their progress is kept; dial the short code, or reply by SMS, to go on.
// The gateway notices the drop itself, with one timer per number that each
// turn arms, re-arms or cancels in memory: the turns' path does no Redis
// work for it. Only when a timer fires does the gateway read the
// conversation, to see that no turn came since on any gateway.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

const (
	// handoffPer is how often one number may get the hand-off SMS, over
	// the whole fleet (store.HandoffOnce).
	handoffPer = time.Hour
	// handoffCap bounds the numbers watched at once (about 300 bytes
	// each): a number stays watched for the delay after its last CON
	// screen, so this is room for some 1,600 such turns a second at the
	// default minute. Past it new numbers are not watched.
	handoffCap = 100_000
	// handoffTimeout bounds the store work of one hand-off.
	handoffTimeout = 5 * time.Second
)

// handoffWatch keeps a timer for each number whose last USSD turn on this
// gateway showed a CON screen. A nil *handoffWatch is off: it watches
// nothing and wraps nothing.
type handoffWatch struct {
	after time.Duration
	limit int          // numbers watched at most
	clock dialog.Clock // the engine's: the time a turn ended, for Conversation.Updated
	// fire is called, on the timer's goroutine, for a number whose timer
	// ran out, with the time the turn that armed it ended and whether that
	// turn's channel shows Roman text only.
	fire  func(ctx context.Context, msisdn string, armed time.Time, gsm7 bool)
	count func(outcome string)

	mu       sync.Mutex
	pending  map[string]*watched
	closed   bool
	inflight int            // fire calls in progress, for busy
	firing   sync.WaitGroup // the same, for close
}

// watched is one number's session left on a CON screen.
type watched struct {
	timer *time.Timer
	// due is when the hand-off is due (monotonic clock). A turn that
	// re-arms the number moves due alone, so that a turn does not touch the
	// runtime's timers: a firing found before due sets the timer again for
	// what is left.
	due   time.Time
	armed time.Time // the engine's clock when the arming turn ended
	gsm7  bool
}

// newHandoffWatch watches for sessions left unanswered after (nil when
// after is 0: the hand-off is off).
func newHandoffWatch(after time.Duration, clock dialog.Clock, fire func(ctx context.Context, msisdn string, armed time.Time, gsm7 bool), count func(string)) *handoffWatch {
	if after <= 0 {
		return nil
	}
	return &handoffWatch{after: after, limit: handoffCap, clock: clock, fire: fire, count: count,
		pending: make(map[string]*watched)}
}

// observe takes a finished turn: a USSD screen that waits for an answer
// (re-)arms the number's timer; anything else, the end of a session or an
// SMS, cancels it. A turn that failed changes nothing: the caller got the
// busy screen, and the timer of the screen before stands.
func (w *handoffWatch) observe(t dialog.Turn, r dialog.Reply, err error) {
	if err != nil {
		return
	}
	n, nerr := dialog.NormaliseMsisdn(t.Msisdn)
	if nerr != nil {
		return
	}
	if t.Channel == dialog.USSD && !r.End {
		w.arm(n, w.clock.Now(), t.GSM7Only)
		return
	}
	w.cancel(n)
}

// arm starts msisdn's timer, or moves the hand-off of a number watched already.
func (w *handoffWatch) arm(msisdn string, armed time.Time, gsm7 bool) {
	due := time.Now().Add(w.after) // before the timer starts: never later than it fires
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if p, ok := w.pending[msisdn]; ok {
		p.due, p.armed, p.gsm7 = due, armed, gsm7
		return
	}
	if len(w.pending) >= w.limit {
		w.count("handoff_untracked")
		return
	}
	p := &watched{due: due, armed: armed, gsm7: gsm7}
	p.timer = time.AfterFunc(w.after, func() { w.expire(msisdn, p) })
	w.pending[msisdn] = p
}

// cancel forgets msisdn's timer, if any.
func (w *handoffWatch) cancel(msisdn string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.pending[msisdn]; ok {
		p.timer.Stop()
		delete(w.pending, msisdn)
	}
}

// expire runs when p's timer fires: unless p was cancelled or re-armed
// meanwhile, or the watch closed, it forgets p and calls fire.
func (w *handoffWatch) expire(msisdn string, p *watched) {
	w.mu.Lock()
	if w.closed || w.pending[msisdn] != p {
		w.mu.Unlock()
		return
	}
	if left := time.Until(p.due); left > 0 { // re-armed since the timer was set
		p.timer.Reset(left)
		w.mu.Unlock()
		return
	}
	delete(w.pending, msisdn)
	armed, gsm7 := p.armed, p.gsm7
	w.inflight++
	w.firing.Add(1)
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inflight--
		w.mu.Unlock()
		w.firing.Done()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), handoffTimeout)
	defer cancel()
	w.fire(ctx, msisdn, armed, gsm7)
}

// close stops every timer and waits for hand-offs in progress (each
// bounded by handoffTimeout). Sessions still watched get no SMS.
func (w *handoffWatch) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.closed = true
	for n, p := range w.pending {
		p.timer.Stop()
		delete(w.pending, n)
	}
	w.mu.Unlock()
	w.firing.Wait()
}

// busy reports the numbers watched and the hand-offs in progress (for
// tests).
func (w *handoffWatch) busy() (watched, firing int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending), w.inflight
}

// wrap returns h with its turns observed: h itself when w is off. A
// dialog.Gate stays one, as providers ask it first (deadline.Run).
func (w *handoffWatch) wrap(h dialog.Handler) dialog.Handler {
	if w == nil {
		return h
	}
	if g, ok := h.(dialog.Gate); ok {
		return handoffGate{w: w, g: g}
	}
	return handoffHandler{w: w, h: h}
}

// handoffHandler runs turns through h and shows each to w.
type handoffHandler struct {
	w *handoffWatch
	h dialog.Handler
}

func (hh handoffHandler) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	r, err := hh.h.Handle(ctx, t)
	hh.w.observe(t, r, err)
	return r, err
}

// handoffGate is handoffHandler for a gate: a turn it admits is observed;
// one turned away (the busy screen, no Redis) leaves the timers alone.
type handoffGate struct {
	w *handoffWatch
	g dialog.Gate
}

func (hg handoffGate) Admit(ctx context.Context, t dialog.Turn) (dialog.Handler, dialog.Reply, bool) {
	run, busy, ok := hg.g.Admit(ctx, t)
	if !ok {
		return nil, busy, false
	}
	return handoffHandler{w: hg.w, h: run}, dialog.Reply{}, true
}

func (hg handoffGate) Handle(ctx context.Context, t dialog.Turn) (dialog.Reply, error) {
	run, busy, ok := hg.Admit(ctx, t)
	if !ok {
		return busy, nil
	}
	return run.Handle(ctx, t)
}

// handoffDue reports whether conversation c still waits where a session
// left it: mid-journey, over USSD, and not saved by a turn after the one
// that armed the timer at armed (another gateway may have served one).
func handoffDue(c *dialog.Conversation, armed time.Time) bool {
	return c != nil && dialog.MidJourney(c.State) && c.Channel == dialog.USSD && !c.Updated.After(armed)
}

// handoffKeep is how long a conversation is kept once its hand-off SMS is
// sent, as the SMS says its progress is saved.
const handoffKeep = 24 * time.Hour

// handOff is the watch's fire: it sends msisdn the hand-off SMS if its
// conversation is still due one (handoffDue) and the number got none in
// the last handoffPer, and counts the outcome.
func (g *gateway) handOff(ctx context.Context, msisdn string, armed time.Time, gsm7 bool) {
	outcome, err := g.sendHandoff(ctx, msisdn, armed, gsm7)
	if err != nil {
		g.log.Warn("hand-off sms", "to", dialog.MaskMsisdn(msisdn), "err", err)
	}
	if outcome != "" {
		g.metrics.Count(outcome)
	}
}

// sendHandoff does handOff's work and names its outcome for the metrics:
// handoff_sent, handoff_limited (one went within handoffPer),
// handoff_failed, or "" when the conversation moved on or ended.
func (g *gateway) sendHandoff(ctx context.Context, msisdn string, armed time.Time, gsm7 bool) (string, error) {
	ld, err := g.store.Load(ctx, msisdn, "")
	if err != nil {
		return "handoff_failed", fmt.Errorf("load conversation: %w", err)
	}
	if !handoffDue(ld.Conversation, armed) {
		return "", nil
	}
	first, err := g.store.HandoffOnce(ctx, msisdn, handoffPer)
	if err != nil {
		return "handoff_failed", err
	}
	if !first {
		return "handoff_limited", nil
	}
	// The SMS says the progress is saved: keep it until the caller comes
	// back, by USSD or by SMS.
	if err := g.store.KeepConversation(ctx, msisdn, handoffKeep); err != nil {
		return "handoff_failed", err
	}
	// From here a failure costs the number its SMS for the hour: at most
	// one is the promise kept.
	lang := dialog.ShownLanguage(ld.Conversation.Lang, gsm7) // as the caller's screens were
	sms := g.engine.Message(msisdn, lang, dialog.SMSKindHandoff, "code", g.cfg.USSDCode)
	if err := g.store.EnqueueSMS(ctx, msisdn, sms); err != nil {
		return "handoff_failed", fmt.Errorf("queue: %w", err)
	}
	g.dispatch.Deliver(msisdn, []dialog.SMS{sms})
	return "handoff_sent", nil
}
