package smpp

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// Receipt is the outcome the SMS centre reported for one message.
type Receipt struct {
	To  string // E.164, as sent
	Ref string // the message's Ref
	// Stat is DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN or
	// ACCEPTD. A message in parts gets one receipt: DELIVRD (or ACCEPTD)
	// once every part has been, or the first part's failure.
	Stat string
	Err  string // the receipt's err: field (network or SMSC error code), "" when none
	// MessageID is the SMS centre's id of the part the receipt is for.
	MessageID string
}

// Receipt states (the stat: field of the receipt text).
const (
	StatDelivered   = "DELIVRD"
	StatUndelivered = "UNDELIV"
	StatExpired     = "EXPIRED"
	StatRejected    = "REJECTD"
	StatDeleted     = "DELETED"
	StatUnknown     = "UNKNOWN"
	StatAccepted    = "ACCEPTD"
	statEnroute     = "ENROUTE" // intermediate: not reported
)

// messageStates maps the message_state TLV (SMPP 3.4 §5.2.28) to stat.
var messageStates = map[byte]string{
	1: statEnroute, 2: StatDelivered, 3: StatExpired, 4: StatDeleted,
	5: StatUndelivered, 6: StatAccepted, 7: StatUnknown, 8: StatRejected,
}

// normStat maps the spellings SMS centres use to the stat codes.
func normStat(s string) string {
	switch s = strings.ToUpper(strings.TrimSpace(s)); s {
	case StatDelivered, "DELIVERED":
		return StatDelivered
	case StatUndelivered, "UNDELIVERABLE", "UNDELIVERED":
		return StatUndelivered
	case StatExpired:
		return StatExpired
	case StatRejected, "REJECTED":
		return StatRejected
	case StatDeleted:
		return StatDeleted
	case StatAccepted, "ACCEPTED":
		return StatAccepted
	case statEnroute:
		return statEnroute
	}
	return StatUnknown
}

// parseReceipt reads a deliver_sm that carries a delivery receipt: the
// TLVs receipted_message_id and message_state when present, else the
// standard text "id:… sub:… dlvrd:… submit date:… done date:… stat:…
// err:… text:…". ok is false for a deliver_sm that is no receipt (an
// incoming message) or has no id.
func parseReceipt(d *pdu.DeliverSM) (id, stat, errCode string, ok bool) {
	tlvID, hasID := d.OptionalParameters[pdu.TagReceiptedMessageID]
	state, hasState := d.OptionalParameters[pdu.TagMessageStateOption]
	if d.EsmClass&data.SM_SMSC_DLV_RCPT_TYPE == 0 && !hasID {
		return "", "", "", false
	}
	raw, _ := d.Message.GetMessageData()
	text := string(raw)
	if i := strings.Index(strings.ToLower(text), " text:"); i >= 0 {
		text = text[:i] // the start of the message itself: never read
	}
	id = receiptField(text, "id:")
	stat = receiptField(text, "stat:")
	errCode = receiptField(text, "err:")
	if hasID {
		id = strings.TrimRight(string(tlvID.Data), "\x00")
	}
	if hasState && len(state.Data) == 1 {
		if s, known := messageStates[state.Data[0]]; known {
			stat = s
		}
	}
	if errCode == "" {
		if nec, has := d.OptionalParameters[pdu.TagNetworkErrorCode]; has && len(nec.Data) == 3 {
			// network type, then a 2-octet code
			errCode = strconv.Itoa(int(nec.Data[1])<<8 | int(nec.Data[2]))
		}
	}
	if id == "" {
		return "", "", "", false
	}
	return id, normStat(stat), errCode, true
}

// receiptField is the value after key (at the start of text or after a
// space) up to the next space.
func receiptField(text, key string) string {
	lower := strings.ToLower(text)
	for from := 0; ; {
		i := strings.Index(lower[from:], key)
		if i < 0 {
			return ""
		}
		i += from
		if i == 0 || lower[i-1] == ' ' {
			v := text[i+len(key):]
			if j := strings.IndexByte(v, ' '); j >= 0 {
				v = v[:j]
			}
			return v
		}
		from = i + len(key)
	}
}

// idForms are the spellings of a message id an SMS centre may use in its
// receipts for the id it gave in submit_sm_resp: many give a hex id in the
// response and its decimal value in the receipt, or the other way round.
func idForms(id string) []string {
	forms := []string{id}
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		forms = append(forms, strconv.FormatUint(n, 16), strings.ToUpper(strconv.FormatUint(n, 16)))
	}
	if n, err := strconv.ParseUint(id, 16, 64); err == nil {
		forms = append(forms, strconv.FormatUint(n, 10))
	}
	return forms
}

// tracker follows one Send's message from its submits to its receipt.
type tracker struct {
	to, ref string
	parts   int

	mu       sync.Mutex
	state    int // trackPending until Send settles it
	done     map[string]bool
	reported bool
	early    []Receipt // receipts that came before Send returned
}

const (
	trackPending = iota
	trackSent
	trackFailed
)

// apply counts r against the message and returns the receipt to report,
// if this one completes it. t.mu is held.
func (t *tracker) apply(r Receipt) (Receipt, bool) {
	if t.reported || r.Stat == statEnroute {
		return Receipt{}, false
	}
	if r.Stat != StatDelivered && r.Stat != StatAccepted {
		t.reported = true // the first failure stands for the message
		return r, true
	}
	if t.done == nil {
		t.done = make(map[string]bool, t.parts)
	}
	t.done[r.MessageID] = true
	if len(t.done) < t.parts {
		return Receipt{}, false
	}
	t.reported = true
	return r, true
}

// book maps the SMS centre's message ids to their messages, for receipts:
// bounded in size (least recently used go first) and in age.
type book struct {
	ttl time.Duration
	mu  sync.Mutex
	lru *simplelru.LRU[string, entry]
}

type entry struct {
	t     *tracker
	added time.Time
}

func newBook(size int, ttl time.Duration) *book {
	l, _ := simplelru.NewLRU[string, entry](size, nil) // size > 0: no error
	return &book{ttl: ttl, lru: l}
}

func (b *book) add(id string, t *tracker) {
	b.mu.Lock()
	b.lru.Add(id, entry{t: t, added: time.Now()})
	b.mu.Unlock()
}

// find returns the message of a receipt's id, trying its other spellings.
func (b *book) find(id string) (*tracker, string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range idForms(id) {
		e, ok := b.lru.Peek(f)
		if !ok {
			continue
		}
		if time.Since(e.added) > b.ttl {
			b.lru.Remove(f)
			continue
		}
		return e.t, f, true
	}
	return nil, "", false
}

func (b *book) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}
