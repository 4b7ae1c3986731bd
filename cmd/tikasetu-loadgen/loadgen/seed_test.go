package loadgen

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store/cowin"
)

func TestSeedCalendarParses(t *testing.T) {
	now := time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC) // already the 27th in India
	plan := SeedPlan{Pin: "560001", Centres: 5, Days: 5, Capacity: 1_000_000, From: now}
	cal, err := plan.Calendar()
	if err != nil {
		t.Fatal(err)
	}
	centres, err := cowin.Parse(bytes.NewReader(cal))
	if err != nil {
		t.Fatalf("cowin.Parse: %v", err)
	}
	if len(centres) != 5 {
		t.Fatalf("%d centres, want 5", len(centres))
	}
	ids := map[string]bool{}
	for _, c := range centres {
		if c.Pincode != "560001" || c.FeeType != "Free" || len(c.Sessions) != 5 {
			t.Fatalf("centre %+v", c)
		}
		for i, s := range c.Sessions {
			if s.Capacity != [2]int{1_000_000, 1_000_000} || s.MinAge != 18 || len(s.Slots) == 0 {
				t.Fatalf("session %+v", s)
			}
			if !s.AgeFits(2026-1960) || !s.AgeFits(2026-1990) {
				t.Fatalf("session %s does not take ages of journeys' people", s.ID)
			}
			want := time.Date(2026, 11, 28+i, 0, 0, 0, 0, dialog.IST)
			if !s.Date.Equal(want) {
				t.Fatalf("session %d on %v, want %v (from tomorrow in India)", i, s.Date, want)
			}
			if ids[s.ID] {
				t.Fatalf("session id %s repeats", s.ID)
			}
			ids[s.ID] = true
		}
	}
	again, _ := plan.Calendar()
	if !bytes.Equal(cal, again) {
		t.Fatal("the same plan gave a different calendar: re-seeding would not be idempotent")
	}
}

func TestSeedPlanRefusesNonsense(t *testing.T) {
	for _, p := range []SeedPlan{
		{Pin: "56001", Centres: 1, Days: 1, Capacity: 1},
		{Pin: "056001", Centres: 1, Days: 1, Capacity: 1},
		{Pin: "560001", Centres: 0, Days: 1, Capacity: 1},
		{Pin: "560001", Centres: 1, Days: 0, Capacity: 1},
		{Pin: "560001", Centres: 1, Days: 1, Capacity: 0},
	} {
		if _, err := p.Calendar(); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestSeedPosts(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		answer  string
		wantErr bool
	}{
		{"imported", http.StatusOK, `{"centres":5,"sessions":25}`, false},
		{"wrong token", http.StatusUnauthorized, `{"error":"bearer token required"}`, true},
		{"not JSON", http.StatusOK, `hello`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAuth, gotPath string
			var gotBody []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
				gotBody, _ = io.ReadAll(r.Body)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			res, err := Seed(t.Context(), srv.Client(), srv.URL+"/", "tok", []byte(`{"centers":[]}`))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if gotAuth != "Bearer tok" || gotPath != "/admin/v1/calendar" || string(gotBody) != `{"centers":[]}` {
				t.Fatalf("posted %q to %q with %q", gotBody, gotPath, gotAuth)
			}
			if !tt.wantErr && string(res) != tt.answer {
				t.Fatalf("result %s", res)
			}
		})
	}
}
