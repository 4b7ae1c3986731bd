// Package smpp is the "smpp" outbound SMS sender: it implements
// dialog.Sender over SMPP 3.4 transceiver binds to an SMS centre, with
// github.com/linxGnu/gosmpp for the connection and the PDU codec.
//
// Each bind keeps itself alive (enquire_link) and binds again with
// back-off (1 s doubling to 30 s) after a lost connection or a refused
// bind. Send submits a message on one bind, within that bind's rate and
// window of unacknowledged submits, and waits for the submit_sm_resp of
// each of its PDUs: nil means the SMS centre accepted the message. A
// message is submitted at most once per call; the queue that retries a
// failed Send (providers/dispatch) sends it again under the same Ref.
//
// Errors: an SMS centre status that refuses the message itself (see
// StatusError.Permanent) is permanent; everything else is temporary and
// the queue tries again: no bind up, a connection lost before the
// submit_sm_resp came (the SMS centre may have taken the message, so the
// retry may deliver it twice: SMPP cannot tell), ESME_RTHROTTLED and
// ESME_RMSGQFUL (the bind also pauses its submits, 1 s doubling to 30 s,
// until a submit succeeds), and any other status.
//
// Text goes as GSM-7 (data_coding 0, unpacked septets) when it can, else
// UCS-2 (data_coding 8); a long one as concatenated parts with an 8-bit
// reference UDH, or, with Options.Payload, as one submit_sm with the
// whole text in message_payload. Every submit_sm asks for a delivery
// receipt (registered_delivery 1) and carries India's DLT registration
// when known: TLV 0x1400 the principal entity id, 0x1401 the content
// template id. Receipts (deliver_sm) are matched to the messages by the
// SMS centre's message id and handed to Options.OnReceipt.
//
// Logs carry masked numbers (dialog.MaskMsisdn) and never a text.
package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
	"golang.org/x/time/rate"

	"github.com/tikasetu/tikasetu/dialog"
)

