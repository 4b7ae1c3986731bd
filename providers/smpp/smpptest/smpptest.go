// Package smpptest is a small SMS centre for tests on gosmpp's PDU codec:
// it binds transceivers with one password, answers submit_sm through a
// decision the test sets, records what it received, sends delivery
// receipts, and can be stopped and started again on its address.
//
// fiorix/go-smpp's smpptest cannot refuse a bind with a status, close its
// connections or listen again on the same address, hence this.
package smpptest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// drop, as a decision, closes the connection instead of answering: the
// centre dies before its submit_sm_resp.
const drop = data.CommandStatusType(0xDEAD)

// Server is a running SMS centre.
type Server struct {
	t    testing.TB
	addr string

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*Conn]bool
	password string
	// decide answers a submit_sm: its status (0 accepts it). Called
	// with mu held.
	decide    func(sm *pdu.SubmitSM, n int) data.CommandStatusType
	onSubmit  func(c *Conn, sm *pdu.SubmitSM, id string) // after the answer, mu not held
	submits   []Received
	binds     int
	refused   int
	unbinds   int
	delivResp int
	nextID    int
}

// Received is one submit_sm the centre got.
type Received struct {
	SM       *pdu.SubmitSM
	ID       string // the message id given, "" when refused
	Answered bool   // its submit_sm_resp was written
}

// Conn is one connection to the centre.
type Conn struct {
	s     *Server
	nc    net.Conn
	wm    sync.Mutex
	bound bool // guarded by s.mu
}

// New starts a centre listening on 127.0.0.1:0 that binds with
// password; it is stopped at t.Cleanup.
func New(t testing.TB, password string) *Server {
	s := &Server{t: t, password: password, conns: map[*Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr is the address the centre listens on, host:port.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c := &Conn{s: s, nc: nc}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			go c.run()
		}
	}()
}

// Stop closes the listener and every connection, as a crash would.
func (s *Server) Stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	conns := s.conns
	s.conns = map[*Conn]bool{}
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for c := range conns {
		c.nc.Close()
	}
}

// Restart listens again on the same address, after Stop.
func (s *Server) Restart() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Errorf("listen again on %s: %v", s.addr, err)
		return
	}
	s.serve(ln)
}

// SetPassword changes the password later binds need.
func (s *Server) SetPassword(p string) {
	s.mu.Lock()
	s.password = p
	s.mu.Unlock()
}

// SetDecide sets the decision that answers each submit_sm: f gets the
// submit and how many the centre received before it, and returns the
// status of its submit_sm_resp (data.ESME_ROK accepts it and gives it a
// message id). The status 0xDEAD closes the connection instead of
// answering, as a centre dying before its answer would. f is called with
// the server's lock held: it must not call the Server's methods, though
// it may start a goroutine that does. Without a decision every submit is
// accepted.
func (s *Server) SetDecide(f func(sm *pdu.SubmitSM, n int) data.CommandStatusType) {
	s.mu.Lock()
	s.decide = f
	s.mu.Unlock()
}

// OnSubmit sets f to be called after each accepted submit_sm has been
// answered, with its connection and message id (to send a receipt, say).
func (s *Server) OnSubmit(f func(c *Conn, sm *pdu.SubmitSM, id string)) {
	s.mu.Lock()
	s.onSubmit = f
	s.mu.Unlock()
}

// Received returns the submits received so far, in the order received.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.submits...)
}

// Stats counts the binds accepted and refused, the unbinds, and the
// deliver_sm_resp received.
func (s *Server) Stats() (binds, refused, unbinds, delivResp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.binds, s.refused, s.unbinds, s.delivResp
}

func (c *Conn) write(p pdu.PDU) error {
	b := pdu.NewBuffer(nil)
	p.Marshal(b)
	c.wm.Lock()
	defer c.wm.Unlock()
	_, err := c.nc.Write(b.Bytes())
	return err
}

