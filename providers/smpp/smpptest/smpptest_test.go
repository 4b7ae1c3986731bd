package smpptest_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/tikasetu/tikasetu/providers/internal/providertest"
	"github.com/tikasetu/tikasetu/providers/smpp/smpptest"
)

// client is an ESME speaking raw PDUs.
type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, nc: nc, r: bufio.NewReader(nc)}
}

func (c *client) send(p pdu.PDU) {
	c.t.Helper()
	b := pdu.NewBuffer(nil)
	p.Marshal(b)
	if _, err := c.nc.Write(b.Bytes()); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() (pdu.PDU, error) { return pdu.Parse(c.r) }

func (c *client) bind(password string) *pdu.BindResp {
	c.t.Helper()
	b := pdu.NewBindRequest(pdu.Transceiver)
	b.SystemID, b.Password = "esme", password
	c.send(b)
	p, err := c.read()
	if err != nil {
		c.t.Fatalf("bind_transceiver_resp: %v", err)
	}
	resp, ok := p.(*pdu.BindResp)
	if !ok {
		c.t.Fatalf("got %T, want a bind_transceiver_resp", p)
	}
	return resp
}

func submit(t *testing.T, to, text string) *pdu.SubmitSM {
	t.Helper()
	sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
	if err := sm.DestAddr.SetAddress(to); err != nil {
		t.Fatal(err)
	}
	if err := sm.Message.SetMessageWithEncoding(text, data.GSM7BIT); err != nil {
		t.Fatal(err)
	}
	return sm
}

func TestBindSubmitReceipt(t *testing.T) {
	srv := smpptest.New(t, "right")

	wrong := dial(t, srv.Addr())
	if resp := wrong.bind("wrong"); resp.CommandStatus != data.ESME_RINVPASWD {
		t.Errorf("bind with the wrong password: status %v, want ESME_RINVPASWD", resp.CommandStatus)
	}
	if _, err := wrong.read(); err == nil {
		t.Error("the connection stays open after a refused bind")
	}

	c := dial(t, srv.Addr())
	if resp := c.bind("right"); resp.CommandStatus != data.ESME_ROK || resp.SystemID != "testsmsc" {
		t.Fatalf("bind with the right password: status %v, system id %q", resp.CommandStatus, resp.SystemID)
	}
	srv.SetDecide(func(_ *pdu.SubmitSM, n int) data.CommandStatusType {
		if n == 1 {
			return data.ESME_RTHROTTLED
		}
		return data.ESME_ROK
	})
	var ids []string
	for _, text := range []string{"first", "second"} {
		c.send(submit(t, "919876543210", text))
		p, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		resp := p.(*pdu.SubmitSMResp)
		ids = append(ids, resp.MessageID)
		if want := map[string]data.CommandStatusType{"first": data.ESME_ROK, "second": data.ESME_RTHROTTLED}[text]; resp.CommandStatus != want {
			t.Errorf("%s: status %v, want %v", text, resp.CommandStatus, want)
		}
	}
	if ids[0] == "" || ids[1] != "" {
		t.Errorf("message ids %q, want one for the accepted submit only", ids)
	}
	providertest.WaitFor(t, "both answers recorded", func() bool {
		rs := srv.Received()
		return len(rs) == 2 && rs[0].Answered && rs[1].Answered
	})
	rs := srv.Received()
	if rs[0].ID != ids[0] || rs[1].ID != "" {
		t.Errorf("recorded ids %q %q, want %q and none", rs[0].ID, rs[1].ID, ids[0])
	}
	if text, err := rs[1].Text(); err != nil || text != "second" {
		t.Errorf("second submit's text %q, %v", text, err)
	}

	conn, err := srv.AnyConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Receipt(ids[0], "UNDELIV", "001", true); err != nil {
		t.Fatal(err)
	}
	p, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	d, ok := p.(*pdu.DeliverSM)
	if !ok {
		t.Fatalf("got %T, want a deliver_sm", p)
	}
	text, _ := d.Message.GetMessage()
	if d.EsmClass&data.SM_SMSC_DLV_RCPT_TYPE == 0 || !strings.HasPrefix(text, "id:"+ids[0]+" ") || !strings.Contains(text, "stat:UNDELIV err:001") {
		t.Errorf("receipt esm_class %#x text %q", d.EsmClass, text)
	}
	if f := d.OptionalParameters[pdu.TagReceiptedMessageID]; string(f.Data) != ids[0]+"\x00" {
		t.Errorf("receipted_message_id %q", f.Data)
	}
	if f := d.OptionalParameters[pdu.TagMessageStateOption]; len(f.Data) != 1 || f.Data[0] != 5 {
		t.Errorf("message_state %v, want 5", f.Data)
	}
	c.send(d.GetResponse())

	c.send(pdu.NewUnbind())
	if p, err := c.read(); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*pdu.UnbindResp); !ok {
		t.Fatalf("got %T, want an unbind_resp", p)
	}
	providertest.WaitFor(t, "the counts", func() bool {
		binds, refused, unbinds, delivResp := srv.Stats()
		return binds == 1 && refused == 1 && unbinds == 1 && delivResp == 1
	})
	if _, err := srv.AnyConn(); err == nil {
		t.Error("a bound connection after the unbind")
	}
}

