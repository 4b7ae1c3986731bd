// Package outbox is the in-process SMS sender of the embedded (demo) mode: it
// implements dialog.Sender by keeping the latest messages for each recipient
// in memory instead of handing them to an SMS centre, and serves them on
// GET /dev/outbox/:msisdn so that `tikasetu sim`, a browser or a test can read
// the OTP and the appointment slip a number "received".
//
// Memory is bounded per recipient and overall; nothing survives a restart.
// Logs carry the masked number and the text length only: the text may hold an
// OTP. The HTTP route exposes those texts to anyone who can reach it, so it
// belongs to the demo mode only, never to a production start.
package outbox

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
)

// Path is the route Register mounts.
const Path = "/dev/outbox/:msisdn"

// Defaults for Options.
const (
	DefaultPerRecipient = 50
	DefaultTotal        = 10000
)

// Options configures New. The zero value is usable.
type Options struct {
	PerRecipient int          // messages kept per recipient; 0 means DefaultPerRecipient
	Total        int          // messages kept overall, oldest dropped first; 0 means DefaultTotal
	Logger       *slog.Logger // nil means slog.Default()
	Now          func() time.Time
}

// Message is a delivered SMS with the time the outbox accepted it.
type Message struct {
	To   string    `json:"to"` // E.164
	Text string    `json:"text"`
	Ref  string    `json:"ref"`
	At   time.Time `json:"at"`
}

// Outbox is an in-memory dialog.Sender. It is safe for concurrent use.
type Outbox struct {
	per, total int
	log        *slog.Logger
	now        func() time.Time

	mu   sync.Mutex
	all  *list.List                 // every kept *Message, oldest first
	byTo map[string][]*list.Element // per recipient, oldest first
	seq  uint64                     // for refs the sender left empty
}

var _ dialog.Sender = (*Outbox)(nil)

// New returns an empty outbox.
func New(opt Options) *Outbox {
	if opt.PerRecipient <= 0 {
		opt.PerRecipient = DefaultPerRecipient
	}
	if opt.Total <= 0 {
		opt.Total = DefaultTotal
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Outbox{
		per:   opt.PerRecipient,
		total: opt.Total,
		log:   opt.Logger,
		now:   opt.Now,
		all:   list.New(),
		byTo:  make(map[string][]*list.Element),
	}
}

// Send stores m under its recipient (normalised to E.164). A message whose
// Ref is already held for that recipient is a retry and is stored once. An
// empty Ref is replaced by a generated one.
func (o *Outbox) Send(ctx context.Context, m dialog.SMS) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	to, err := dialog.NormaliseMsisdn(m.To)
	if err != nil {
		return fmt.Errorf("outbox: recipient %s: %w", dialog.MaskMsisdn(m.To), err)
	}

	o.mu.Lock()
	if m.Ref == "" {
		o.seq++
		m.Ref = "outbox-" + strconv.FormatUint(o.seq, 10)
	}
	dup := o.find(to, m.Ref) >= 0
	if !dup {
		o.add(&Message{To: to, Text: m.Text, Ref: m.Ref, At: o.now()})
	}
	o.mu.Unlock()

	o.log.Info("sms to outbox",
		slog.String("to", dialog.MaskMsisdn(to)),
		slog.Int("chars", utf8.RuneCountInString(m.Text)),
		slog.String("ref", m.Ref),
		slog.Bool("duplicate", dup),
	)
	return nil
}

// add appends msg and evicts what no longer fits. Callers hold o.mu.
func (o *Outbox) add(msg *Message) {
	els := append(o.byTo[msg.To], o.all.PushBack(msg))
	if len(els) > o.per {
		o.all.Remove(els[0])
		els = append(els[:0:0], els[1:]...) // fresh array: drop the evicted head
	}
	o.byTo[msg.To] = els
	for o.all.Len() > o.total {
		// The oldest message overall is the oldest of its recipient.
		old := o.all.Remove(o.all.Front()).(*Message)
		rest := o.byTo[old.To][1:]
		if len(rest) == 0 {
			delete(o.byTo, old.To)
		} else {
			o.byTo[old.To] = rest
		}
	}
}

// find returns the index of ref among to's messages, or -1. Callers hold o.mu.
func (o *Outbox) find(to, ref string) int {
	for i, e := range o.byTo[to] {
		if e.Value.(*Message).Ref == ref {
			return i
		}
	}
	return -1
}

// Messages returns the messages kept for to (any accepted form), oldest
// first; nil when there are none or to is not a valid number.
func (o *Outbox) Messages(to string) []dialog.SMS {
	n, err := dialog.NormaliseMsisdn(to)
	if err != nil {
		return nil
	}
	ms := o.after(n, "")
	if len(ms) == 0 {
		return nil
	}
	out := make([]dialog.SMS, len(ms))
	for i, m := range ms {
		out[i] = dialog.SMS{To: m.To, Text: m.Text, Ref: m.Ref}
	}
	return out
}

// after returns copies of to's messages that came after the one with ref,
// oldest first: all of them when ref is "" or no longer held (an evicted ref
// is older than everything kept).
func (o *Outbox) after(to, ref string) []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	els := o.byTo[to]
	if ref != "" {
		els = els[o.find(to, ref)+1:]
	}
	out := make([]Message, len(els))
	for i, e := range els {
		out[i] = *e.Value.(*Message)
	}
	return out
}

// Register mounts GET /dev/outbox/:msisdn on r. It answers
// {"messages":[{"to","text","ref","at"}…]}, oldest first; with ?after=<ref>
// only the messages after that ref, so a client can poll.
func (o *Outbox) Register(r gin.IRoutes) {
	r.GET(Path, o.serve)
}

func (o *Outbox) serve(c *gin.Context) {
	to, err := dialog.NormaliseMsisdn(c.Param("msisdn"))
	if err != nil {
		c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("not an Indian mobile number\n"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"messages": o.after(to, c.Query("after"))})
}
