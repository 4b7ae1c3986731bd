package cowin

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// demoJSON is the demo calendar: invented centres in the Co-WIN format, dated
// from 01-06-2021; Demo shifts it to start tomorrow.
//
//go:embed demo.json
var demoJSON []byte

// Demo returns the compiled-in demo calendar with its dates shifted so that
// the first session is tomorrow (the IST day after now). The data is invented:
// PIN codes 700001 (Kolkata, 10 centres, so that the list pages on a USSD
// screen) and 743337 (South 24 Parganas) in West Bengal, 110001 (New Delhi)
// and 400001 (Mumbai); government (Free) and private (Paid: COVISHIELD ₹780,
// COVAXIN ₹1410) centres; 18+ and 45+ sessions over up to five days, tens of
// seats per dose. Each call returns a fresh copy that the caller may change.
func Demo(now time.Time) []dialog.Centre {
	centres, err := Parse(bytes.NewReader(demoJSON))
	if err != nil {
		// demo.json is compiled in and checked by the tests.
		panic(fmt.Sprintf("cowin: embedded demo.json: %v", err))
	}
	ShiftDates(centres, now.In(dialog.IST).AddDate(0, 0, 1))
	return centres
}