// Options configure a Sender. Zero values take the defaults.
type Options struct {
	Addr       string // host:port of the SMS centre
	SystemID   string
	Password   string
	SystemType string // optional
	// Source is the DLT header (e.g. "TKSETU"), sent as an alphanumeric
	// source address (TON 5, NPI 0).
	Source string
	// Binds is the number of transceiver binds (default 1).
	Binds int
	// Rate is the most submit_sm a second on each bind (default 100).
	Rate float64
	// Window is the most submit_sm awaiting their response on each bind
	// (default 10).
	Window int
	// Payload sends a long text as one submit_sm with message_payload
	// instead of concatenated parts.
	Payload bool
	// EntityID is the DLT principal entity id, sent as TLV 0x1400 on
	// every submit_sm when set; a message's own EntityID overrides it.
	EntityID string
	Logger   *slog.Logger
	// OnReceipt is told the outcome of each message the SMS centre
	// reports on. It is called on a bind's reading goroutine: it must not
	// block.
	OnReceipt func(Receipt)
	// Count counts outcomes: "smpp_submit" and "smpp_submit_error" (per
	// submit_sm), "smpp_throttled", "smpp_bind", "smpp_bind_error",
	// "smpp_bind_lost", "smpp_receipt_<stat in lower case>",
	// "smpp_receipt_unmatched" (an id not known, or forgotten),
	// "smpp_receipt_superseded" (for a message whose Send failed and is
	// retried), "smpp_deliver_other" (a deliver_sm that is no receipt).
	Count func(outcome string)

	// Tuning, mostly for tests.
	EnquireLink time.Duration // between enquire_link (default 30 s)
	BindTimeout time.Duration // dial and bind, and each write (default 10 s)
	// RebindMin and RebindMax bound the wait before binding again after a
	// failure, doubling (default 1 s and 30 s).
	RebindMin, RebindMax time.Duration
	// ThrottleMin and ThrottleMax bound a bind's pause after
	// ESME_RTHROTTLED or ESME_RMSGQFUL, doubling (default 1 s and 30 s).
	ThrottleMin, ThrottleMax time.Duration
	// RespTimeout is how long a submit_sm holds its place in the window
	// without an answer (default 60 s).
	RespTimeout time.Duration
	// BindWait is how long Send waits for a bind when none is up, within
	// its context (default 1 s).
	BindWait time.Duration
	// Receipts is how many message ids are kept for matching receipts
	// (default 200000), each for at most ReceiptTTL (default 72 h).
	Receipts   int
	ReceiptTTL time.Duration
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Binds <= 0 {
		o.Binds = 1
	}
	if o.Rate <= 0 {
		o.Rate = 100
	}
	if o.Window <= 0 {
		o.Window = 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.OnReceipt == nil {
		o.OnReceipt = func(Receipt) {}
	}
	if o.Count == nil {
		o.Count = func(string) {}
	}
	def(&o.EnquireLink, 30*time.Second)
	def(&o.BindTimeout, 10*time.Second)
	def(&o.RebindMin, time.Second)
	def(&o.RebindMax, 30*time.Second)
	o.RebindMax = max(o.RebindMax, o.RebindMin)
	def(&o.ThrottleMin, time.Second)
	def(&o.ThrottleMax, 30*time.Second)
	o.ThrottleMax = max(o.ThrottleMax, o.ThrottleMin)
	def(&o.RespTimeout, 60*time.Second)
	def(&o.BindWait, time.Second)
	if o.Receipts <= 0 {
		o.Receipts = 200000
	}
	def(&o.ReceiptTTL, 72*time.Hour)
}

// Temporary failures of Send (wrapped; errors.Is finds them).
var (
	ErrNotBound  = errors.New("smpp: no bind to the SMS centre is up")
	ErrThrottled = errors.New("smpp: the SMS centre asked to slow down")
	ErrConnLost  = errors.New("smpp: connection lost before the SMS centre answered (it may have the message)")
	ErrNoResp    = errors.New("smpp: no submit_sm_resp in time (the SMS centre may have the message)")
	ErrClosed    = errors.New("smpp: sender closed")
)

// StatusError is a submit_sm the SMS centre answered with an error status.
type StatusError struct {
	Status data.CommandStatusType
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("smpp: SMS centre answered %s (0x%02X)", e.Status.Desc(), uint32(e.Status))
}

// Permanent reports whether the status refuses the message itself, so
// that no retry changes it: a bad length, destination address, TON or NPI,
// validity period, or a permanent application error. Everything else may
// pass on a later try: a system error, a failed submit, a full queue,
// throttling, the bind's state, unknown statuses, and what the operator's
// own registration causes (a source address, TON or NPI refused, as for a
// header not registered; a TLV value refused, as for a template id), which
// the operator fixes while the message waits in the queue.
func (e *StatusError) Permanent() bool { return permanentStatus[e.Status] }

var permanentStatus = map[data.CommandStatusType]bool{
	data.ESME_RINVMSGLEN: true,
	data.ESME_RINVDSTADR: true,
	data.ESME_RINVDSTTON: true,
	data.ESME_RINVDSTNPI: true,
	data.ESME_RINVEXPIRY: true,
	data.ESME_RX_P_APPN:  true,
	data.ESME_RX_R_APPN:  true,
}

// esmeRInvOptParamValue (0xC4) is an invalid TLV value: here a template
// id the SMS centre does not accept for the message.
const esmeRInvOptParamValue = data.CommandStatusType(0xC4)

// refusedError is a message that cannot be sent at all (a malformed
// number, a text too long).
type refusedError struct{ err error }

func (e *refusedError) Error() string   { return e.err.Error() }
func (e *refusedError) Unwrap() error   { return e.err }
func (e *refusedError) Permanent() bool { return true }

// Sender sends SMS over SMPP binds. It is safe for concurrent use.
type Sender struct {
	opt   Options
	log   *slog.Logger
	binds []*bind
	next  atomic.Uint32
	book  *book

	mu   sync.Mutex
	up   chan struct{} // closed and replaced when a bind comes up
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

var _ dialog.Sender = (*Sender)(nil)

// New starts opt.Binds binds to the SMS centre in the background and
// returns at once; Send fails with ErrNotBound until one is up.
func New(opt Options) (*Sender, error) {
	switch {
	case opt.Addr == "":
		return nil, errors.New("smpp: no SMS centre address")
	case opt.SystemID == "":
		return nil, errors.New("smpp: no system id")
	case opt.Source == "":
		return nil, errors.New("smpp: no source (DLT header)")
	case len(opt.Source) > 11 && strings.Trim(opt.Source, "0123456789") != "":
		return nil, fmt.Errorf("smpp: source %q: an alphanumeric header has at most 11 characters", opt.Source)
	}
	opt.defaults()
	s := &Sender{opt: opt, log: opt.Logger.With("smsc", opt.Addr),
		book: newBook(opt.Receipts, opt.ReceiptTTL),
		up:   make(chan struct{}), done: make(chan struct{})}
	for i := range opt.Binds {
		b := &bind{s: s, n: i + 1, lim: rate.NewLimiter(rate.Limit(opt.Rate), 1)}
		s.binds = append(s.binds, b)
		s.wg.Add(1)
		go b.run()
	}
	return s, nil
}

// Close unbinds and closes every connection. Sends still waiting fail
// with ErrClosed (temporary).
func (s *Sender) Close() error {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
	return nil
}

// Bound is the number of binds up.
func (s *Sender) Bound() int {
	n := 0
	for _, b := range s.binds {
		if c, _ := b.current(); c != nil {
			n++
		}
	}
	return n
}

// templateID is the message's DLT content template id.
func templateID(m dialog.SMS) string { return m.TemplateID }

// Send submits m and waits for the SMS centre to accept each of its
// PDUs, within ctx. See the package comment for its errors.
func (s *Sender) Send(ctx context.Context, m dialog.SMS) error {
	to, err := dialog.NormaliseMsisdn(m.To)
	if err != nil {
		return &refusedError{fmt.Errorf("smpp: recipient %s: %w", dialog.MaskMsisdn(m.To), err)}
	}
	masked := dialog.MaskMsisdn(to)
	wrap := func(err error) error {
		return fmt.Errorf("smpp: send %s to %s: %w", m.Ref, masked, err)
	}
	e, err := encodeText(m.Text)
	if err != nil {
		return &refusedError{wrap(err)}
	}
	entity := s.opt.EntityID
	if m.EntityID != "" {
		entity = m.EntityID
	}
	sms, err := buildSubmits(e, submitSpec{source: s.opt.Source, dest: to[1:],
		entityID: entity, templateID: templateID(m), payload: s.opt.Payload,
		ref: concatRef(m.Ref, to)})
	if err != nil {
		return &refusedError{wrap(err)}
	}

	b, c, err := s.pick(ctx)
	if err != nil {
		return wrap(err)
	}
	t := &tracker{to: to, ref: m.Ref, parts: len(sms)}
	waits := make([]chan result, 0, len(sms))
	var first error
	for _, sm := range sms {
		ch, err := b.submit(ctx, c, sm, t)
		if err != nil {
			first = err
			break
		}
		waits = append(waits, ch)
	}
	// Wait for the parts submitted, even after a failure, so that the
	// error reported is the first.
wait:
	for i, ch := range waits {
		select {
		case r := <-ch:
			if r.err != nil && first == nil {
				first = r.err
				if len(sms) > 1 {
					first = fmt.Errorf("part %d of %d: %w", i+1, len(sms), r.err)
				}
			}
		case <-ctx.Done():
			if first == nil {
				first = fmt.Errorf("waiting for submit_sm_resp: %w", ctx.Err())
			}
			break wait
		}
	}
	s.settle(t, first == nil)
	if first != nil {
		return wrap(first)
	}
	return nil
}

// pick chooses a bind that is up and not paused, round robin, waiting up
// to BindWait (within ctx) when none is up.
func (s *Sender) pick(ctx context.Context) (*bind, *conn, error) {
	var timer *time.Timer
	for {
		s.mu.Lock()
		up := s.up
		s.mu.Unlock()
		start := s.next.Add(1)
		throttled := false
		for i := range s.binds {
			b := s.binds[(int(start)+i)%len(s.binds)]
			c, paused := b.current()
			if c == nil {
				continue
			}
			if paused {
				throttled = true
				continue
			}
			return b, c, nil
		}
		if throttled {
			return nil, nil, ErrThrottled
		}
		if timer == nil {
			timer = time.NewTimer(s.opt.BindWait)
			defer timer.Stop()
		}
		select {
		case <-up:
		case <-timer.C:
			return nil, nil, ErrNotBound
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w (%w)", ErrNotBound, ctx.Err())
		case <-s.done:
			return nil, nil, ErrClosed
		}
	}
}

// announce wakes the Sends waiting for a bind.
func (s *Sender) announce() {
	s.mu.Lock()
	close(s.up)
	s.up = make(chan struct{})
	s.mu.Unlock()
}

// settle ends a Send: a message sent reports the receipts that came
// early; one that failed (and will be retried) reports none.
func (s *Sender) settle(t *tracker, ok bool) {
	var out []Receipt
	t.mu.Lock()
	if ok {
		t.state = trackSent
		for _, r := range t.early {
			if rr, done := t.apply(r); done {
				out = append(out, rr)
			}
		}
	} else {
		t.state = trackFailed
	}
	early := len(t.early)
	t.early = nil
	t.mu.Unlock()
	if !ok {
		for range early {
			s.opt.Count("smpp_receipt_superseded")
		}
	}
	for _, r := range out {
		s.opt.OnReceipt(r)
	}
}

// onDeliver handles a deliver_sm (already answered by gosmpp).
func (s *Sender) onDeliver(d *pdu.DeliverSM) {
	id, stat, errCode, ok := parseReceipt(d)
	if !ok {
		s.opt.Count("smpp_deliver_other")
		return
	}
	s.opt.Count("smpp_receipt_" + strings.ToLower(stat))
	t, _, found := s.book.find(id)
	if !found {
		s.opt.Count("smpp_receipt_unmatched")
		s.log.Info("smpp receipt for an unknown message id", "id", id, "stat", stat)
		return
	}
	r := Receipt{To: t.to, Ref: t.ref, Stat: stat, Err: errCode, MessageID: id}
	t.mu.Lock()
	switch t.state {
	case trackPending:
		t.early = append(t.early, r)
		t.mu.Unlock()
		return
	case trackFailed:
		t.mu.Unlock()
		s.opt.Count("smpp_receipt_superseded")
		return
	}
	r, report := t.apply(r)
	t.mu.Unlock()
	if report {
		s.opt.OnReceipt(r)
	}
}

// bind is one transceiver bind, bound again whenever it is lost.
type bind struct {
	s   *Sender
	n   int
	lim *rate.Limiter

	mu       sync.Mutex
	c        *conn // nil while down
	pausedTo time.Time
	pause    time.Duration // the last pause; 0 after a success
}

// current is the bind's connection (nil when down) and whether its
// submits are paused.
func (b *bind) current() (*conn, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.c, time.Now().Before(b.pausedTo)
}

// throttled pauses the bind's submits, longer each time in a row.
func (b *bind) throttled() {
	b.mu.Lock()
	b.pause = min(max(2*b.pause, b.s.opt.ThrottleMin), b.s.opt.ThrottleMax)
	b.pausedTo = time.Now().Add(b.pause)
	pause := b.pause
	b.mu.Unlock()
	b.s.opt.Count("smpp_throttled")
	b.s.log.Warn("smpp: SMS centre throttles; pausing the bind", "bind", b.n, "pause", pause)
}

func (b *bind) succeeded() {
	b.mu.Lock()
	b.pause = 0
	b.mu.Unlock()
}

// run binds, waits for the connection to end, and binds again, with
// back-off, until the sender closes.
func (b *bind) run() {
	s := b.s
	defer s.wg.Done()
	wait := s.opt.RebindMin
	for {
		select {
		case <-s.done:
			return
		default:
		}
		c := &conn{b: b, slots: make(chan struct{}, s.opt.Window),
			pending: make(map[int32]*inflight), closed: make(chan struct{})}
		sess, err := gosmpp.NewSession(gosmpp.TRXConnector(b.dial, gosmpp.Auth{
			SMSC: s.opt.Addr, SystemID: s.opt.SystemID, Password: s.opt.Password, SystemType: s.opt.SystemType,
		}), gosmpp.Settings{
			EnquireLink:      s.opt.EnquireLink,
			ReadTimeout:      2 * s.opt.EnquireLink, // one enquire_link_resp may be missed
			WriteTimeout:     s.opt.BindTimeout,
			OnPDU:            c.onPDU,
			OnSubmitError:    c.onSubmitError,
			OnReceivingError: func(err error) { s.log.Debug("smpp read", "bind", b.n, "err", err) },
			OnClosed:         func(gosmpp.State) { c.lost() },
		}, 0) // 0: no rebinding by gosmpp; this loop does it, with back-off
		if err != nil {
			s.opt.Count("smpp_bind_error")
			d := jitter(wait)
			s.log.Warn("smpp bind failed; binding again later", "bind", b.n, "wait", d, "err", err)
			if !b.sleep(d) {
				return
			}
			wait = min(2*wait, s.opt.RebindMax)
			continue
		}
		c.sess = sess
		b.mu.Lock()
		b.c = c
		b.mu.Unlock()
		s.opt.Count("smpp_bind")
		s.log.Info("smpp bound", "bind", b.n)
		s.announce()
		since := time.Now()

		closing := b.hold(c)

		b.mu.Lock()
		b.c = nil
		b.mu.Unlock()
		reason := ErrConnLost
		if closing {
			reason = ErrClosed
		}
		c.fail(reason)
		_ = sess.Close() // unbind (when the connection still stands) and close
		if closing {
			return
		}
		s.opt.Count("smpp_bind_lost")
		if time.Since(since) > s.opt.RebindMax {
			wait = s.opt.RebindMin // it had been up a good while
		}
		d := jitter(wait)
		s.log.Warn("smpp connection lost; binding again", "bind", b.n, "wait", d)
		if !b.sleep(d) {
			return
		}
		wait = min(2*wait, s.opt.RebindMax)
	}
}

// hold waits until c is lost (false) or the sender closes (true),
// freeing the window of submits left unanswered too long meanwhile.
func (b *bind) hold(c *conn) (closing bool) {
	tick := time.NewTicker(max(b.s.opt.RespTimeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-c.closed:
			return false
		case <-b.s.done:
			return true
		case <-tick.C:
			c.expire(time.Now().Add(-b.s.opt.RespTimeout))
		}
	}
}

func (b *bind) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.s.done:
		return false
	}
}

