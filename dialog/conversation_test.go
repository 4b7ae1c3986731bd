package dialog

import (
	"reflect"
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

// shared reports the first place where a and b share memory that a change
// through one would show in the other.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
		if !a.IsNil() {
			return shared(a.Elem(), b.Elem(), path)
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[time.Time]() {
			return ""
		}
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
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
		{"no snapshot", &Conversation{State: "pin", Booking: Booking{Who: []string{"1"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.c.Clone()
			if !reflect.DeepEqual(tc.c, d) {
				t.Fatalf("clone differs:\n%+v\n%+v", tc.c, d)
			}
			if p := shared(reflect.ValueOf(tc.c), reflect.ValueOf(d), "Conversation"); p != "" {
				t.Errorf("clone shares %s with the original", p)
			}
		})
	}
}