func (c *Conn) run() {
	s := c.s
	defer func() {
		c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	r := bufio.NewReader(c.nc)
	bound := false
	for {
		p, err := pdu.Parse(r)
		if err != nil {
			return
		}
		switch p := p.(type) {
		case *pdu.BindRequest:
			resp := pdu.NewBindResp(*p)
			resp.SystemID = "testsmsc"
			s.mu.Lock()
			ok := p.Password == s.password && p.BindingType == pdu.Transceiver
			if ok {
				s.binds++
				c.bound = true
			} else {
				s.refused++
				resp.CommandStatus = data.ESME_RINVPASWD
			}
			s.mu.Unlock()
			if c.write(resp) != nil || !ok {
				return
			}
			bound = true
		case *pdu.SubmitSM:
			if !bound {
				return
			}
			resp := p.GetResponse().(*pdu.SubmitSMResp)
			s.mu.Lock()
			n := len(s.submits)
			status := data.ESME_ROK
			if s.decide != nil {
				status = s.decide(p, n)
			}
			id := ""
			if status == data.ESME_ROK {
				s.nextID++
				id = fmt.Sprintf("m%d", s.nextID)
			}
			s.submits = append(s.submits, Received{SM: p, ID: id})
			onSubmit := s.onSubmit
			s.mu.Unlock()
			if status == drop {
				c.nc.Close() // the connection dies before the answer
				return
			}
			resp.CommandStatus = status
			resp.MessageID = id
			if c.write(resp) == nil {
				s.mu.Lock()
				s.submits[n].Answered = true
				s.mu.Unlock()
			}
			if onSubmit != nil && id != "" {
				onSubmit(c, p, id)
			}
		case *pdu.EnquireLink:
			_ = c.write(p.GetResponse())
		case *pdu.Unbind:
			s.mu.Lock()
			s.unbinds++
			s.mu.Unlock()
			_ = c.write(p.GetResponse())
			return
		case *pdu.DeliverSMResp:
			s.mu.Lock()
			s.delivResp++
			s.mu.Unlock()
		}
	}
}

// messageStates maps stat to the message_state TLV (SMPP 3.4 §5.2.28).
var messageStates = map[string]byte{
	"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4,
	"UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7, "REJECTD": 8,
}

// Receipt sends a delivery receipt for id over c: the standard text, and
// the receipted_message_id and message_state TLVs when tlv is set.
func (c *Conn) Receipt(id, stat, errCode string, tlv bool) error {
	d := pdu.NewDeliverSM().(*pdu.DeliverSM)
	d.EsmClass = data.SM_SMSC_DLV_RCPT_TYPE
	text := fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:2105011200 done date:2105011201 stat:%s err:%s text:Your slip", id, stat, errCode)
	if err := d.Message.SetMessageDataWithEncoding([]byte(text), data.ASCII); err != nil {
		return err
	}
	if tlv {
		d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(id), 0)})
		if k, ok := messageStates[stat]; ok {
			d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{k}})
		}
	}
	return c.write(d)
}

// AnyConn returns a bound connection, for sending receipts.
func (s *Server) AnyConn() (*Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.bound {
			return c, nil
		}
	}
	return nil, errors.New("smpptest: no bound connection")
}

// concat is a part's place in a concatenated message.
type concat struct {
	ref         int
	total, part int
}

// userData returns the submit's user data without any UDH (from
// message_payload when present, else short_message), and its
// concatenation information element, if any.
func (r Received) userData() (ud []byte, c concat, found bool, err error) {
	sm := r.SM
	if sm == nil {
		return nil, c, false, errors.New("smpptest: no submit_sm")
	}
	var udh pdu.UDH
	if pl, ok := sm.OptionalParameters[pdu.TagMessagePayload]; ok {
		ud = pl.Data
		if sm.EsmClass&data.SM_UDH_GSM != 0 {
			if len(ud) == 0 || 1+int(ud[0]) > len(ud) {
				return nil, c, false, errors.New("smpptest: message_payload shorter than its UDH")
			}
			if _, err := udh.UnmarshalBinary(ud); err != nil {
				return nil, c, false, fmt.Errorf("smpptest: UDH in message_payload: %w", err)
			}
			ud = ud[1+int(ud[0]):]
		}
	} else {
		ud, _ = sm.Message.GetMessageData()
		udh = sm.Message.UDH()
	}
	for _, ie := range udh {
		switch {
		case ie.ID == data.UDH_CONCAT_MSG_8_BIT_REF && len(ie.Data) == 3:
			return ud, concat{int(ie.Data[0]), int(ie.Data[1]), int(ie.Data[2])}, true, nil
		case ie.ID == data.UDH_CONCAT_MSG_16_BIT_REF && len(ie.Data) == 4:
			return ud, concat{int(ie.Data[0])<<8 | int(ie.Data[1]), int(ie.Data[2]), int(ie.Data[3])}, true, nil
		}
	}
	return ud, c, false, nil
}

