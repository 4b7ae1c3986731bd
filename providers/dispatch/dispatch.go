// Package dispatch delivers the outbound SMS queue: the SMS that turns saved
// in the store go to the configured sender at its rate, with back-off,
// until they are delivered, refused or expired, at least once and always
// under the same ref (receivers de-duplicate by it). Any number of gateways
// may run a Dispatcher on one store: each SMS is claimed by one of them for
// a lease, and one that dies with claims leaves them to the others when
// the lease runs out.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/lazylog"
	"github.com/tikasetu/tikasetu/store"
)

// Queue is the store's outbound queue.
type Queue interface {
	Queued(caller string, sms dialog.SMS) store.QueuedSMS
	ClaimSMS(ctx context.Context, n int) ([]store.QueuedSMS, error)
	DropSMS(ctx context.Context, qs ...store.QueuedSMS) error
	RetrySMS(ctx context.Context, q store.QueuedSMS, wait time.Duration) error
}

// Options tune a Dispatcher. Zero values take the defaults.
type Options struct {
	// Rate is the most SMS a second handed to the sender (default 100).
	Rate float64
	// Workers is how many sends may be in flight at once (default 16).
	Workers int
	// Poll is how often due SMS are claimed from the store (default 1 s).
	Poll time.Duration
	// Lease is the store's claim lease (store.Config.SMSLease); the
	// dispatcher holds no more SMS than it can send in a quarter of it
	// (default store.DefaultSMSLease).
	Lease time.Duration
	// SendTimeout bounds one call of the sender (default 30 s: the
	// senders' own attempts and back-off).
	SendTimeout time.Duration
	// Backoff is the wait after the first failure, doubling with each
	// further one up to MaxBackoff, with jitter (default 1 s and 30 s).
	Backoff, MaxBackoff time.Duration
	// OnUndelivered is told of an SMS given up, expired or refused by the
	// receiver (so that a code's screen can offer a new one).
	OnUndelivered func(to, ref string)
	// Count counts outcomes: "sms_sent", "sms_retried", "sms_expired",
	// "sms_rejected".
	Count  func(outcome string)
	Logger *slog.Logger
	Clock  dialog.Clock
}

// Dispatcher sends the queue's SMS. Deliver hands it a saved turn's SMS to
// send at once; a poll claims whatever else is due.
type Dispatcher struct {
	q      Queue
	sender dialog.Sender
	opt    Options
	lim    *rate.Limiter
	codes  chan store.QueuedSMS // sent first: a caller is waiting for them
	work   chan store.QueuedSMS

	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup // the poller and the workers

	mu      sync.Mutex
	idle    *sync.Cond
	pending int // SMS accepted and not yet settled
}