// dial connects with a deadline that covers the bind too: gosmpp waits
// for the bind_resp without one. Once bound, gosmpp sets its own read and
// write deadlines.
func (b *bind) dial(addr string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, b.s.opt.BindTimeout)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(b.s.opt.BindTimeout))
	return nc, nil
}

// jitter spreads d by ±20%, so that binds do not retry in step.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// submit sends one submit_sm on c and returns where its outcome will
// come. It waits for the bind's rate and for room in its window.
func (b *bind) submit(ctx context.Context, c *conn, sm *pdu.SubmitSM, t *tracker) (chan result, error) {
	if err := b.lim.Wait(ctx); err != nil {
		return nil, fmt.Errorf("waiting for the bind's rate: %w", err)
	}
	if _, paused := b.current(); paused {
		return nil, ErrThrottled
	}
	select {
	case c.slots <- struct{}{}:
	case <-c.closed:
		return nil, ErrNotBound
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for room in the window: %w", ctx.Err())
	}
	ch := make(chan result, 1)
	seq := sm.GetSequenceNumber()
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		<-c.slots
		return nil, ErrNotBound // not written: safe to retry
	}
	c.pending[seq] = &inflight{done: ch, t: t, at: time.Now()}
	c.mu.Unlock()
	if err := c.sess.Transceiver().Submit(sm); err != nil {
		// gosmpp refused it before writing: the connection is closing.
		if c.forget(seq) {
			return nil, fmt.Errorf("%w: %w", ErrNotBound, err)
		}
		// fail or expire got there first and answers on ch
	}
	return ch, nil
}