// decode decodes ud in the submit's data_coding.
func (r Received) decode(ud []byte) (string, error) {
	enc := r.SM.Message.Encoding()
	if enc == nil {
		return "", errors.New("smpptest: unknown data_coding")
	}
	if len(ud) == 0 {
		return "", nil
	}
	return enc.Decode(ud)
}

// Text decodes the submit's short message or message_payload (GSM-7 for
// data_coding 0, UCS-2 for 8), without any UDH.
func (r Received) Text() (string, error) {
	ud, _, _, err := r.userData()
	if err != nil {
		return "", err
	}
	return r.decode(ud)
}

// TLV returns the value of an optional parameter (e.g. 0x1400, 0x1401),
// ok false when absent.
func (r Received) TLV(tag uint16) (value []byte, ok bool) {
	if r.SM == nil {
		return nil, false
	}
	f, ok := r.SM.OptionalParameters[pdu.Tag(tag)]
	return f.Data, ok
}

// Texts reassembles the concatenated parts among rs (by UDH reference and
// part number) and returns each whole message's text, in order of its
// first part. A submit without a concatenation UDH is a whole message.
// Parts belong together when they share the destination, reference and
// number of parts; a part goes to the earliest such message still
// lacking its number, so a message received twice gives its text twice.
// A message still missing parts at the end is an error.
func Texts(rs []Received) ([]string, error) {
	type key struct {
		to         string
		ref, total int
	}
	type msg struct {
		key   key
		parts map[int][]byte
		rec   Received // its first part, for the data_coding
		whole []byte   // a message without UDH
		multi bool
	}
	var msgs []*msg
	for i, r := range rs {
		ud, c, found, err := r.userData()
		if err != nil {
			return nil, fmt.Errorf("submit %d: %w", i, err)
		}
		if !found {
			msgs = append(msgs, &msg{rec: r, whole: ud})
			continue
		}
		if c.total == 0 || c.part < 1 || c.part > c.total {
			return nil, fmt.Errorf("smpptest: submit %d: part %d of %d", i, c.part, c.total)
		}
		k := key{to: r.SM.DestAddr.Address(), ref: c.ref, total: c.total}
		var m *msg
		for _, o := range msgs {
			if _, has := o.parts[c.part]; o.multi && o.key == k && !has {
				m = o
				break
			}
		}
		if m == nil {
			m = &msg{key: k, parts: map[int][]byte{}, rec: r, multi: true}
			msgs = append(msgs, m)
		}
		m.parts[c.part] = ud
	}
	texts := make([]string, 0, len(msgs))
	for _, m := range msgs {
		all := m.whole
		if m.multi {
			if len(m.parts) != m.key.total {
				return nil, fmt.Errorf("smpptest: message with reference %d to %s has %d of its %d parts", m.key.ref, m.key.to, len(m.parts), m.key.total)
			}
			nums := make([]int, 0, len(m.parts))
			for n := range m.parts {
				nums = append(nums, n)
			}
			sort.Ints(nums)
			for _, n := range nums {
				all = append(all, m.parts[n]...)
			}
		}
		text, err := m.rec.decode(all)
		if err != nil {
			return nil, err
		}
		texts = append(texts, text)
	}
	return texts, nil
}
