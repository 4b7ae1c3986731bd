package dialog

import (
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// fill sets every exported field reachable from v to a non-zero value of
// its own, with two elements in every slice, so that a field Clone forgets
// to copy deeply, or an encoding forgets or swaps, shows up.
func fill(t testing.TB, v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(t, v.Index(i), n)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(int64(*n), 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), n)
			}
		}
	default:
		t.Fatalf("fill: add kind %s (%s) to the test and to Clone", v.Kind(), v.Type())
	}
}

func TestConversationClone(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Conversation
	}{
		{"every field set", func() *Conversation {
			c := new(Conversation)
			n := 0
			fill(t, reflect.ValueOf(c).Elem(), &n)
			return c
		}()},
		{"zero", &Conversation{}},
		{"no snapshot", &Conversation{State: "pin", Booking: Booking{Who: make([]string, 1, 4)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keep := deepCopy(tc.c)
			d := tc.c.Clone()
			if !reflect.DeepEqual(tc.c, d) {
				t.Fatalf("clone differs:\n%+v\n%+v", tc.c, d)
			}
			// What a turn does to the copy it starts from: set fields and
			// append to slices. None of it may show in the original.
			d.State, d.Page, d.Booking.Pin = "changed", 99, "changed"
			d.Booking.Who = append(d.Booking.Who, "appended")
			d.Booking.Centres = append(d.Booking.Centres, "appended")
			d.Booking.Sessions = append(d.Booking.Sessions, "appended")
			d.Replies = append(d.Replies, KeptReply{Key: "appended"})
			d.Snapshot = nil
			if !reflect.DeepEqual(tc.c, keep) {
				t.Errorf("changing the clone changed the original:\n%+v\nwant\n%+v", tc.c, keep)
			}
			// And the original's own appends do not reach the clone's
			// elements either.
			e := tc.c.Clone()
			tc.c.Booking.Who = append(tc.c.Booking.Who, "later")
			if len(e.Booking.Who) != len(keep.Booking.Who) || (len(keep.Booking.Who) > 0 && cap(e.Booking.Who) != len(e.Booking.Who)) {
				t.Errorf("clone's Who %q (cap %d) after the original appended", e.Booking.Who, cap(e.Booking.Who))
			}
		})
	}
}

// deepCopy copies c sharing nothing with it.
func deepCopy(c *Conversation) *Conversation {
	d := *c
	if c.Snapshot != nil {
		a := *c.Snapshot
		a.Beneficiaries = slices.Clone(a.Beneficiaries)
		a.Appointments = slices.Clone(a.Appointments)
		d.Snapshot = &a
	}
	d.Booking.Who = slices.Clone(c.Booking.Who)
	d.Booking.Centres = slices.Clone(c.Booking.Centres)
	d.Booking.Sessions = slices.Clone(c.Booking.Sessions)
	d.Replies = slices.Clone(c.Replies)
	return &d
}
