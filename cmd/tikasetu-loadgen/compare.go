package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// compareCmd reads the JSON summaries of runs made with "run --retry" and
// prints their figures on callers turned away as a Markdown table; with -o
// it also draws them side by side (loadgen.WriteCompare).
func compareCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tikasetu-loadgen compare [flags] RUN.json [RUN.json ...]

Compares runs made with "tikasetu-loadgen run --retry" (each file is a run's
JSON summary): a Markdown table of their callers turned away on stdout (turned
away, later booked, never let in, waits, order inversions), and with -o a PNG
chart: the distribution of waits from the first refusal to being let in, and
the share turned away and let in over the run, one colour a run. For example:

  tikasetu-loadgen compare -labels "queue on,queue off" -o docs/performance/queue.png on.json off.json

`)
		fs.PrintDefaults()
	}
	out := fs.String("o", "", "write the chart to this PNG file")
	labels := fs.String("labels", "", "comma-separated names of the runs, in order (default: the files' names)")
	title := fs.String("title", "", "title of the chart")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "tikasetu-loadgen compare: "+format+"\n", a...)
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		fs.Usage()
		return exitConfig
	}
	var names []string
	if *labels != "" {
		if names = strings.Split(*labels, ","); len(names) != len(files) {
			return fail(exitConfig, "%d labels for %d runs", len(names), len(files))
		}
	}
	var runs []loadgen.Compared
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fail(exitFail, "%v", err)
		}
		r := loadgen.Compared{Label: strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))}
		if names != nil {
			r.Label = strings.TrimSpace(names[i])
		}
		if err := json.Unmarshal(b, &r.Summary); err != nil {
			return fail(exitFail, "%s: not a run's JSON summary: %v", f, err)
		}
		if r.Summary.TurnedAway == nil {
			return fail(exitFail, "%s reports no callers turned away: run it with --retry", f)
		}
		runs = append(runs, r)
	}
	if err := loadgen.CompareTable(stdout, runs); err != nil {
		return fail(exitFail, "%v", err)
	}
	if *out != "" {
		if err := loadgen.WriteCompare(*out, *title, runs); err != nil {
			return fail(exitFail, "%v", err)
		}
		fmt.Fprintf(stderr, "chart written to %s\n", *out)
	}
	return exitOK
}
