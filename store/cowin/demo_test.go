package cowin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store/cowin/cowintest"
)

func TestDemo(t *testing.T) {
	nows := []struct {
		name     string
		now      time.Time
		tomorrow time.Time
	}{
		{"IST afternoon", time.Date(2026, 3, 10, 16, 0, 0, 0, dialog.IST), time.Date(2026, 3, 11, 0, 0, 0, 0, dialog.IST)},
		{"UTC evening is already the next IST day", time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC), time.Date(2026, 3, 12, 0, 0, 0, 0, dialog.IST)},
		{"year end", time.Date(2025, 12, 31, 9, 0, 0, 0, dialog.IST), time.Date(2026, 1, 1, 0, 0, 0, 0, dialog.IST)},
	}
	for _, n := range nows {
		t.Run(n.name, func(t *testing.T) {
			centres := Demo(n.now)
			earliest, latest := centres[0].Sessions[0].Date, centres[0].Sessions[0].Date
			for _, c := range centres {
				for _, s := range c.Sessions {
					if s.Date.Before(earliest) {
						earliest = s.Date
					}
					if s.Date.After(latest) {
						latest = s.Date
					}
				}
			}
			if !earliest.Equal(n.tomorrow) {
				t.Errorf("first date %v, want %v", earliest, n.tomorrow)
			}
			if days := daysBetween(earliest, latest); days < 2 {
				t.Errorf("sessions span %d days, want several", days+1)
			}
		})
	}
}

func TestDemoContent(t *testing.T) {
	centres := Demo(time.Date(2026, 3, 10, 12, 0, 0, 0, dialog.IST))
	byPin := make(map[string][]dialog.Centre)
	fees := make(map[dialog.FeeType]int)
	ages := make(map[int]int)
	centreIDs := make(map[int64]bool)
	sessionIDs := make(map[string]bool)
	for _, c := range centres {
		byPin[c.Pincode] = append(byPin[c.Pincode], c)
		fees[c.FeeType]++
		if centreIDs[c.ID] {
			t.Errorf("centre id %d repeats", c.ID)
		}
		centreIDs[c.ID] = true
		if c.Address == "" || c.State == "" || c.District == "" {
			t.Errorf("centre %d: address, state or district missing", c.ID)
		}
		if len(c.Sessions) == 0 {
			t.Errorf("centre %d: no sessions", c.ID)
		}
		adult := false
		for _, s := range c.Sessions {
			if sessionIDs[s.ID] {
				t.Errorf("session id %s repeats", s.ID)
			}
			sessionIDs[s.ID] = true
			ages[s.MinAge]++
			adult = adult || s.AgeFits(30)
			if s.Capacity[0] < 10 || s.Capacity[1] < 10 {
				t.Errorf("centre %d session %s: capacity %v, want tens per dose", c.ID, s.ID, s.Capacity)
			}
			if len(s.Slots) < 2 {
				t.Errorf("centre %d session %s: slots %q", c.ID, s.ID, s.Slots)
			}
			if s.Vaccine != "COVISHIELD" && s.Vaccine != "COVAXIN" {
				t.Errorf("centre %d session %s: vaccine %q", c.ID, s.ID, s.Vaccine)
			}
			if fee, ok := c.Fee(s.Vaccine); !ok || (c.FeeType == dialog.Paid) != (fee > 0) {
				t.Errorf("centre %d (%s): %s fee %d, %v", c.ID, c.FeeType, s.Vaccine, fee, ok)
			}
		}
		if !adult {
			t.Errorf("centre %d: no session a 30-year-old can book", c.ID)
		}
	}
	if fees[dialog.Free] == 0 || fees[dialog.Paid] == 0 {
		t.Errorf("fee types %v, want Free and Paid centres", fees)
	}
	if ages[18] == 0 || ages[45] == 0 {
		t.Errorf("min ages %v, want 18+ and 45+ sessions", ages)
	}
	for pin, state := range map[string]string{"700001": "West Bengal", "743337": "West Bengal", "110001": "Delhi", "400001": "Maharashtra"} {
		if len(byPin[pin]) == 0 {
			t.Errorf("no centre at %s", pin)
		}
		for _, c := range byPin[pin] {
			if c.State != state {
				t.Errorf("centre %d at %s: state %q, want %q", c.ID, pin, c.State, state)
			}
		}
	}
	kolkata := byPin["700001"]
	if len(kolkata) < 9 {
		t.Errorf("700001 has %d centres, want at least 9", len(kolkata))
	}
	list := 0
	for i, c := range kolkata {
		list += len(c.Name) + len(" 1\n") + (i+1)/10
	}
	if list <= 182 {
		t.Errorf("700001 centre list is %d characters, want more than a 182-character screen", list)
	}
}

func TestDemoFreshCopy(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, dialog.IST)
	a := Demo(now)
	a[0].Name = "changed"
	a[0].Sessions[0].Capacity = [2]int{}
	b := Demo(now)
	if b[0].Name == "changed" || b[0].Sessions[0].Capacity == [2]int{} {
		t.Error("Demo shares data between calls")
	}
}

// TestDemoInvented checks that the demo calendar copies no centre or session
// id from the real files.
func TestDemoInvented(t *testing.T) {
	dir := cowintest.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var real strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		real.Write(b)
	}
	for _, c := range Demo(time.Now()) {
		if strings.Contains(real.String(), c.Name) {
			t.Errorf("demo centre name %q appears in the real files", c.Name)
		}
		for _, s := range c.Sessions {
			if strings.Contains(real.String(), s.ID) {
				t.Errorf("demo session id %s appears in the real files", s.ID)
			}
		}
	}
}
