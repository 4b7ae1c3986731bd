package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
	"github.com/tikasetu/tikasetu/providers/smpp/smpptest"
)

// counts is Options.Count for tests.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) count(outcome string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[outcome]++
	c.mu.Unlock()
}

func (c *counts) get(outcome string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[outcome]
}

// logCount counts log records by message.
type logCount struct {
	mu sync.Mutex
	m  map[string]int
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]int{}
	}
	l.m[r.Message]++
	l.mu.Unlock()
	return nil
}
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCount) WithGroup(string) slog.Handler      { return l }
func (l *logCount) get(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[msg]
}

// newSender starts a sender on srv with fast timings.
func newSender(t testing.TB, srv *smpptest.Server, password string, mod func(*Options)) (*Sender, *counts) {
	t.Helper()
	c := &counts{}
	opt := Options{
		Addr: srv.Addr(), SystemID: "tikasetu", Password: password, Source: "TKSETU",
		Logger: slog.New(slog.DiscardHandler), Count: c.count,
		EnquireLink: time.Second, BindTimeout: 2 * time.Second,
		RebindMin: 20 * time.Millisecond, RebindMax: 200 * time.Millisecond,
		ThrottleMin: 20 * time.Millisecond, ThrottleMax: 100 * time.Millisecond,
		BindWait: 200 * time.Millisecond, Rate: 1e6,
	}
	if mod != nil {
		mod(&opt)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// sendUntil sends m again after each temporary failure, like the queue.
func sendUntil(t testing.TB, s *Sender, m dialog.SMS) (failures []error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := s.Send(ctx, m)
		cancel()
		if err == nil {
			return failures
		}
		if isPermanent(err) {
			t.Fatalf("send %s: permanent error %v", m.Ref, err)
		}
		failures = append(failures, err)
		if time.Now().After(deadline) {
			t.Fatalf("send %s: still failing: %v", m.Ref, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBindRefusedThenAccepted(t *testing.T) {
	srv := smpptest.New(t, "right")
	logs := &logCount{}
	s, _ := newSender(t, srv, "wrong", func(o *Options) { o.Logger = slog.New(logs) })
	providertest.WaitFor(t, "two refused binds", func() bool { _, refused, _, _ := srv.Stats(); return refused >= 2 })

	err := s.Send(context.Background(), dialog.SMS{To: "+919876543210", Text: "Your code is 123456", Ref: "otp-1"})
	if err == nil || isPermanent(err) || !errors.Is(err, ErrNotBound) {
		t.Fatalf("send while the bind is refused: got %v, want a temporary ErrNotBound", err)
	}
	if strings.Contains(err.Error(), "9876543210") {
		t.Errorf("error carries the full number: %v", err)
	}

	srv.SetPassword("wrong") // the operator fixes it at the centre
	sendUntil(t, s, dialog.SMS{To: "+919876543210", Text: "Your code is 123456", Ref: "otp-1"})
	if got := srv.Received(); len(got) != 1 {
		t.Fatalf("centre got %d submits, want 1", len(got))
	}
	_, refused, _, _ := srv.Stats()
	// Each refusal is logged once, then waited out (no tight loop).
	if logged := logs.get("smpp bind failed; binding again later"); logged != refused {
		t.Errorf("logged %d bind failures for %d refused binds", logged, refused)
	}
}

// errDrop, as a decision of smpptest's centre, closes the connection
// instead of answering.
const errDrop = data.CommandStatusType(0xDEAD)

// TestSMSCRestart crashes the centre in the middle of traffic and starts
// it again on the same address: every message gets through by retrying,
// and only submits whose answer was lost with the connection can come
// twice.
func TestSMSCRestart(t *testing.T) {
	srv := smpptest.New(t, "pw")
	const n, workers = 300, 16
	var crashed atomic.Bool
	srv.SetDecide(func(_ *pdu.SubmitSM, i int) data.CommandStatusType {
		if i == n/3 && crashed.CompareAndSwap(false, true) {
			go func() {
				srv.Stop()
				time.Sleep(100 * time.Millisecond)
				srv.Restart()
			}()
			return errDrop
		}
		return data.ESME_ROK
	})
	s, _ := newSender(t, srv, "pw", func(o *Options) { o.Binds = 2 })
	providertest.WaitFor(t, "both binds", func() bool { return s.Bound() == 2 })

	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	retried := make([]int, n) // failed sends of each message, each retried
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f := sendUntil(t, s, dialog.SMS{To: "+919876543210", Text: fmt.Sprintf("slip %d", i), Ref: fmt.Sprintf("r%d", i)})
				failed.Add(int64(len(f)))
				retried[i] = len(f)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if !crashed.Load() {
		t.Fatal("the centre never crashed")
	}

	seen := map[string][]smpptest.Received{}
	for _, r := range srv.Received() {
		text, err := r.Text()
		if err != nil {
			t.Fatal(err)
		}
		seen[text] = append(seen[text], r)
	}
	dups, unanswered := 0, 0
	for i := range n {
		rs := seen[fmt.Sprintf("slip %d", i)]
		if len(rs) == 0 {
			t.Errorf("slip %d never reached the centre", i)
			continue
		}
		if len(rs) > 1 {
			dups += len(rs) - 1
			if !rs[0].Answered {
				unanswered++
			}
		}
		// A copy the sender submitted again follows a Send that failed
		// (the queue's retry): one it reported sent never goes twice.
		if len(rs) > 1+retried[i] {
			t.Errorf("slip %d reached the centre %d times after %d failed sends", i, len(rs), retried[i])
		}
	}
	t.Logf("%d messages, %d failed sends retried, %d duplicates at the centre (%d of them after a submit whose answer the centre never wrote; the rest after an answer written but lost with the connection)",
		n, failed.Load(), dups, unanswered)
	// A duplicate needs a submit in flight when the centre died: at most
	// the windows of the binds.
	if limit := 2 * 10; dups > limit {
		t.Errorf("%d duplicates, more than the %d submits that can be in flight", dups, limit)
	}
}

func TestThrottled(t *testing.T) {
	srv := smpptest.New(t, "pw")
	const k = 3
	srv.SetDecide(func(_ *pdu.SubmitSM, i int) data.CommandStatusType {
		if i < k {
			return data.ESME_RTHROTTLED
		}
		return data.ESME_ROK
	})
	s, c := newSender(t, srv, "pw", nil)
	failures := sendUntil(t, s, dialog.SMS{To: "9876543210", Text: "hello", Ref: "r1"})
	if len(failures) < k {
		t.Fatalf("%d failures, want at least %d", len(failures), k)
	}
	for _, err := range failures {
		if !errors.Is(err, ErrThrottled) && !errors.Is(err, ErrNotBound) {
			t.Errorf("failure %v, want ErrThrottled", err)
		}
	}
	if got := c.get("smpp_throttled"); got != k {
		t.Errorf("smpp_throttled counted %d, want %d", got, k)
	}
	sendUntil(t, s, dialog.SMS{To: "9876543210", Text: "hello again", Ref: "r2"})
}

func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    data.CommandStatusType
		permanent bool
	}{
		{data.ESME_RINVDSTADR, true},
		{data.ESME_RINVSRCADR, false},
		{data.ESME_RINVMSGLEN, true},
		{esmeRInvOptParamValue, false},
		{data.ESME_RSYSERR, false},
		{data.ESME_RSUBMITFAIL, false},
		{data.ESME_RMSGQFUL, false},
		{data.ESME_RTHROTTLED, false},
		{data.ESME_RINVBNDSTS, false},
	} {
		t.Run(fmt.Sprintf("0x%02X", uint32(tc.status)), func(t *testing.T) {
			srv := smpptest.New(t, "pw")
			srv.SetDecide(func(*pdu.SubmitSM, int) data.CommandStatusType { return tc.status })
			s, _ := newSender(t, srv, "pw", nil)
			providertest.WaitFor(t, "bind", func() bool { return s.Bound() == 1 })
			err := s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tc.status {
				t.Fatalf("got %v, want status 0x%02X", err, uint32(tc.status))
			}
			if isPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", isPermanent(err), tc.permanent, err)
			}
		})
	}
}

func TestRefusedRecipient(t *testing.T) {
	srv := smpptest.New(t, "pw")
	s, _ := newSender(t, srv, "pw", nil)
	err := s.Send(context.Background(), dialog.SMS{To: "12345", Text: "x", Ref: "r"})
	if !isPermanent(err) {
		t.Fatalf("malformed number: got %v, want a permanent error", err)
	}
}

// reassemble joins the parts of the message the centre received,
// checking each part on the way.
func reassemble(t *testing.T, rs []smpptest.Received) (text string, coding byte, parts int) {
	t.Helper()
	for _, r := range rs {
		sm := r.SM
		coding = sm.Message.Encoding().DataCoding()
		if sm.RegisteredDelivery != 1 {
			t.Errorf("registered_delivery %d, want 1", sm.RegisteredDelivery)
		}
		d, _ := sm.Message.GetMessageData()
		if pl, ok := sm.OptionalParameters[pdu.TagMessagePayload]; ok {
			if len(d) != 0 {
				t.Errorf("short_message of %d octets beside message_payload", len(d))
			}
			d = pl.Data
		}
		total, seq, _, ok := sm.Message.UDH().GetConcatInfo()
		if len(rs) > 1 {
			if !ok || int(total) != len(rs) || sm.EsmClass&data.SM_UDH_GSM == 0 {
				t.Fatalf("part without a concatenation UDH for %d parts: %v", len(rs), sm.Message.UDH())
			}
			max := gsmPart
			if coding == data.UCS2Coding {
				max = 2 * ucs2Part
			}
			if len(d) > max {
				t.Errorf("part %d has %d octets, more than %d", seq, len(d), max)
			}
		}
	}
	texts, err := smpptest.Texts(rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 1 {
		t.Fatalf("%d messages among the %d submits, want 1", len(texts), len(rs))
	}
	return texts[0], coding, len(rs)
}

var bengaliSlip = func() string {
	s := "টিকাসেতু: আপনার টিকার অ্যাপয়েন্টমেন্ট নিশ্চিত হয়েছে। নাম: সুমিতা দাস, কেন্দ্র: কলকাতা পৌরসভা স্বাস্থ্য কেন্দ্র ৭২, তারিখ ১২ জুন ২০২১, সময় সকাল ১০টা থেকে ১২টা, টিকা: কোভিশিল্ড প্রথম ডোজ। ছবিসহ পরিচয়পত্র সঙ্গে আনুন। বাতিল করতে *১২৩# ডায়াল করুন। ধন্যবাদ।"
	return s
}()

func TestLongMessages(t *testing.T) {
	english := strings.Repeat("Your appointment at Kolkata Municipal Health Centre 72 is confirmed for 12 Jun 2021, 10:00-12:00 {Covishield dose 1} costs 0 EUR/€. ", 3)
	for _, tc := range []struct {
		name       string
		text       string
		payload    bool
		wantCoding byte
		wantParts  int
	}{
		{"bengali parts", bengaliSlip, false, data.UCS2Coding, (len(utf16.Encode([]rune(bengaliSlip))) + ucs2Part - 1) / ucs2Part},
		{"bengali payload", bengaliSlip, true, data.UCS2Coding, 1},
		{"english parts", english, false, data.GSM7BITCoding, 3},
		{"english payload", english, true, data.GSM7BITCoding, 1},
		{"short bengali", "আপনার কোড ১২৩৪৫৬", false, data.UCS2Coding, 1},
		{"short english", "Your code is 123456", true, data.GSM7BITCoding, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smpptest.New(t, "pw")
			s, _ := newSender(t, srv, "pw", func(o *Options) { o.Payload = tc.payload })
			sendUntil(t, s, dialog.SMS{To: "+919876543210", Text: tc.text, Ref: "slip-1"})
			text, coding, parts := reassemble(t, srv.Received())
			if text != tc.text {
				t.Errorf("reassembled text differs:\n got %q\nwant %q", text, tc.text)
			}
			if coding != tc.wantCoding || parts != tc.wantParts {
				t.Errorf("data_coding %d in %d submits, want %d in %d", coding, parts, tc.wantCoding, tc.wantParts)
			}
		})
	}
	if n := len([]rune(bengaliSlip)); n < 230 || n > 270 {
		t.Errorf("the Bengali slip has %d characters; the test wants about 250", n)
	}
}

func TestSplit(t *testing.T) {
	gsm := func(s string) []int {
		b, err := data.GSM7BIT.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		var n []int
		for _, p := range splitGSM(b) {
			n = append(n, len(p))
		}
		return n
	}
	ucs := func(s string) []int {
		b, _ := data.UCS2.Encode(s)
		var n []int
		for _, p := range splitUCS2(b) {
			n = append(n, len(p)/2)
		}
		return n
	}
	a := strings.Repeat
	for _, tc := range []struct {
		name string
		got  []int
		want []int
	}{
		{"gsm 160 fits", gsm(a("a", 160)), []int{160}},
		{"gsm 161 splits", gsm(a("a", 161)), []int{153, 8}},
		{"gsm escape fits as two", gsm(a("a", 158) + "€"), []int{160}},
		{"gsm escape not cut", gsm(a("a", 152) + "€" + a("b", 10)), []int{152, 12}},
		{"gsm escape just fits", gsm(a("a", 151) + "€" + a("b", 10)), []int{153, 10}},
		{"ucs2 70 fits", ucs(a("অ", 70)), []int{70}},
		{"ucs2 71 splits", ucs(a("অ", 71)), []int{67, 4}},
		{"ucs2 surrogate pair not cut", ucs(a("অ", 66) + "💉" + a("অ", 10)), []int{66, 12}},
		{"ucs2 surrogate pair just fits", ucs(a("অ", 65) + "💉" + a("অ", 10)), []int{67, 10}},
	} {
		if fmt.Sprint(tc.got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: parts %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if concatRef("r1", "+919876543210") != concatRef("r1", "+919876543210") {
		t.Error("a retry must keep its concatenation reference")
	}
}

func TestTLVsOnTheWire(t *testing.T) {
	srv := smpptest.New(t, "pw")
	s, _ := newSender(t, srv, "pw", func(o *Options) { o.EntityID = "1101000000000000001" })
	sendUntil(t, s, dialog.SMS{To: "9876543210", Text: "Your code is 123456", Ref: "r1", TemplateID: "1107000000000000042"})
	sendUntil(t, s, dialog.SMS{To: "9876543210", Text: "Slip", Ref: "r2", EntityID: "1101999999999999999"})
	rs := srv.Received()
	if len(rs) != 2 {
		t.Fatalf("%d submits, want 2", len(rs))
	}
	tlv := func(r smpptest.Received, tag uint16) string {
		v, ok := r.TLV(tag)
		if !ok {
			return "<none>"
		}
		return string(v)
	}
	for i, tc := range []struct{ entity, template string }{
		{"1101000000000000001", "1107000000000000042"},
		{"1101999999999999999", "<none>"},
	} {
		sm := rs[i].SM
		if got := tlv(rs[i], 0x1400); got != tc.entity {
			t.Errorf("submit %d: TLV 0x1400 %q, want %q", i, got, tc.entity)
		}
		if got := tlv(rs[i], 0x1401); got != tc.template {
			t.Errorf("submit %d: TLV 0x1401 %q, want %q", i, got, tc.template)
		}
		if src := sm.SourceAddr; src.Address() != "TKSETU" || src.Ton() != 5 || src.Npi() != 0 {
			t.Errorf("submit %d: source %q TON %d NPI %d, want TKSETU 5 0", i, src.Address(), src.Ton(), src.Npi())
		}
		if dst := sm.DestAddr; dst.Address() != "919876543210" || dst.Ton() != 1 || dst.Npi() != 1 {
			t.Errorf("submit %d: destination %q TON %d NPI %d, want 919876543210 1 1", i, dst.Address(), dst.Ton(), dst.Npi())
		}
		if sm.RegisteredDelivery != 1 {
			t.Errorf("submit %d: registered_delivery %d, want 1", i, sm.RegisteredDelivery)
		}
	}
}

func TestReceipts(t *testing.T) {
	srv := smpptest.New(t, "pw")
	got := make(chan Receipt, 10)
	s, c := newSender(t, srv, "pw", func(o *Options) { o.OnReceipt = func(r Receipt) { got <- r } })
	sendUntil(t, s, dialog.SMS{To: "+919876543210", Text: "delivered one", Ref: "r1"})
	sendUntil(t, s, dialog.SMS{To: "9123456789", Text: "undelivered one", Ref: "r2"})
	sendUntil(t, s, dialog.SMS{To: "9000000001", Text: strings.Repeat("long ", 40), Ref: "r3"})
	rs := srv.Received() // in the order sent
	if len(rs) != 4 {
		t.Fatalf("%d submits, want 4 (the long text in 2 parts)", len(rs))
	}
	ids := map[string][]string{"delivered": {rs[0].ID}, "undelivered": {rs[1].ID}, "long": {rs[2].ID, rs[3].ID}}
	conn, err := srv.AnyConn()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id, stat, err string
		tlv           bool
	}{
		{ids["delivered"][0], "DELIVRD", "000", false},
		{ids["undelivered"][0], "UNDELIV", "001", true},
		{"unknown-id", "DELIVRD", "000", false},
		{ids["long"][0], "DELIVRD", "000", false},
		{ids["long"][1], "DELIVRD", "000", true},
	} {
		if err := conn.Receipt(r.id, r.stat, r.err, r.tlv); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]Receipt{
		"r1": {To: "+919876543210", Ref: "r1", Stat: StatDelivered, Err: "000"},
		"r2": {To: "+919123456789", Ref: "r2", Stat: StatUndelivered, Err: "001"},
		"r3": {To: "+919000000001", Ref: "r3", Stat: StatDelivered, Err: "000"},
	}
	for range len(want) {
		select {
		case r := <-got:
			w, ok := want[r.Ref]
			r.MessageID = ""
			if !ok || r != w {
				t.Errorf("receipt %+v, want %+v", r, w)
			}
			delete(want, r.Ref)
		case <-time.After(10 * time.Second):
			t.Fatalf("receipts missing: %v", want)
		}
	}
	providertest.WaitFor(t, "the unmatched receipt counted", func() bool { return c.get("smpp_receipt_unmatched") == 1 })
	providertest.WaitFor(t, "every deliver_sm answered", func() bool { _, _, _, n := srv.Stats(); return n == 5 })
	select {
	case r := <-got:
		t.Errorf("extra receipt %+v (one per message)", r)
	default:
	}
}

func TestParseReceipt(t *testing.T) {
	for _, tc := range []struct {
		name, text           string
		esm                  byte
		tlvID                string
		state                byte
		wantID, stat, errStr string
		ok                   bool
	}{
		{"text", "id:12345 sub:001 dlvrd:001 submit date:2105011200 done date:2105011201 stat:DELIVRD err:000 text:id:999 stat:REJECTD", 4, "", 0, "12345", "DELIVRD", "000", true},
		{"upper case keys", "ID:abc SUB:001 DLVRD:000 SUBMIT DATE:2105011200 DONE DATE:2105011201 STAT:UNDELIV ERR:034 TEXT:", 4, "", 0, "abc", "UNDELIV", "034", true},
		{"tlvs win", "id:1 stat:DELIVRD err:000", 4, "ff00", 8, "ff00", "REJECTD", "000", true},
		{"tlv only", "", 4, "77", 3, "77", "EXPIRED", "", true},
		{"odd stat", "id:5 stat:WEIRD err:1", 4, "", 0, "5", "UNKNOWN", "1", true},
		{"not a receipt", "hello", 0, "", 0, "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := pdu.NewDeliverSM().(*pdu.DeliverSM)
			d.EsmClass = tc.esm
			_ = d.Message.SetMessageDataWithEncoding([]byte(tc.text), data.ASCII)
			if tc.tlvID != "" {
				d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(tc.tlvID), 0)})
			}
			if tc.state != 0 {
				d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{tc.state}})
			}
			id, stat, errStr, ok := parseReceipt(d)
			if ok != tc.ok || id != tc.wantID || stat != tc.stat || errStr != tc.errStr {
				t.Errorf("got %q %q %q %v, want %q %q %q %v", id, stat, errStr, ok, tc.wantID, tc.stat, tc.errStr, tc.ok)
			}
		})
	}
	// An id given in hex in submit_sm_resp and in decimal in the receipt.
	b := newBook(10, time.Hour)
	tr := &tracker{ref: "r"}
	b.add("1a2b", tr)
	if got, _, ok := b.find("6699"); !ok || got != tr {
		t.Error("decimal receipt id not matched to the hex message id")
	}
}

