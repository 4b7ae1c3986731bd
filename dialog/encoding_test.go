package dialog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// viaJSON is what the JSON of earlier versions gives back for c.
func viaJSON(t testing.TB, c *Conversation) *Conversation {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var d Conversation
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func viaBinary(t testing.TB, c *Conversation) *Conversation {
	t.Helper()
	b, err := c.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeConversation(string(b))
	if err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return d
}

// filled is a conversation with every field set to a value of its own.
func filled(t testing.TB) *Conversation {
	var c Conversation
	n := 0
	fill(t, reflect.ValueOf(&c).Elem(), &n)
	c.Version = 0 // kept by the store, beside the conversation
	return &c
}

func TestConversationBinaryMatchesJSON(t *testing.T) {
	at := time.Date(2021, 4, 28, 16, 0, 0, 123456789, IST)
	for _, tc := range []struct {
		name string
		conv func(t *testing.T) *Conversation
	}{
		{"zero", func(*testing.T) *Conversation { return &Conversation{} }},
		{"every field", func(t *testing.T) *Conversation { return filled(t) }},
		{"times in IST", func(t *testing.T) *Conversation {
			c := filled(t)
			c.Updated, c.Snapshot.Appointments[0].Date, c.Snapshot.Beneficiaries[1].Created = at, at, at
			return c
		}},
		{"times in UTC, another zone and zero", func(t *testing.T) *Conversation {
			c := filled(t)
			c.Updated = at.UTC()
			c.Snapshot.Appointments[0].Date = at.In(time.FixedZone("EDT", -4*3600))
			c.Snapshot.Appointments[1].Booked = time.Time{}
			return c
		}},
		{"empty lists and account", func(*testing.T) *Conversation {
			return &Conversation{Msisdn: "+919800000001", State: "home", Snapshot: &Account{Beneficiaries: []Beneficiary{}},
				Booking: Booking{Who: []string{}, Centres: []string{""}}, Page: -1, Draft: Draft{BirthYear: 1961}}
		}},
		{"Indic text and long notice", func(*testing.T) *Conversation {
			return &Conversation{State: "pin", Lang: "bn", Notice: strings.Repeat("টিকা নিন। ", 40), Draft: Draft{Name: "অমিত রায়"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.conv(t)
			want := viaJSON(t, c)
			got := viaBinary(t, c)
			// JSON has no replies; the binary form keeps them.
			if !reflect.DeepEqual(got.Replies, c.Replies) {
				t.Errorf("replies %+v, want %+v", got.Replies, c.Replies)
			}
			want.Replies = got.Replies
			if !reflect.DeepEqual(got, want) {
				t.Errorf("binary round trip\n got %+v\nwant %+v (the JSON round trip)", got, want)
			}
			want.Replies = nil
			// What the JSON of an earlier version holds reads as it did.
			js, _ := json.Marshal(c)
			if got, err := DecodeConversation(string(js)); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("decode JSON = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

func TestConversationBinaryKeepsEveryField(t *testing.T) {
	c := filled(t)
	c.Updated = c.Updated.UTC()
	for i := range c.Snapshot.Beneficiaries {
		c.Snapshot.Beneficiaries[i].Created = c.Snapshot.Beneficiaries[i].Created.UTC()
	}
	for i := range c.Snapshot.Appointments {
		a := &c.Snapshot.Appointments[i]
		a.Date, a.Booked = a.Date.UTC(), a.Booked.UTC()
	}
	if got := viaBinary(t, c); !reflect.DeepEqual(got, c) {
		t.Errorf("binary round trip\n got %+v\nwant %+v", got, c)
	}
}

func TestDecodeConversationRejects(t *testing.T) {
	good, _ := filled(t).AppendBinary(nil)
	bad := map[string][]byte{
		"empty":          nil,
		"unknown format": append([]byte{9}, good[1:]...),
		"another format": append([]byte{2}, good[1:]...),
		"trailing bytes": append(append([]byte{}, good...), 0),
		"bad JSON":       []byte(`{"state":`),
		"huge length":    {convFormat, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for n := 1; n < len(good); n++ {
		bad[fmt.Sprintf("cut at %d", n)] = good[:n]
	}
	for name, b := range bad {
		if c, err := DecodeConversation(string(b)); err == nil {
			t.Errorf("%s: decoded %+v, want an error", name, c)
		}
	}
}

// FuzzDecodeConversation: no input panics the decoder, and what it accepts
// writes back and reads again unchanged.
func FuzzDecodeConversation(f *testing.F) {
	c := &Conversation{Msisdn: "+919800000001", State: "confirm_book", Lang: "hi", Channel: USSD,
		Snapshot: &Account{Msisdn: "+919800000001", Beneficiaries: []Beneficiary{{Ref: "12345678901234", Name: "Asha", BirthYear: 1980}}},
		Booking:  Booking{Who: []string{"12345678901234"}, Pin: "110001", Centres: []string{"1", "2"}},
		Updated:  time.Date(2021, 4, 28, 16, 0, 0, 0, IST)}
	b, _ := c.AppendBinary(nil)
	f.Add(b)
	js, _ := json.Marshal(c)
	f.Add(js)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeConversation(string(data))
		if err != nil || data[0] == '{' {
			return
		}
		if again := viaBinary(t, c); !reflect.DeepEqual(again, c) {
			t.Errorf("second round trip\n got %+v\nwant %+v", again, c)
		}
	})
}

func BenchmarkConversationEncoding(b *testing.B) {
	c := filled(b)
	js, _ := json.Marshal(c)
	bin, _ := c.AppendBinary(nil)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			out, _ := json.Marshal(c)
			var d Conversation
			_ = json.Unmarshal(out, &d)
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			out, _ := c.AppendBinary(nil)
			_, _ = DecodeConversation(string(out))
		}
		b.ReportMetric(float64(len(bin)), "bytes")
	})
}

func TestReaderNumbers(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 300, -300, math.MaxInt32, math.MinInt64, math.MaxInt64} {
		b := binary.AppendVarint(nil, v)
		b = binary.AppendUvarint(b, uint64(v))
		r := reader{s: string(b)}
		if got, gotU := r.varint(), r.uvarint(); got != v || gotU != uint64(v) || r.done() != nil {
			t.Errorf("read %d back as %d and %d (%v)", v, got, gotU, r.err)
		}
	}
	for _, b := range []string{"", "\x80", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"} {
		r := reader{s: b}
		if v := r.uvarint(); r.err == nil {
			t.Errorf("uvarint(%q) = %d, want an error", b, v)
		}
	}
}
