package dispatch

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/redistest"
)

// receiver is an SMS centre that can be down, and refuses some numbers.
type receiver struct {
	mu      sync.Mutex
	down    bool
	refuse  map[string]bool
	tries   map[string]int // attempts by ref
	got     map[string]int // deliveries by ref
	texts   map[string]string
	order   []string      // refs in the order delivered
	hold    chan struct{} // when set, each send waits for a token
	entered chan string   // with hold: the ref of each send that began
	arrived chan string
}

func newReceiver() *receiver {
	return &receiver{refuse: map[string]bool{}, tries: map[string]int{}, got: map[string]int{},
		texts: map[string]string{}, arrived: make(chan string, 1000)}
}

type statusErr struct{ permanent bool }

func (e statusErr) Error() string   { return "receiver said no" }
func (e statusErr) Permanent() bool { return e.permanent }

func (r *receiver) Send(_ context.Context, m dialog.SMS) error {
	if r.hold != nil {
		r.entered <- m.Ref
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries[m.Ref]++
	switch {
	case r.refuse[m.To]:
		return statusErr{permanent: true}
	case r.down:
		return statusErr{}
	}
	r.got[m.Ref]++
	r.texts[m.Ref] = m.Text
	r.order = append(r.order, m.Ref)
	r.arrived <- m.Ref
	return nil
}

// counts returns the attempts and deliveries of ref.
func (r *receiver) counts(ref string) (tries, got int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries[ref], r.got[ref]
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// world is a store on a real Redis with a short lease.
type world struct {
	st    *store.Store
	lease time.Duration
}

func newWorld(t *testing.T) *world {
	t.Helper()
	lease := 300 * time.Millisecond
	st, err := store.Open(context.Background(), store.Config{URL: redistest.Start(t),
		Secret: []byte("dispatch test secret, 32 bytes or more"), SMSLease: lease})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &world{st: st, lease: lease}
}

// turn saves a conversation for caller with sms, as a turn does.
func (w *world) turn(t *testing.T, caller string, sms ...dialog.SMS) {
	t.Helper()
	c := &dialog.Conversation{Msisdn: caller, State: "home"}
	if err := w.st.Save(context.Background(), c, time.Minute, "", dialog.Reply{}, sms...); err != nil {
		t.Fatal(err)
	}
}

type outcomes struct {
	mu sync.Mutex
	n  map[string]int
	un []string
}

func (o *outcomes) count(s string) {
	o.mu.Lock()
	o.n[s]++
	o.mu.Unlock()
}

// snapshot returns a copy of the counts and the refs given up.
func (o *outcomes) snapshot() (map[string]int, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := make(map[string]int, len(o.n))
	for k, v := range o.n {
		n[k] = v
	}
	return n, append([]string(nil), o.un...)
}

func (o *outcomes) undelivered(_, ref string) {
	o.mu.Lock()
	o.un = append(o.un, ref)
	o.mu.Unlock()
}

func (w *world) dispatcher(t *testing.T, r dialog.Sender, o *outcomes) *Dispatcher {
	t.Helper()
	return w.dispatcherWith(t, r, o, 0)
}

func (w *world) dispatcherWith(t *testing.T, r dialog.Sender, o *outcomes, workers int) *Dispatcher {
	t.Helper()
	d := New(context.Background(), w.st, r, Options{Lease: w.lease, Poll: 10 * time.Millisecond, Workers: workers,
		Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Rate: 1000,
		Count: o.count, OnUndelivered: o.undelivered, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(d.Close)
	return d
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func slip(i int) dialog.SMS {
	return dialog.SMS{To: "+919876500" + string(rune('0'+i/10)) + string(rune('0'+i%10)), Text: "slip", Ref: "slip-" + string(rune('a'+i))}
}

func (w *world) depth(t *testing.T) int64 {
	q, err := w.st.SMSQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q.Depth
}

// TestReceiverDown: SMS saved while the receiver is down all arrive after
// it comes back, each once, and the queue is empty after.
func TestReceiverDown(t *testing.T) {
	w := newWorld(t)
	r, o := newReceiver(), &outcomes{n: map[string]int{}}
	d := w.dispatcher(t, r, o)
	r.setDown(true)
	const n = 20
	for i := range n {
		m := slip(i)
		w.turn(t, m.To, m)
		d.Deliver(m.To, []dialog.SMS{m})
	}
	waitFor(t, "every SMS tried and retried", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := range n {
			if r.tries[slip(i).Ref] < 2 {
				return false
			}
		}
		return true
	})
	r.setDown(false)
	waitFor(t, "every SMS delivered", func() bool { return w.depth(t) == 0 })
	for i := range n {
		if _, got := r.counts(slip(i).Ref); got != 1 {
			t.Errorf("%s delivered %d times", slip(i).Ref, got)
		}
	}
	d.Drain()
	if out, _ := o.snapshot(); out["sms_sent"] != n || out["sms_retried"] < n {
		t.Errorf("outcomes %v", out)
	}
}

// TestGatewayDiesAfterSave: a turn saved by a gateway that died before it
// sent (no Deliver) is delivered by another gateway's dispatcher once the
// lease runs out.
func TestGatewayDiesAfterSave(t *testing.T) {
	w := newWorld(t)
	m := slip(1)
	w.turn(t, m.To, m) // the gateway that saved it is gone
	r, o := newReceiver(), &outcomes{n: map[string]int{}}
	w.dispatcher(t, r, o)
	select {
	case ref := <-r.arrived:
		if ref != m.Ref {
			t.Fatalf("delivered %s", ref)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the orphaned SMS was never delivered")
	}
	waitFor(t, "the queue to empty", func() bool { return w.depth(t) == 0 })
	if _, got := r.counts(m.Ref); got != 1 {
		t.Fatalf("delivered %d times", got)
	}
}

// TestRefusedAndExpired: an SMS the receiver refuses is given up at once
// and reported; a code that cannot be delivered while valid is given up.
func TestRefusedAndExpired(t *testing.T) {
	w := newWorld(t)
	r, o := newReceiver(), &outcomes{n: map[string]int{}}
	bad := dialog.SMS{To: "+919876511111", Text: "slip", Ref: "slip-bad"}
	r.refuse[bad.To] = true
	d := w.dispatcher(t, r, o)
	w.turn(t, bad.To, bad)
	d.Deliver(bad.To, []dialog.SMS{bad})
	d.Drain()
	waitFor(t, "the refused SMS to leave the queue", func() bool { return w.depth(t) == 0 })
	tries, _ := r.counts(bad.Ref)
	out, un := o.snapshot()
	if tries != 1 || out["sms_rejected"] != 1 || len(un) != 1 || un[0] != bad.Ref {
		t.Fatalf("tries %d, outcomes %v, undelivered %v", tries, out, un)
	}

	// A queue whose codes live 200 ms, with the receiver down.
	st, err := store.Open(context.Background(), store.Config{URL: redistest.Start(t),
		Secret: []byte("dispatch test secret, 32 bytes or more"), SMSLease: w.lease, OTPValidity: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w2 := &world{st: st, lease: w.lease}
	r2, o2 := newReceiver(), &outcomes{n: map[string]int{}}
	r2.setDown(true)
	d2 := w2.dispatcher(t, r2, o2)
	code := dialog.SMS{To: "+919876522222", Text: "code 123456", Ref: dialog.OTPRefPrefix + "2222-x"}
	w2.turn(t, code.To, code)
	d2.Deliver(code.To, []dialog.SMS{code})
	waitFor(t, "the code to be given up", func() bool { return w2.depth(t) == 0 })
	d2.Drain()
	if out, un := o2.snapshot(); out["sms_expired"] != 1 || len(un) != 1 || un[0] != code.Ref {
		t.Fatalf("outcomes %v, undelivered %v", out, un)
	}
}

// TestDeliverAfterClose: SMS handed over after Close stay in the queue
// for the next dispatcher.
func TestDeliverAfterClose(t *testing.T) {
	w := newWorld(t)
	r, o := newReceiver(), &outcomes{n: map[string]int{}}
	d := w.dispatcher(t, r, o)
	d.Close()
	m := slip(2)
	w.turn(t, m.To, m)
	d.Deliver(m.To, []dialog.SMS{m})
	d.Drain()
	if tries, _ := r.counts(m.Ref); w.depth(t) != 1 || tries != 0 {
		t.Fatalf("depth %d, tries %d", w.depth(t), tries)
	}
	w.dispatcher(t, r, o)
	waitFor(t, "the next dispatcher to deliver it", func() bool { return w.depth(t) == 0 })
	if _, got := r.counts(m.Ref); got != 1 {
		t.Fatalf("delivered %d times", got)
	}
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{opt: Options{Backoff: time.Second, MaxBackoff: time.Minute}}
	for _, tc := range []struct {
		n        int
		low, top time.Duration
	}{
		{1, 800 * time.Millisecond, 1200 * time.Millisecond},
		{2, 1600 * time.Millisecond, 2400 * time.Millisecond},
		{4, 6400 * time.Millisecond, 9600 * time.Millisecond},
		{20, 48 * time.Second, 72 * time.Second},
	} {
		for range 50 {
			if w := d.backoff(tc.n); w < tc.low || w > tc.top {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.n, w, tc.low, tc.top)
			}
		}
	}
}

// TestCodesFirst: a code waits behind no slip: with one worker busy, the
// code handed over after three slips is sent before them.
func TestCodesFirst(t *testing.T) {
	w := newWorld(t)
	r, o := newReceiver(), &outcomes{n: map[string]int{}}
	r.hold, r.entered = make(chan struct{}), make(chan string, 10)
	d := w.dispatcherWith(t, r, o, 1)
	first := slip(0)
	w.turn(t, first.To, first)
	d.Deliver(first.To, []dialog.SMS{first})
	<-r.entered // the one worker is busy with it
	var later []dialog.SMS
	for i := 1; i <= 3; i++ {
		later = append(later, slip(i))
	}
	code := dialog.SMS{To: "+919876533333", Text: "code 654321", Ref: dialog.OTPRefPrefix + "3333-c"}
	later = append(later, code)
	for _, m := range later {
		w.turn(t, m.To, m)
		d.Deliver(m.To, []dialog.SMS{m})
	}
	for range 5 {
		r.hold <- struct{}{}
	}
	d.Drain()
	r.mu.Lock()
	defer r.mu.Unlock()
	want := []string{first.Ref, code.Ref, slip(1).Ref, slip(2).Ref, slip(3).Ref}
	if !slices.Equal(r.order, want) {
		t.Fatalf("sent in order %v, want %v", r.order, want)
	}
}

func TestBufferFor(t *testing.T) {
	tests := []struct {
		rate  float64
		lease time.Duration
		want  int
	}{
		{100, time.Minute, 1500},
		{1, time.Minute, 64},
		{100000, time.Minute, maxBuffer}, // not 1.5 million SMS held in memory
		{2000, 30 * time.Second, 4096},
	}
	for _, tt := range tests {
		if got := bufferFor(tt.rate, tt.lease); got != tt.want {
			t.Errorf("bufferFor(%v, %v) = %d, want %d", tt.rate, tt.lease, got, tt.want)
		}
	}
}