// conn is one bound connection and the submits awaiting its answers.
type conn struct {
	b     *bind
	sess  *gosmpp.Session
	slots chan struct{} // the window: one token per submit awaiting its response

	mu      sync.Mutex
	pending map[int32]*inflight // by sequence number
	dead    error               // set once the connection is lost
	closed  chan struct{}
	once    sync.Once
}

type inflight struct {
	done chan result
	t    *tracker
	at   time.Time
}

type result struct {
	err error
}

// lost marks the connection gone (gosmpp calls it, maybe more than once).
func (c *conn) lost() { c.once.Do(func() { close(c.closed) }) }

// onPDU handles what the SMS centre sends (gosmpp has already answered
// deliver_sm and enquire_link). It runs on the reading goroutine.
func (c *conn) onPDU(p pdu.PDU, _ bool) {
	switch p := p.(type) {
	case *pdu.SubmitSMResp:
		c.answered(p.GetSequenceNumber(), p.CommandStatus, p.MessageID)
	case *pdu.GenericNack:
		c.answered(p.GetSequenceNumber(), p.CommandStatus, "")
	case *pdu.DeliverSM:
		c.b.s.onDeliver(p)
	}
}

// answered settles the submit with seq.
func (c *conn) answered(seq int32, status data.CommandStatusType, id string) {
	f := c.take(seq)
	if f == nil {
		return // expired, or not ours
	}
	s := c.b.s
	var err error
	switch {
	case status == data.ESME_ROK && id != "":
		// Recorded even when its Send has given up waiting: a receipt
		// for it is then counted as superseded, not unmatched.
		s.book.add(id, f.t)
		s.opt.Count("smpp_submit")
		c.b.succeeded()
	case status == data.ESME_ROK:
		s.opt.Count("smpp_submit")
		c.b.succeeded()
		s.log.Warn("smpp: submit_sm_resp without a message id: its receipt cannot be matched", "bind", c.b.n)
	case status == data.ESME_RTHROTTLED || status == data.ESME_RMSGQFUL:
		s.opt.Count("smpp_submit_error")
		c.b.throttled()
		err = fmt.Errorf("%w: %w", ErrThrottled, &StatusError{status})
	default:
		s.opt.Count("smpp_submit_error")
		err = &StatusError{status}
	}
	f.done <- result{err: err}
}

