package loadgen

import (
	"fmt"
	"image/color"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one line of a panel: y per point, points where ok is false
// left out.
type series struct {
	name  string
	color color.Color
	dash  []vg.Length
	y     func(p Point) (v float64, ok bool)
}

func perSec(n func(Point) int64) func(Point) (float64, bool) {
	return func(p Point) (float64, bool) {
		if p.Secs < 0.5 { // a stub at the end: its rate is mostly noise
			return 0, false
		}
		return float64(n(p)) / p.Secs, true
	}
}

func latency(v func(Point) float64) func(Point) (float64, bool) {
	return func(p Point) (float64, bool) { return v(p), v(p) > 0 && p.Secs >= 0.5 }
}

var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	red    = color.RGBA{214, 39, 40, 255}
	purple = color.RGBA{148, 103, 189, 255}
	grey   = color.RGBA{127, 127, 127, 255}
)

// plainTicks are gonum's default ticks labelled without trailing zeros
// ("2500", not "2500.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 6, 64)
		}
	}
	return ts
}

// plotDPI is the chart's resolution: 11 × 10 inches at 96 dpi is about
// 1060 × 960 pixels. Tests lower it to draw faster.
var plotDPI = 96

// WritePlot draws the timeline as a PNG of three stacked panels sharing
// the time axis: hops answered per second; journeys per second (offered,
// completed, shed, failed = errors + timeouts, dropped by the load
// generator); and hop latency p50/p95/p99 per second on a log scale.
func WritePlot(path, title string, tl []Point) error {
	plots, _, err := panels(title, tl)
	if err != nil {
		return err
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter}
	if err := writeGrid(path, plots, 11*vg.Inch, 10*vg.Inch, tiles); err != nil {
		return fmt.Errorf("loadgen: plot: %w", err)
	}
	return nil
}

// writeGrid draws plots, a grid of rows and columns aligned by tiles (its
// outer margins set here), on a w × h PNG at path.
func writeGrid(path string, plots [][]*plot.Plot, w, h vg.Length, tiles draw.Tiles) error {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI))
	tiles.PadTop, tiles.PadBottom, tiles.PadLeft, tiles.PadRight = 2*vg.Millimeter, 2*vg.Millimeter, 2*vg.Millimeter, 4*vg.Millimeter
	canvases := plot.Align(plots, tiles, draw.New(img))
	for i, row := range plots {
		for j, p := range row {
			p.Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// panels builds the three plots, one per row, and says how many lines each
// got (a line with no points is left out).
func panels(title string, tl []Point) ([][]*plot.Plot, []int, error) {
	panels := []struct {
		title, ylabel string
		log           bool
		headroom      float64 // Y.Max over the data's top, to keep the legend clear of the lines
		lines         []series
	}{
		{"Throughput", "hops/s", false, 1.2, []series{
			{"hops answered", blue, nil, perSec(func(p Point) int64 { return p.Hops })},
		}},
		{"Journeys", "journeys/s", false, 1.7, []series{
			{"offered", grey, []vg.Length{vg.Points(4), vg.Points(3)}, perSec(func(p Point) int64 { return p.Offered })},
			{"completed", green, nil, perSec(func(p Point) int64 { return p.Completed })},
			{"shed", orange, nil, perSec(func(p Point) int64 { return p.Shed })},
			{"errors + timeouts", red, nil, perSec(func(p Point) int64 { return p.Errors + p.Timeouts })},
			{"dropped by loadgen", purple, []vg.Length{vg.Points(2), vg.Points(2)}, perSec(func(p Point) int64 { return p.Dropped })},
		}},
		{"Hop latency", "ms (log scale)", true, 6, []series{
			{"p50", green, nil, latency(func(p Point) float64 { return p.P50 })},
			{"p95", orange, nil, latency(func(p Point) float64 { return p.P95 })},
			{"p99", red, nil, latency(func(p Point) float64 { return p.P99 })},
		}},
	}
	xmax := 1.0
	if len(tl) > 0 {
		xmax = tl[len(tl)-1].T
	}
	plots := make([][]*plot.Plot, len(panels))
	drawn := make([]int, len(panels))
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		if i == 0 && title != "" {
			p.Title.Text = title + " — " + pn.title
		}
		p.X.Label.Text = "seconds since start"
		p.Y.Label.Text = pn.ylabel
		p.X.Min, p.X.Max = 0, xmax
		p.X.Tick.Marker = plainTicks{}
		p.Add(plotter.NewGrid())
		p.Legend.Top = true
		p.Legend.Left = true
		if pn.log {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		} else {
			p.Y.Min = 0
			p.Y.Tick.Marker = plainTicks{}
		}
		top := 0.0
		for _, s := range pn.lines {
			var xy plotter.XYs
			for _, pt := range tl {
				if v, ok := s.y(pt); ok {
					xy = append(xy, plotter.XY{X: pt.T, Y: v})
					top = max(top, v)
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, nil, fmt.Errorf("loadgen: plot: %w", err)
			}
			l.Color, l.Width, l.Dashes = s.color, vg.Points(1.5), s.dash
			p.Add(l)
			p.Legend.Add(s.name, l)
			drawn[i]++
		}
		if top > 0 {
			p.Y.Max = top * pn.headroom
		}
		if pn.log && drawn[i] == 0 {
			p.Y.Scale, p.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
			p.Y.Min, p.Y.Max = 0, 1
		}
		plots[i] = []*plot.Plot{p}
	}
	return plots, drawn, nil
}
