package main

import (
	"bytes"
	"io"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name  string
		w     bool          // a writer, or nil
		total int           // of the line
		adds  []int         // counted in turn
		step  time.Duration // of the clock between adds
		want  string
	}{
		{"nothing shown without a writer", false, 100, []int{50, 50}, time.Second, ""},
		{"every add once due, then cleared", true, 100, []int{50, 50}, time.Second,
			"\rcentres 50/100\rcentres 100/100\r               \r"},
		{"adds within the interval skipped, the total always shown", true, 100, []int{10, 10, 80}, time.Millisecond,
			"\rcentres 10/100\rcentres 100/100\r               \r"},
		{"one add: the total, then cleared", true, 9, []int{9}, time.Second,
			"\rcentres 9/9\r           \r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var w io.Writer
			if tt.w {
				w = &buf
			}
			now := time.Unix(1_700_000_000, 0)
			p := newProgressLine(w, "centres", tt.total)
			p.now = func() time.Time { return now }
			for _, n := range tt.adds {
				p.Add(n)
				now = now.Add(tt.step)
			}
			p.Finish()
			if got := buf.String(); got != tt.want {
				t.Fatalf("wrote %q, want %q", got, tt.want)
			}
			if p.done != tt.total {
				t.Fatalf("counted %d, want %d", p.done, tt.total)
			}
		})
	}
}