func TestCloseUnbinds(t *testing.T) {
	srv := smpptest.New(t, "pw")
	s, _ := newSender(t, srv, "pw", nil)
	providertest.WaitFor(t, "bind", func() bool { return s.Bound() == 1 })
	s.Close()
	providertest.WaitFor(t, "unbind", func() bool { _, _, u, _ := srv.Stats(); return u == 1 })
	err := s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
	if err == nil || isPermanent(err) {
		t.Fatalf("send after close: %v, want a temporary error", err)
	}
}

// BenchmarkSubmit sends through one bind to the in-process centre, which
// answers every submit with a receipt at once.
func BenchmarkSubmit(b *testing.B) {
	for _, bc := range []struct {
		name string
		rate float64
	}{{"rate=100", 100}, {"rate=unlimited", 1e9}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := smpptest.New(b, "pw")
			srv.OnSubmit(func(c *smpptest.Conn, _ *pdu.SubmitSM, id string) { _ = c.Receipt(id, "DELIVRD", "000", false) })
			var receipts atomic.Int64
			s, _ := newSender(b, srv, "pw", func(o *Options) {
				o.Rate = bc.rate
				o.OnReceipt = func(Receipt) { receipts.Add(1) }
			})
			providertest.WaitFor(b, "bind", func() bool { return s.Bound() == 1 })
			var seq atomic.Int64
			b.SetParallelism(4) // enough senders to keep the window full
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					m := dialog.SMS{To: "+919876543210", Text: "Your code is 123456", Ref: fmt.Sprintf("r%d", i)}
					for s.Send(context.Background(), m) != nil {
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			providertest.WaitFor(b, "receipts", func() bool { return receipts.Load() == int64(b.N) })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "submits/s")
			b.ReportMetric(float64(receipts.Load())/float64(b.N), "receipts/msg")
		})
	}
}