// onSubmitError: gosmpp could not write a PDU; the connection closes.
func (c *conn) onSubmitError(p pdu.PDU, err error) {
	if f := c.take(p.GetSequenceNumber()); f != nil {
		c.b.s.opt.Count("smpp_submit_error")
		f.done <- result{err: fmt.Errorf("%w: write: %w", ErrConnLost, err)}
	}
}

// take removes the submit with seq from the window.
func (c *conn) take(seq int32) *inflight {
	c.mu.Lock()
	f := c.pending[seq]
	delete(c.pending, seq)
	c.mu.Unlock()
	if f != nil {
		<-c.slots
	}
	return f
}

// forget drops a submit that was never written; false when it was
// already settled.
func (c *conn) forget(seq int32) bool { return c.take(seq) != nil }

// fail settles every submit awaiting an answer with err.
func (c *conn) fail(err error) {
	c.mu.Lock()
	c.dead = err
	pending := c.pending
	c.pending = map[int32]*inflight{}
	c.mu.Unlock()
	for _, f := range pending {
		<-c.slots
		c.b.s.opt.Count("smpp_submit_error")
		f.done <- result{err: err}
	}
}

// expire gives up on the submits sent before cutoff.
func (c *conn) expire(cutoff time.Time) {
	c.mu.Lock()
	var old []*inflight
	for seq, f := range c.pending {
		if f.at.Before(cutoff) {
			old = append(old, f)
			delete(c.pending, seq)
		}
	}
	c.mu.Unlock()
	for _, f := range old {
		<-c.slots
		c.b.s.opt.Count("smpp_submit_error")
		f.done <- result{err: ErrNoResp}
	}
	if len(old) > 0 {
		c.b.s.log.Warn("smpp: submits unanswered; given up", "bind", c.b.n, "count", len(old))
	}
}
