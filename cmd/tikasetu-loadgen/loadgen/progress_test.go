package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	tests := []struct {
		name      string
		tty       bool
		seconds   int
		wantLines int    // newline-terminated lines
		wantCR    int    // carriage returns
		want      string // in the output
	}{
		{"terminal: one line rewritten every second", true, 7, 1, 7, "journeys 1/s"},
		{"not a terminal: a line every 5 s", false, 12, 2, 0, "hops 10/s"},
		{"not a terminal, short run: nothing", false, 3, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, tt.tty)
			st := newStats()
			for s := 1; s <= tt.seconds; s++ {
				st.offered(false)
				st.started()
				for range 10 {
					st.hop(3 * time.Millisecond)
				}
				st.ended(Outcome{Kind: Completed})
				st.tick(float64(s))
				p.second(st, time.Duration(s)*time.Second)
			}
			p.done()
			out := buf.String()
			if n := strings.Count(out, "\n"); n != tt.wantLines {
				t.Errorf("%d lines, want %d:\n%s", n, tt.wantLines, out)
			}
			if n := strings.Count(out, "\r"); n != tt.wantCR {
				t.Errorf("%d carriage returns, want %d", n, tt.wantCR)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}

func TestFormatProgress(t *testing.T) {
	st := newStats()
	st.ended(Outcome{Kind: Shed})
	st.ended(Outcome{Kind: Errored})
	st.ended(Outcome{Kind: TimedOut})
	line := formatProgress(12*time.Second, Point{Offered: 100, Completed: 40, Hops: 900, P50: 1.234, P99: 250, InFlight: 7}, 2, st)
	for _, want := range []string{"12s", "offered 50/s", "journeys 20/s", "hops 450/s", "p50 1.23ms", "p99 250ms", "in flight 7", "shed 1", "errors 1", "timeouts 1", "dropped 0"} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "waiting") {
		t.Errorf("nobody waiting, yet: %s", line)
	}
	if line := formatProgress(time.Second, Point{Waiting: 12}, 1, st); !strings.Contains(line, "waiting 12") {
		t.Errorf("line lacks the callers waiting: %s", line)
	}
}
