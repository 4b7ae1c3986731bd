package cowin

import (
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// ShiftDates moves every session date by the same number of days so that the
// earliest one falls on tomorrow's date (the calendar day of tomorrow in IST;
// its time of day is ignored). Gaps between dates are kept and every date
// becomes midnight IST. It changes the sessions in place; with no sessions it
// does nothing. Session IDs are left as they are.
func ShiftDates(centres []dialog.Centre, tomorrow time.Time) {
	var earliest time.Time
	found := false
	for _, c := range centres {
		for _, s := range c.Sessions {
			d := day(s.Date)
			if !found || d.Before(earliest) {
				earliest, found = d, true
			}
		}
	}
	if !found {
		return
	}
	shift := daysBetween(earliest, day(tomorrow))
	for i := range centres {
		for j := range centres[i].Sessions {
			s := &centres[i].Sessions[j]
			s.Date = day(s.Date).AddDate(0, 0, shift)
		}
	}
}

// day returns midnight IST of t's calendar day in IST.
func day(t time.Time) time.Time {
	y, m, d := t.In(dialog.IST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, dialog.IST)
}

// daysBetween counts calendar days from a's IST day to b's.
func daysBetween(a, b time.Time) int {
	return int(dayNumber(b) - dayNumber(a))
}

// dayNumber numbers t's IST calendar day (days since 1970-01-01). It does not
// subtract times, so dates centuries apart cannot overflow a Duration.
func dayNumber(t time.Time) int64 {
	y, m, d := t.In(dialog.IST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
