package loadgen

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Compared is one run of a comparison: a label and its summary, which must
// report the callers turned away (a run with Config.Retry).
type Compared struct {
	Label   string
	Summary Summary
}

var runColours = []color.Color{blue, orange, green, red, purple, grey}

// WriteCompare draws the callers turned away in each run side by side, as
// a PNG of two panels: the share of them let in within a given wait of
// their first refusal (the distribution of waits, reaching the share let
// in at all); and, over the seconds of the run, the share turned away so
// far (dashed) and let in so far (solid).
func WriteCompare(path, title string, runs []Compared) error {
	plots, _, err := comparePanels(title, runs)
	if err != nil {
		return err
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(plots[0]), PadX: 8 * vg.Millimeter, PadY: vg.Millimeter}
	if err := writeGrid(path, plots, 14*vg.Inch, 6*vg.Inch, tiles); err != nil {
		return fmt.Errorf("loadgen: compare: %w", err)
	}
	return nil
}

// comparePanels builds the two plots, in one row, and says how many lines
// each got (a run with nobody turned away draws none).
func comparePanels(title string, runs []Compared) ([][]*plot.Plot, []int, error) {
	if len(runs) == 0 {
		return nil, nil, errors.New("loadgen: compare: no runs")
	}
	for _, r := range runs {
		if r.Summary.TurnedAway == nil {
			return nil, nil, fmt.Errorf("loadgen: compare: run %q reports no callers turned away (run it with retries)", r.Label)
		}
	}
	waits, over := plot.New(), plot.New()
	waits.Title.Text = "Waits of callers turned away"
	if title != "" {
		waits.Title.Text = title + " — " + waits.Title.Text
	}
	waits.X.Label.Text = "seconds from the first refusal to being let in"
	waits.Y.Label.Text = "share of callers turned away let in"
	over.Title.Text = "Callers turned away, over the run"
	over.X.Label.Text = "seconds since start"
	over.Y.Label.Text = "share of the run's callers turned away"
	for _, p := range []*plot.Plot{waits, over} {
		p.Add(plotter.NewGrid())
		p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1.05
		p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
		p.Legend.Top, p.Legend.Left = false, false // lower right: the lines rise to the upper right
	}
	drawn := make([]int, 2)
	add := func(p *plot.Plot, panel int, xy plotter.XYs, c color.Color, dash []vg.Length, name string) error {
		if len(xy) < 2 {
			return nil
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("loadgen: compare: %w", err)
		}
		l.Color, l.Width, l.Dashes = c, vg.Points(1.5), dash
		p.Add(l)
		if name != "" {
			p.Legend.Add(name, l)
		}
		drawn[panel]++
		return nil
	}
	for i, r := range runs {
		ta, c := r.Summary.TurnedAway, runColours[i%len(runColours)]
		if ta.Callers == 0 {
			continue
		}
		name := fmt.Sprintf("%s: %d turned away, %.0f%% let in, order inversions %s",
			r.Label, ta.Callers, 100*float64(ta.Through)/float64(ta.Callers), strconv.FormatFloat(ta.OrderInversions, 'f', 2, 64))
		let := float64(ta.Through) / float64(ta.Callers)
		cdf := plotter.XYs{{X: 0, Y: 0}}
		for q, w := range ta.WaitCDF {
			cdf = append(cdf, plotter.XY{X: w, Y: let * float64(q) / 100})
		}
		if len(ta.RefusedBySecond) > 0 { // flat after the last caller let in, to the end of the run
			cdf = append(cdf, plotter.XY{X: max(cdf[len(cdf)-1].X, float64(len(ta.RefusedBySecond))), Y: let})
		}
		if err := add(waits, 0, cdf, c, nil, name); err != nil {
			return nil, nil, err
		}
		var refused, through plotter.XYs
		for s := range ta.RefusedBySecond {
			t := float64(s + 1)
			refused = append(refused, plotter.XY{X: t, Y: float64(ta.RefusedBySecond[s]) / float64(ta.Callers)})
			through = append(through, plotter.XY{X: t, Y: float64(ta.ThroughBySecond[s]) / float64(ta.Callers)})
		}
		if err := add(over, 1, refused, c, []vg.Length{vg.Points(4), vg.Points(3)}, r.Label+": turned away so far"); err != nil {
			return nil, nil, err
		}
		if err := add(over, 1, through, c, nil, r.Label+": let in so far"); err != nil {
			return nil, nil, err
		}
	}
	return [][]*plot.Plot{{waits, over}}, drawn, nil
}

// CompareTable writes the runs' figures on callers turned away as a
// Markdown table, one row a run.
func CompareTable(w io.Writer, runs []Compared) error {
	fmt.Fprintln(w, "| run | journeys offered | booked | turned away | of them later booked | never let in | wait p50 · p90 · max (s) | order inversions | of invitations |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		s, ta := r.Summary, r.Summary.TurnedAway
		if ta == nil {
			return fmt.Errorf("loadgen: compare: run %q reports no callers turned away (run it with retries)", r.Label)
		}
		inv := "–"
		if ta.InviteOrderInversions != nil {
			inv = fmt.Sprintf("%.3f", *ta.InviteOrderInversions)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %.1f · %.1f · %.1f | %.3f | %s |\n",
			r.Label, s.Offered, s.CompletedJourneys, ta.Callers, ta.Booked, ta.NeverThrough,
			ta.WaitP50S, ta.WaitP90S, ta.WaitMaxS, ta.OrderInversions, inv)
	}
	return nil
}