func TestStopRestart(t *testing.T) {
	srv := smpptest.New(t, "pw")
	c := dial(t, srv.Addr())
	if resp := c.bind("pw"); resp.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind: %v", resp.CommandStatus)
	}
	srv.Stop()
	if _, err := c.read(); err == nil {
		t.Error("the connection survived Stop")
	}
	if nc, err := net.Dial("tcp", srv.Addr()); err == nil {
		nc.Close()
		t.Error("the centre still listens after Stop")
	}
	srv.Restart()
	srv.SetPassword("new")
	if resp := dial(t, srv.Addr()).bind("pw"); resp.CommandStatus != data.ESME_RINVPASWD {
		t.Errorf("bind with the old password: %v", resp.CommandStatus)
	}
	c = dial(t, srv.Addr())
	if resp := c.bind("new"); resp.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind with the new password after Restart: %v", resp.CommandStatus)
	}

	// 0xDEAD drops the connection instead of answering; OnSubmit sees
	// accepted submits after their answer.
	got := make(chan string, 1)
	srv.OnSubmit(func(_ *smpptest.Conn, _ *pdu.SubmitSM, id string) { got <- id })
	srv.SetDecide(func(*pdu.SubmitSM, int) data.CommandStatusType { return 0xDEAD })
	c.send(submit(t, "919876543210", "lost"))
	if p, err := c.read(); err == nil {
		t.Fatalf("got %T, want the connection closed", p)
	}
	srv.SetDecide(nil)
	c = dial(t, srv.Addr())
	if resp := c.bind("new"); resp.CommandStatus != data.ESME_ROK {
		t.Fatalf("bind again: %v", resp.CommandStatus)
	}
	c.send(submit(t, "919876543210", "kept"))
	if _, err := c.read(); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id == "" {
			t.Error("OnSubmit without a message id")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnSubmit not called")
	}
	rs := srv.Received()
	if len(rs) != 2 || rs[0].Answered || rs[0].ID != "" {
		t.Errorf("received %+v, want the dropped submit unanswered, then the kept one", rs)
	}
}

// parsed marshals p and parses it back, as the centre receives it.
func parsed(t *testing.T, sm *pdu.SubmitSM) smpptest.Received {
	t.Helper()
	b := pdu.NewBuffer(nil)
	sm.Marshal(b)
	p, err := pdu.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return smpptest.Received{SM: p.(*pdu.SubmitSM)}
}

