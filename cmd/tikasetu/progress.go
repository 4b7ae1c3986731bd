package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressEvery is how often the progress line is rewritten at most.
const progressEvery = 100 * time.Millisecond

// progressLine shows "LABEL done/total" on one line rewritten in place (at
// most every progressEvery, and at the total), and clears it when finished,
// so that only the command's result stays on the terminal. A nil writer
// shows nothing.
type progressLine struct {
	w     io.Writer
	label string
	total int
	now   func() time.Time

	done  int
	shown time.Time // when the line was last written
	width int       // of the line on screen
}

func newProgressLine(w io.Writer, label string, total int) *progressLine {
	return &progressLine{w: w, label: label, total: total, now: time.Now}
}

// Add counts n more done and rewrites the line if it is due.
func (p *progressLine) Add(n int) {
	p.done += n
	if p.w == nil {
		return
	}
	now := p.now()
	if p.done < p.total && now.Sub(p.shown) < progressEvery {
		return
	}
	p.shown = now
	line := fmt.Sprintf("%s %d/%d", p.label, p.done, p.total)
	fmt.Fprintf(p.w, "\r%s", line) // the count only grows: the line covers the last
	p.width = len(line)
}

// Finish clears the line.
func (p *progressLine) Finish() {
	if p.w == nil || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}
