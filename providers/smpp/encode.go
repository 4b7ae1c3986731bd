package smpp

import (
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/tikasetu/tikasetu/dialog"
)

// Segment sizes (GSM 03.40): a single message holds 140 octets, which is
// 160 GSM-7 septets or 70 UCS-2 code units; a part of a concatenated
// message gives 6 octets to its UDH, leaving 153 septets or 67 code units.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
	maxParts   = 255
	escGSM     = 0x1B // GSM-7 escape: the next septet is from the extension table
)

// errTooLong refuses a text that needs more than 255 parts.
var errTooLong = errors.New("text too long for a concatenated SMS")

// encoded is a text ready for submit_sm: its data coding, the whole body
// (for message_payload) and the body cut into parts (one when it fits a
// single message).
type encoded struct {
	enc   data.Encoding
	body  []byte
	parts [][]byte
}

// encodeText encodes text as GSM-7 (unpacked septets, data_coding 0) when
// every character is in the GSM 03.38 alphabet or its extension table, as
// UCS-2 (data_coding 8) otherwise, and cuts it into parts.
func encodeText(text string) (encoded, error) {
	if !dialog.NeedsUCS2(text) {
		if b, err := data.GSM7BIT.Encode(text); err == nil {
			parts := splitGSM(b)
			if len(parts) > maxParts {
				return encoded{}, errTooLong
			}
			return encoded{enc: data.GSM7BIT, body: b, parts: parts}, nil
		}
		// The tables agree today; should they not, UCS-2 carries anything.
	}
	b, err := data.UCS2.Encode(text)
	if err != nil {
		return encoded{}, fmt.Errorf("encode as UCS-2: %w", err)
	}
	parts := splitUCS2(b)
	if len(parts) > maxParts {
		return encoded{}, errTooLong
	}
	return encoded{enc: data.UCS2, body: b, parts: parts}, nil
}

// splitGSM cuts unpacked septets into parts of at most 153 (or one of at
// most 160), never between an escape and the septet it announces.
func splitGSM(b []byte) [][]byte {
	if len(b) <= gsmSingle {
		return [][]byte{b}
	}
	var parts [][]byte
	for len(b) > 0 {
		n := min(gsmPart, len(b))
		if n < len(b) && escapeOpen(b[:n]) {
			n-- // the escape goes with its character into the next part
		}
		parts = append(parts, b[:n])
		b = b[n:]
	}
	return parts
}

// escapeOpen reports whether b ends with an escape septet that has not yet
// been followed by its character.
func escapeOpen(b []byte) bool {
	open := false
	for _, c := range b {
		open = !open && c == escGSM
	}
	return open
}

// splitUCS2 cuts big-endian UTF-16 into parts of at most 67 code units (or
// one of at most 70), never between the two halves of a surrogate pair.
func splitUCS2(b []byte) [][]byte {
	if len(b) <= 2*ucs2Single {
		return [][]byte{b}
	}
	var parts [][]byte
	for len(b) > 0 {
		n := min(2*ucs2Part, len(b))
		if n < len(b) && isHighSurrogate(b[n-2], b[n-1]) {
			n -= 2
		}
		parts = append(parts, b[:n])
		b = b[n:]
	}
	return parts
}

func isHighSurrogate(hi, lo byte) bool {
	u := uint16(hi)<<8 | uint16(lo)
	return u >= 0xD800 && u <= 0xDBFF
}

// concatRef is the 8-bit reference shared by a message's parts. It is
// derived from the message's ref and number, so that a retry of the same
// message carries the same reference: a handset that kept some parts of an
// earlier attempt may then complete the message with the new ones.
func concatRef(ref, to string) byte {
	h := fnv.New32a()
	h.Write([]byte(ref))
	h.Write([]byte{0})
	h.Write([]byte(to))
	return byte(h.Sum32())
}

// submitSpec is what the PDUs of one message share.
type submitSpec struct {
	source     string // alphanumeric header (TON 5, NPI 0)
	dest       string // international number without '+' (TON 1, NPI 1)
	entityID   string
	templateID string
	payload    bool
	ref        byte
}

// DLT TLVs (TRAI's SMPP profile for India).
const (
	tagEntityID   pdu.Tag = 0x1400
	tagTemplateID pdu.Tag = 0x1401
)

// TON and NPI of the addresses.
const (
	tonInternational = 1
	tonAlphanumeric  = 5
	npiISDN          = 1
	npiUnknown       = 0
)

// buildSubmits makes the submit_sm PDUs of one message: one when the text
// fits a single message or travels in message_payload, otherwise one per
// part with the concatenation UDH. Each has its own sequence number and
// asks for a delivery receipt.
func buildSubmits(e encoded, sp submitSpec) ([]*pdu.SubmitSM, error) {
	src, err := pdu.NewAddressWithTonNpiAddr(tonAlphanumeric, npiUnknown, sp.source)
	if err != nil {
		return nil, fmt.Errorf("source address: %w", err)
	}
	dst, err := pdu.NewAddressWithTonNpiAddr(tonInternational, npiISDN, sp.dest)
	if err != nil {
		return nil, fmt.Errorf("destination address: %w", err)
	}
	newSM := func() *pdu.SubmitSM {
		sm := pdu.NewSubmitSM().(*pdu.SubmitSM)
		sm.SourceAddr = src
		sm.DestAddr = dst
		sm.RegisteredDelivery = 1 // final receipt, success or failure
		if sp.entityID != "" {
			sm.RegisterOptionalParam(pdu.Field{Tag: tagEntityID, Data: []byte(sp.entityID)})
		}
		if sp.templateID != "" {
			sm.RegisterOptionalParam(pdu.Field{Tag: tagTemplateID, Data: []byte(sp.templateID)})
		}
		return sm
	}

	if sp.payload || len(e.parts) == 1 {
		sm := newSM()
		body := e.body
		if sp.payload && len(e.parts) > 1 {
			// The whole text in message_payload, short_message empty.
			sm.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: body})
			body = nil
		}
		if err := sm.Message.SetMessageDataWithEncoding(body, e.enc); err != nil {
			return nil, fmt.Errorf("short message: %w", err)
		}
		return []*pdu.SubmitSM{sm}, nil
	}

	sms := make([]*pdu.SubmitSM, 0, len(e.parts))
	for i, part := range e.parts {
		sm := newSM()
		sm.EsmClass |= data.SM_UDH_GSM
		if err := sm.Message.SetMessageDataWithEncoding(part, e.enc); err != nil {
			return nil, fmt.Errorf("part %d: %w", i+1, err)
		}
		sm.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(byte(len(e.parts)), byte(i+1), sp.ref)})
		sms = append(sms, sm)
	}
	return sms, nil
}
