package loadgen

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func comparedRuns() []Compared {
	on := &TurnedAway{Callers: 4, Through: 4, Booked: 4, Queued: 4, Invited: 4, WaitP50S: 20, WaitP90S: 35, WaitMaxS: 40,
		OrderPairs: 6, OrderInversions: 0.1667, InviteOrderPairs: 6, InviteOrderInversions: new(0.0),
		RefusedBySecond: []int64{2, 4, 4, 4}, ThroughBySecond: []int64{0, 1, 3, 4}}
	off := &TurnedAway{Callers: 4, Through: 3, Booked: 3, NeverThrough: 1, Busy: 9, WaitP50S: 10, WaitP90S: 60, WaitMaxS: 61,
		OrderPairs: 3, OrderInversions: 0.3333,
		RefusedBySecond: []int64{3, 4, 4, 4}, ThroughBySecond: []int64{1, 1, 2, 3}}
	for q := range 101 {
		on.WaitCDF = append(on.WaitCDF, 0.4*float64(q))
		off.WaitCDF = append(off.WaitCDF, 0.61*float64(q))
	}
	return []Compared{
		{"queue on", Summary{Offered: 10, CompletedJourneys: 10, TurnedAway: on}},
		{"queue off", Summary{Offered: 10, CompletedJourneys: 9, TurnedAway: off}},
	}
}

func TestComparePanels(t *testing.T) {
	runs := comparedRuns()
	nobody := Compared{"calm", Summary{TurnedAway: &TurnedAway{}}}
	tests := []struct {
		name  string
		runs  []Compared
		lines [2]int // per panel
		bad   bool
	}{
		{"two runs", runs, [2]int{2, 4}, false},
		{"a run with nobody turned away draws nothing", []Compared{runs[0], nobody}, [2]int{1, 2}, false},
		{"a run without retries", []Compared{runs[0], {"plain", Summary{}}}, [2]int{}, true},
		{"no runs", nil, [2]int{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, drawn, err := comparePanels("test", tt.runs)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want one: %v", err, tt.bad)
			}
			if tt.bad {
				return
			}
			if len(rows) != 1 || len(rows[0]) != 2 {
				t.Fatalf("%d rows, want one of two panels", len(rows))
			}
			if drawn[0] != tt.lines[0] || drawn[1] != tt.lines[1] {
				t.Errorf("lines drawn %v, want %v", drawn, tt.lines)
			}
		})
	}
}

func TestCompareTable(t *testing.T) {
	var buf bytes.Buffer
	if err := CompareTable(&buf, comparedRuns()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"| queue on | 10 | 10 | 4 | 4 | 0 | 20.0 · 35.0 · 40.0 | 0.167 | 0.000 |",
		"| queue off | 10 | 9 | 4 | 3 | 1 | 10.0 · 60.0 · 61.0 | 0.333 | – |",
	}
	if len(lines) != 4 || lines[2] != want[0] || lines[3] != want[1] {
		t.Fatalf("table:\n%s\nwant rows\n%s", buf.String(), strings.Join(want, "\n"))
	}
	if err := CompareTable(&buf, []Compared{{"plain", Summary{}}}); err == nil {
		t.Fatal("a run without retries was tabulated")
	}
}

// One render, small: drawing takes seconds under -race.
func TestWriteCompare(t *testing.T) {
	defer func(dpi int) { plotDPI = dpi }(plotDPI)
	plotDPI = 30
	path := filepath.Join(t.TempDir(), "queue.png")
	if err := WriteCompare(path, "test", comparedRuns()); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 14*30, 6*30)
	if err := WriteCompare(filepath.Join(t.TempDir(), "no", "dir.png"), "", comparedRuns()); err == nil {
		t.Fatal("writing into a missing folder succeeded")
	}
}
