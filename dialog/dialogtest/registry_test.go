package dialogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestImportRefuses(t *testing.T) {
	for _, c := range []dialog.Centre{
		{ID: 0, Name: "no id", Pincode: "700001"},
		{ID: 1, Name: "no PIN"},
	} {
		if err := New(Config{}).ImportCentres(context.Background(), []dialog.Centre{c}); err == nil {
			t.Errorf("imported %q", c.Name)
		}
	}
}

// TestBookLastSeats: ten people at once for three seats: three are booked,
// seven get dialog.ErrFullyBooked, and the seats add up.
func TestBookLastSeats(t *testing.T) {
	ctx := context.Background()
	s := New(Config{Clock: NewClock(Start)})
	if err := s.ImportCentres(ctx, []dialog.Centre{centre(1, "Last", "700001", [2]int{3, 0})}); err != nil {
		t.Fatal(err)
	}
	reqs := make([]dialog.BookRequest, 10)
	for i := range reqs {
		m := number(i)
		b, err := s.AddBeneficiary(ctx, m, person(i))
		if err != nil {
			t.Fatal(err)
		}
		reqs[i] = dialog.BookRequest{Msisdn: m, Beneficiary: b.Ref, SessionID: "s-1-0", Slot: "09:00AM-11:00AM", Dose: 1}
	}
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { _, errs[i] = s.Book(ctx, r) })
	}
	wg.Wait()
	booked, full := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			booked++
		case errors.Is(err, dialog.ErrFullyBooked):
			full++
		default:
			t.Fatal(err)
		}
	}
	seats, _ := s.Seats(ctx, []string{"s-1-0"})
	if booked != 3 || full != 7 || seats[0] != (dialog.Seats{Booked: [2]int{3, 0}}) {
		t.Errorf("%d booked, %d refused, seats %+v", booked, full, seats[0])
	}
}

// TestRefsUnique: every person registered gets a reference of their own.
func TestRefsUnique(t *testing.T) {
	ctx := context.Background()
	s := New(Config{MaxBeneficiaries: 100})
	seen := map[string]bool{}
	for i := range 100 {
		b, err := s.AddBeneficiary(ctx, caller, dialog.NewBeneficiary{Name: fmt.Sprint("P", i), IDType: dialog.IDPassport, IDNumber: fmt.Sprintf("K%07d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if seen[b.Ref] {
			t.Fatalf("reference %s given twice", b.Ref)
		}
		seen[b.Ref] = true
	}
}
