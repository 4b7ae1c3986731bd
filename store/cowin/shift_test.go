package cowin

import (
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestShiftDates(t *testing.T) {
	ist := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, dialog.IST) }
	// calendar builds centres, one per inner list of session dates.
	calendar := func(dates ...[]time.Time) []dialog.Centre {
		var cs []dialog.Centre
		for i, ds := range dates {
			c := dialog.Centre{ID: int64(i + 1)}
			for _, d := range ds {
				c.Sessions = append(c.Sessions, dialog.Session{Date: d})
			}
			cs = append(cs, c)
		}
		return cs
	}
	tests := []struct {
		name     string
		centres  []dialog.Centre
		tomorrow time.Time
		want     [][]time.Time
	}{
		{
			name:     "gaps kept",
			centres:  calendar([]time.Time{ist(2021, 5, 18), ist(2021, 5, 20), ist(2021, 5, 24)}),
			tomorrow: ist(2026, 3, 11),
			want:     [][]time.Time{{ist(2026, 3, 11), ist(2026, 3, 13), ist(2026, 3, 17)}},
		},
		{
			name: "earliest in a later centre, across a month and leap day",
			centres: calendar(
				[]time.Time{ist(2021, 5, 10), ist(2021, 5, 12)},
				[]time.Time{ist(2021, 5, 9), ist(2021, 5, 9)},
			),
			tomorrow: ist(2024, 2, 28),
			want: [][]time.Time{
				{ist(2024, 2, 29), ist(2024, 3, 2)},
				{ist(2024, 2, 28), ist(2024, 2, 28)},
			},
		},
		{
			name:     "tomorrow's time of day and zone ignored: 20:00 UTC is the next IST day",
			centres:  calendar([]time.Time{ist(2021, 5, 1), ist(2021, 5, 2)}),
			tomorrow: time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC),
			want:     [][]time.Time{{ist(2026, 3, 11), ist(2026, 3, 12)}},
		},
		{
			name:     "session dates not at midnight become midnight IST",
			centres:  calendar([]time.Time{time.Date(2021, 5, 1, 12, 0, 0, 0, time.UTC), time.Date(2021, 5, 2, 23, 0, 0, 0, dialog.IST)}),
			tomorrow: ist(2026, 1, 1),
			want:     [][]time.Time{{ist(2026, 1, 1), ist(2026, 1, 2)}},
		},
		{
			name:     "future dates move back",
			centres:  calendar([]time.Time{ist(2030, 12, 31), ist(2031, 1, 1)}),
			tomorrow: ist(2026, 6, 1),
			want:     [][]time.Time{{ist(2026, 6, 1), ist(2026, 6, 2)}},
		},
		{
			name:     "already starting tomorrow",
			centres:  calendar([]time.Time{ist(2026, 6, 1), ist(2026, 6, 5)}),
			tomorrow: ist(2026, 6, 1),
			want:     [][]time.Time{{ist(2026, 6, 1), ist(2026, 6, 5)}},
		},
		{
			name:     "centuries apart",
			centres:  calendar([]time.Time{ist(1, 1, 1), ist(1, 1, 3)}),
			tomorrow: ist(2026, 6, 1),
			want:     [][]time.Time{{ist(2026, 6, 1), ist(2026, 6, 3)}},
		},
		{
			name:     "centre without sessions",
			centres:  calendar(nil, []time.Time{ist(2021, 5, 1)}),
			tomorrow: ist(2026, 6, 1),
			want:     [][]time.Time{nil, {ist(2026, 6, 1)}},
		},
		{name: "no centres", tomorrow: ist(2026, 6, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ShiftDates(tt.centres, tt.tomorrow)
			if len(tt.centres) != len(tt.want) {
				t.Fatalf("%d centres, want %d", len(tt.centres), len(tt.want))
			}
			for i, c := range tt.centres {
				if len(c.Sessions) != len(tt.want[i]) {
					t.Fatalf("centre %d: %d sessions, want %d", i, len(c.Sessions), len(tt.want[i]))
				}
				for j, s := range c.Sessions {
					if !s.Date.Equal(tt.want[i][j]) || s.Date.Location() != dialog.IST {
						t.Errorf("centre %d session %d: %v, want %v", i, j, s.Date, tt.want[i][j])
					}
				}
			}
		})
	}
}
