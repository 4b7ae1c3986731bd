package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPerSecondFillsGaps(t *testing.T) {
	base := time.Unix(100, 0)
	ts := []time.Time{base.Add(100 * time.Millisecond), base.Add(900 * time.Millisecond), base.Add(2500 * time.Millisecond)}
	got := perSecond(ts)
	want := []secondCount{{100, 2}, {101, 0}, {102, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("perSecond = %v, want %v", got, want)
	}
	if perSecond(nil) != nil {
		t.Error("perSecond(nil) not nil")
	}
}

func TestWithinRate(t *testing.T) {
	counts := func(cs ...int) []secondCount {
		out := make([]secondCount, len(cs))
		for i, c := range cs {
			out[i] = secondCount{Unix: int64(i), Count: c}
		}
		return out
	}
	cases := []struct {
		name   string
		counts []secondCount
		ok     bool
	}{
		{"steady at the rate", counts(10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10), true},
		{"an edge: 8 then 12", counts(10, 8, 12, 10), true},
		{"a first second over", counts(11, 9), false},
		{"over, the second before full", counts(10, 12, 8), false},
		{"one second far over", counts(0, 25, 0), false},
		{"too many in all", counts(10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10), false},
	}
	for _, tc := range cases {
		ok, detail := withinRate(rateOf(tc.counts, 10), 10)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v (%s)", tc.name, ok, tc.ok, detail)
		}
	}
	f := rateOf(counts(3, 10, 7), 10)
	if f.Total != 20 || f.MaxPerSecond != 10 || f.Unexplained != 0 || f.Seconds != 3 || !slices.Equal(f.PerSecond, []int{3, 10, 7}) {
		t.Errorf("rateOf = %+v", f)
	}
}

func TestSummarise(t *testing.T) {
	d := summarise([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 1500 * time.Microsecond})
	if d.N != 4 || d.P50Ms != 1.5 || d.MaxMs != 3 {
		t.Errorf("summarise = %+v", d)
	}
	if summarise(nil) != (durations{}) {
		t.Error("summarise(nil) not zero")
	}
	if secs(-1) != -1 || secs(1234*time.Millisecond) != 1.23 {
		t.Errorf("secs: %v %v", secs(-1), secs(1234*time.Millisecond))
	}
}

func TestTallyOrder(t *testing.T) {
	tl := tally{}
	for _, k := range []string{"b", "a", "c", "c"} {
		tl.add(k)
	}
	if got := tl.String(); got != "2× c; 1× a; 1× b" {
		t.Errorf("tally = %q", got)
	}
}

func TestResultSettleAndPrint(t *testing.T) {
	r := &result{Scenario: "x", Bar: "b"}
	r.settle()
	if r.Pass {
		t.Error("no checks: pass")
	}
	r.check("one", true, "%d", 1)
	r.settle()
	if !r.Pass {
		t.Error("all checks met: fail")
	}
	r.check("two", false, "")
	r.settle()
	if r.Pass {
		t.Error("a check missed: pass")
	}
	r.Checks = r.Checks[:1]
	r.Error = "boom"
	r.settle()
	if r.Pass {
		t.Error("an error: pass")
	}

	r.Figures = map[string]int{"n": 3}
	var buf bytes.Buffer
	r.print(&buf)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var js struct {
		Scenario string         `json:"scenario"`
		Pass     bool           `json:"pass"`
		Figures  map[string]int `json:"figures"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &js); err != nil {
		t.Fatalf("last line not JSON: %v\n%s", err, buf.String())
	}
	if js.Scenario != "x" || js.Pass || js.Figures["n"] != 3 {
		t.Errorf("JSON line %+v", js)
	}
	if !strings.HasPrefix(lines[0], "== x: FAIL") {
		t.Errorf("heading %q", lines[0])
	}
}
