package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// bigNameBytes is the size of the oversized centre name.
const bigNameBytes = 120 << 10

// bigCalendar returns a Co-WIN calendar of three centres whose second has
// a name of size bytes.
func bigCalendar(size int) ([]byte, error) {
	cal, err := loadgen.SeedPlan{Pin: seedPin, Centres: 3, Days: 2, Capacity: 100, From: time.Now()}.Calendar()
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(cal, &doc); err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	name := strings.Repeat("Primary Health Centre ", size/22+1)[:size]
	doc["centers"][1]["name"] = name
	return json.Marshal(doc)
}

// bigName: POST /admin/v1/calendar with a calendar one of whose centres
// has a 120 KB name must be refused with 400, naming the field, and import
// nothing (the two good centres neither).
func bigName(ctx context.Context, e *env, r *rig, res *result) error {
	gw, err := r.gateway(ctx, "A", nil)
	if err != nil {
		return err
	}
	body, err := bigCalendar(bigNameBytes)
	if err != nil {
		return err
	}
	start := time.Now()
	status, answer, err := e.admin(ctx, gw, http.MethodPost, "/admin/v1/calendar?shift_dates=1", body)
	took := time.Since(start)
	if err != nil {
		return err
	}
	var refusal struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(answer, &refusal)
	st, err := e.stats(ctx, gw)
	if err != nil {
		return err
	}
	named := strings.Contains(refusal.Error, "name")

	res.Figures = map[string]any{
		"calendar_bytes": len(body), "status": status, "answer_ms": ms(took), "error": clip(refusal.Error, 300),
		"answer_bytes": len(answer), "centres": st.Centres, "sessions": st.Sessions,
	}
	res.line("%d-byte calendar, centre 2 named with %d bytes: %d in %.0f ms (%d-byte answer)", len(body), bigNameBytes, status, ms(took), len(answer))
	res.line("error: %q", clip(refusal.Error, 200))
	res.line("stats after: %d centres, %d sessions", st.Centres, st.Sessions)
	res.check("400", status == http.StatusBadRequest, "%d", status)
	res.check("the field named", named, "%q", clip(refusal.Error, 120))
	res.check("nothing imported", st.Centres == 0 && st.Sessions == 0, "%d centres, %d sessions", st.Centres, st.Sessions)
	return nil
}
