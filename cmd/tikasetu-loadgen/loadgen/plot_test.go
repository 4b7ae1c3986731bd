package loadgen

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func sampleTimeline() []Point {
	var tl []Point
	for s := 1; s <= 20; s++ {
		p := Point{T: float64(s), Secs: 1, Offered: int64(10 * s), Completed: int64(9 * s), Hops: int64(160 * s), P50: 2, P95: 5, P99: 9}
		if s > 15 {
			p.Shed, p.P99 = 20, 900
		}
		tl = append(tl, p)
	}
	return tl
}

func TestPanels(t *testing.T) {
	tests := []struct {
		name  string
		tl    []Point
		lines [3]int // lines drawn per panel (legend entries)
		log   bool   // latency panel on a log scale
	}{
		{"a run", sampleTimeline(), [3]int{1, 5, 3}, true},
		{"no points", nil, [3]int{0, 0, 0}, false},
		{"no hops answered", []Point{{T: 1, Secs: 1, Offered: 5, Errors: 5}}, [3]int{1, 5, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, drawn, err := panels("test run", tt.tl)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 {
				t.Fatalf("%d panels, want 3", len(rows))
			}
			for i, row := range rows {
				if drawn[i] != tt.lines[i] {
					t.Errorf("panel %d (%s) has %d lines, want %d", i, row[0].Title.Text, drawn[i], tt.lines[i])
				}
			}
			_, isLog := rows[2][0].Y.Scale.(plot.LogScale)
			if isLog != tt.log {
				t.Errorf("latency on a log scale: %v, want %v", isLog, tt.log)
			}
		})
	}
}

// One render: drawing takes seconds under -race, so once, small.
func TestWritePlot(t *testing.T) {
	defer func(dpi int) { plotDPI = dpi }(plotDPI)
	plotDPI = 30
	path := filepath.Join(t.TempDir(), "run.png")
	if err := WritePlot(path, "test run", sampleTimeline()); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 11*30, 10*30)
	if err := WritePlot(filepath.Join(t.TempDir(), "no", "such", "dir.png"), "", nil); err == nil {
		t.Fatal("writing into a missing folder succeeded")
	}
}

func TestPlainTicks(t *testing.T) {
	for _, tk := range (plainTicks{}).Ticks(0, 5000) {
		if tk.Label != "" && (strings.Contains(tk.Label, ".") || strings.Contains(tk.Label, "e")) {
			t.Errorf("tick label %q", tk.Label)
		}
	}
}

// checkPNG fails unless path holds a PNG of w × h pixels.
func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image %v, want %d×%d", b, w, h)
	}
}