// crafted is a submit of text in enc to to, the UDH ies before it, in
// message_payload when payload is set.
func crafted(t *testing.T, to, text string, enc data.Encoding, payload bool, ies ...pdu.InfoElement) smpptest.Received {
	t.Helper()
	sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
	_ = sm.DestAddr.SetAddress(to)
	ud, err := enc.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ies) > 0 {
		sm.EsmClass |= data.SM_UDH_GSM
	}
	if payload {
		if len(ies) > 0 {
			udh, _ := pdu.UDH(ies).MarshalBinary()
			ud = append(udh, ud...)
		}
		_ = sm.Message.SetMessageDataWithEncoding(nil, enc)
		sm.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: ud})
	} else {
		if err := sm.Message.SetMessageDataWithEncoding(ud, enc); err != nil {
			t.Fatal(err)
		}
		if len(ies) > 0 {
			sm.Message.SetUDH(pdu.UDH(ies))
		}
	}
	return parsed(t, sm)
}

func part8(ref, total, n byte) pdu.InfoElement { return pdu.NewIEConcatMessage(total, n, ref) }

func part16(ref uint16, total, n byte) pdu.InfoElement {
	return pdu.InfoElement{ID: data.UDH_CONCAT_MSG_16_BIT_REF, Data: []byte{byte(ref >> 8), byte(ref), total, n}}
}

func TestTextAndTLV(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		enc        data.Encoding
		payload    bool
		ies        []pdu.InfoElement
	}{
		{"gsm", "Your code is 123456 {€}", data.GSM7BIT, false, nil},
		{"ucs2", "আপনার কোড ১২৩৪৫৬ 💉", data.UCS2, false, nil},
		{"gsm part", "part one [of two]", data.GSM7BIT, false, []pdu.InfoElement{part8(7, 2, 1)}},
		{"ucs2 payload", strings.Repeat("টিকাসেতু ", 40), data.UCS2, true, nil},
		{"gsm payload with udh", "in the payload ~", data.GSM7BIT, true, []pdu.InfoElement{part16(0x1234, 3, 2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := crafted(t, "919876543210", tc.text, tc.enc, tc.payload, tc.ies...)
			if got, err := r.Text(); err != nil || got != tc.text {
				t.Errorf("Text() = %q, %v; want %q", got, err, tc.text)
			}
		})
	}

	sm := submit(t, "919876543210", "x")
	sm.RegisterOptionalParam(pdu.Field{Tag: 0x1400, Data: []byte("1101000000000000001")})
	r := parsed(t, sm)
	if v, ok := r.TLV(0x1400); !ok || string(v) != "1101000000000000001" {
		t.Errorf("TLV(0x1400) = %q, %v", v, ok)
	}
	if v, ok := r.TLV(0x1401); ok {
		t.Errorf("TLV(0x1401) = %q, present", v)
	}
}

func TestTexts(t *testing.T) {
	gsm, ucs := data.GSM7BIT, data.UCS2
	rs := []smpptest.Received{
		crafted(t, "919876543210", "Hello ", gsm, false, part8(9, 3, 1)),
		crafted(t, "919000000001", "আপনার ", ucs, false, part16(0x0102, 2, 2)),
		crafted(t, "919876543210", "single", gsm, false),
		crafted(t, "919876543210", "!", gsm, false, part8(9, 3, 3)),
		crafted(t, "919000000001", "কোড ", ucs, false, part16(0x0102, 2, 1)),
		crafted(t, "919876543210", "world", gsm, true, part8(9, 3, 2)),
		// same reference, another recipient: another message
		crafted(t, "919111111111", "other", gsm, false, part8(9, 1, 1)),
		// the first message again, whole
		crafted(t, "919876543210", "Hello ", gsm, false, part8(9, 3, 1)),
		crafted(t, "919876543210", "world", gsm, false, part8(9, 3, 2)),
		crafted(t, "919876543210", "!", gsm, false, part8(9, 3, 3)),
	}
	got, err := smpptest.Texts(rs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Hello world!", "কোড আপনার ", "single", "other", "Hello world!"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Texts = %q, want %q", got, want)
	}

	if _, err := smpptest.Texts(rs[:5]); err == nil || !strings.Contains(err.Error(), "2 of its 3 parts") {
		t.Errorf("a missing part: err %v", err)
	}
	if got, err := smpptest.Texts(nil); err != nil || len(got) != 0 {
		t.Errorf("Texts(nil) = %q, %v", got, err)
	}
}
