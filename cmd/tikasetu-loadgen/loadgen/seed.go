package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// SeedPlan is the synthetic Co-WIN calendar that --seed loads: Centres Free
// centres at one PIN code, each with a session a day for Days days from the
// day after From (in IST), minimum age 18, Capacity seats per dose, so that a
// run never runs out of seats. Ids depend only on the PIN code, the centre's
// number and the date: seeding twice on a day changes nothing.
type SeedPlan struct {
	Pin      string
	Centres  int
	Days     int
	Capacity int // per dose
	From     time.Time
}

var seedSlots = []string{"09:00AM-11:00AM", "11:00AM-01:00PM", "01:00PM-03:00PM", "03:00PM-06:00PM"}

type seedCentre struct {
	CenterID int64         `json:"center_id"`
	Name     string        `json:"name"`
	Address  string        `json:"address"`
	State    string        `json:"state_name"`
	District string        `json:"district_name"`
	Block    string        `json:"block_name"`
	Pincode  string        `json:"pincode"`
	From     string        `json:"from"`
	To       string        `json:"to"`
	FeeType  string        `json:"fee_type"`
	Sessions []seedSession `json:"sessions"`
}

type seedSession struct {
	SessionID string   `json:"session_id"`
	Date      string   `json:"date"`
	Capacity  int      `json:"available_capacity"`
	Dose1     int      `json:"available_capacity_dose1"`
	Dose2     int      `json:"available_capacity_dose2"`
	MinAge    int      `json:"min_age_limit"`
	Vaccine   string   `json:"vaccine"`
	Slots     []string `json:"slots"`
}

// Calendar returns the plan as Co-WIN calendar JSON ({"centers":[…]}).
func (p SeedPlan) Calendar() ([]byte, error) {
	if len(p.Pin) != 6 || strings.Trim(p.Pin, "0123456789") != "" || p.Pin[0] == '0' {
		return nil, fmt.Errorf("loadgen: PIN code %q is not 6 digits", p.Pin)
	}
	if p.Centres < 1 || p.Centres > 99 || p.Days < 1 || p.Capacity < 1 {
		return nil, fmt.Errorf("loadgen: seed wants 1–99 centres, at least 1 day and 1 seat")
	}
	var pin int64
	fmt.Sscan(p.Pin, &pin)
	y, m, d := p.From.In(dialog.IST).Date()
	first := time.Date(y, m, d+1, 0, 0, 0, 0, dialog.IST)
	vaccines := []string{"COVISHIELD", "COVAXIN"}
	centres := make([]seedCentre, 0, p.Centres)
	for c := 1; c <= p.Centres; c++ {
		sc := seedCentre{
			// Far above real Co-WIN centre ids (under 10⁶), unique per PIN.
			CenterID: 900_000_000 + pin*100 + int64(c),
			Name:     fmt.Sprintf("Loadgen Centre %d", c),
			Address:  fmt.Sprintf("%d Test Road", c),
			State:    "Loadgen", District: "Loadgen", Block: "Loadgen",
			Pincode: p.Pin, From: "09:00:00", To: "18:00:00", FeeType: "Free",
		}
		for day := range p.Days {
			date := first.AddDate(0, 0, day)
			sc.Sessions = append(sc.Sessions, seedSession{
				SessionID: fmt.Sprintf("loadgen-%s-%02d-%s", p.Pin, c, date.Format("20060102")),
				Date:      date.Format("02-01-2006"),
				Capacity:  2 * p.Capacity, Dose1: p.Capacity, Dose2: p.Capacity,
				MinAge: 18, Vaccine: vaccines[c%len(vaccines)], Slots: seedSlots,
			})
		}
		centres = append(centres, sc)
	}
	return json.Marshal(map[string]any{"centers": centres})
}

// Seed posts calendar to the gateway's admin import route and returns its
// answer (the import's counts).
func Seed(ctx context.Context, client *http.Client, baseURL, token string, calendar []byte) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/admin/v1/calendar", bytes.NewReader(calendar))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("loadgen: seed: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: seed: gateway answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("loadgen: seed: answer is not JSON: %q", clip(string(body)))
	}
	return body, nil
}