// New starts a dispatcher's poller and workers; they stop when ctx is done
// or Close is called.
func New(ctx context.Context, q Queue, sender dialog.Sender, opt Options) *Dispatcher {
	if opt.Rate <= 0 {
		opt.Rate = 100
	}
	if opt.Workers <= 0 {
		opt.Workers = 16
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Lease <= 0 {
		opt.Lease = store.DefaultSMSLease
	}
	if opt.SendTimeout <= 0 {
		opt.SendTimeout = 30 * time.Second
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.MaxBackoff < opt.Backoff {
		opt.MaxBackoff = max(30*time.Second, opt.Backoff)
	}
	if opt.Count == nil {
		opt.Count = func(string) {}
	}
	if opt.OnUndelivered == nil {
		opt.OnUndelivered = func(string, string) {}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Clock == nil {
		opt.Clock = dialog.SystemClock
	}
	burst := max(1, int(opt.Rate))
	buffer := bufferFor(opt.Rate, opt.Lease)
	d := &Dispatcher{q: q, sender: sender, opt: opt,
		lim:   rate.NewLimiter(rate.Limit(opt.Rate), burst),
		codes: make(chan store.QueuedSMS, buffer), work: make(chan store.QueuedSMS, buffer)}
	d.idle = sync.NewCond(&d.mu)
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.done.Add(1 + opt.Workers)
	go d.poll()
	for range opt.Workers {
		go d.worker()
	}
	return d
}

// Close stops the dispatcher after the sends in flight. SMS it held but
// had not sent stay in the store and are claimed again when their lease
// runs out, by this gateway's successor or another.
func (d *Dispatcher) Close() {
	d.cancel()
	d.done.Wait()
}

// Deliver takes the SMS of a saved turn. It never blocks: when the
// dispatcher already holds as many as it can send within a lease, the SMS
// waits in the store for the poll.
func (d *Dispatcher) Deliver(caller string, sms []dialog.SMS) {
	for _, m := range sms {
		d.accept(d.q.Queued(caller, m))
	}
}

// accept hands q to the workers if there is room.
func (d *Dispatcher) accept(q store.QueuedSMS) {
	if d.ctx.Err() != nil {
		return
	}
	d.mu.Lock()
	d.pending++
	d.mu.Unlock()
	ch := d.work
	if strings.HasPrefix(q.Ref, dialog.OTPRefPrefix) {
		ch = d.codes
	}
	select {
	case ch <- q:
	default:
		d.settled()
	}
}

// maxBuffer bounds what a dispatcher holds in memory to send: at a high
// rate a quarter of a lease of SMS would be hundreds of megabytes of
// channel, allocated at start and scanned by the collector. What finds no
// room waits out its lease.
const maxBuffer = 4096

// bufferFor is the room for SMS waiting for a worker: a quarter of a
// lease's sending at the rate, from 64 to maxBuffer.
func bufferFor(rate float64, lease time.Duration) int {
	return min(maxBuffer, max(64, int(rate*lease.Seconds()/4)))
}

func (d *Dispatcher) settled() {
	d.mu.Lock()
	d.pending--
	if d.pending == 0 {
		d.idle.Broadcast()
	}
	d.mu.Unlock()
}

// Drain waits until every SMS the dispatcher took was sent, given up or
// given back to the queue.
func (d *Dispatcher) Drain() {
	d.mu.Lock()
	for d.pending > 0 {
		d.idle.Wait()
	}
	d.mu.Unlock()
}

// poll claims due SMS while there is room for them.
func (d *Dispatcher) poll() {
	defer d.done.Done()
	t := time.NewTicker(d.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		room := cap(d.work) - max(len(d.work), len(d.codes))
		if room < cap(d.work)/2 {
			continue
		}
		ctx, cancel := context.WithTimeout(d.ctx, storeTimeout)
		qs, err := d.q.ClaimSMS(ctx, room)
		cancel()
		if err != nil {
			if d.ctx.Err() == nil {
				d.opt.Logger.Warn("sms queue: claim", "err", err)
			}
			continue
		}
		for _, q := range qs {
			d.accept(q) // one that finds no room waits out its lease
		}
	}
}

func (d *Dispatcher) worker() {
	defer d.done.Done()
	for {
		var q store.QueuedSMS
		select { // codes first
		case q = <-d.codes:
		default:
			select {
			case <-d.ctx.Done():
				d.abandon()
				return
			case q = <-d.codes:
			case q = <-d.work:
			}
		}
		d.send(q)
		d.settled()
	}
}

// abandon lets go of what the dispatcher holds at shutdown: it stays
// claimed in the store until its lease runs out.
func (d *Dispatcher) abandon() {
	for {
		select {
		case <-d.codes:
		case <-d.work:
		default:
			return
		}
		d.settled()
	}
}

// storeTimeout bounds the queue's own calls to the store, so that a Redis
// that hangs holds up no worker for long: what it could not record is
// tried again when its lease ends.
const storeTimeout = 2 * time.Second

// permanent is an error of the receiver's that no retry will change.
type permanent interface{ Permanent() bool }

// send tries q once and settles it in the store.
func (d *Dispatcher) send(q store.QueuedSMS) {
	log := lazylog.With(d.opt.Logger, slog.String("to", dialog.MaskMsisdn(q.To)), slog.String("ref", q.Ref))
	if d.opt.Clock.Now().After(q.Expires) {
		d.give(q, "sms_expired")
		log.Warn("sms expired before it could be delivered", "tries", q.Tries)
		return
	}
	if err := d.lim.Wait(d.ctx); err != nil {
		return // shutting down: the lease brings it back
	}
	// The send itself outlives a shutdown that begins meanwhile, so that
	// it is settled rather than sent twice.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), d.opt.SendTimeout)
	err := d.sender.Send(ctx, q.SMS)
	cancel()
	ctx, cancel = context.WithTimeout(context.WithoutCancel(d.ctx), storeTimeout)
	defer cancel()
	var perm permanent
	switch {
	case err == nil:
		if err := d.q.DropSMS(ctx, q); err != nil {
			log.Warn("sms sent, but not cleared from the queue: it may be sent again", "err", err)
		}
		d.opt.Count("sms_sent")
	case errors.As(err, &perm) && perm.Permanent():
		d.give(q, "sms_rejected")
		log.Warn("sms refused by the receiver", "err", err)
	default:
		wait := d.backoff(q.Tries + 1)
		if rerr := d.q.RetrySMS(ctx, q, wait); rerr != nil {
			log.Warn("sms retry not recorded: it is tried again when its lease ends", "err", rerr)
		}
		d.opt.Count("sms_retried")
		log.Warn("sms not sent; will retry", "tries", q.Tries+1, "wait", wait, "err", err)
	}
}

// give drops q from the queue for good and says so.
func (d *Dispatcher) give(q store.QueuedSMS, outcome string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), storeTimeout)
	defer cancel()
	if err := d.q.DropSMS(ctx, q); err != nil {
		d.opt.Logger.Warn("sms given up, but not cleared from the queue", "ref", q.Ref, "err", err)
	}
	d.opt.Count(outcome)
	d.opt.OnUndelivered(q.To, q.Ref)
}

// backoff is the wait after the n-th failure: doubling from Backoff, at
// most MaxBackoff, within ±20%.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.opt.Backoff
	for i := 1; i < n && w < d.opt.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.opt.MaxBackoff)
	return time.Duration(float64(w) * (0.8 + 0.4*rand.Float64()))
}
