package dlt

import (
	"fmt"
	"math"
	"strings"
)

// compiled is a template split once into its fixed parts and runs of
// adjacent variables, for matching messages against it.
type compiled struct {
	Template
	head  []rune // the fixed text before the first variable
	parts []part
}

// part is a run of adjacent variables and the fixed text after it.
type part struct {
	first int // 1-based number of the run's first variable in the template
	vars  int // variables in the run
	max   int // characters the run holds at most: vars × VarMax
	fixed []rune
}

func compile(t Template) *compiled {
	segs := strings.Split(t.Text, Var)
	c := &compiled{Template: t, head: []rune(segs[0])}
	for i, s := range segs[1:] {
		if n := len(c.parts); n > 0 && len(c.parts[n-1].fixed) == 0 {
			c.parts[n-1].vars++ // adjacent to the previous variable
			c.parts[n-1].max += VarMax
		} else {
			c.parts = append(c.parts, part{first: i + 1, vars: 1, max: VarMax})
		}
		c.parts[len(c.parts)-1].fixed = []rune(s)
	}
	return c
}

// Reason is why a message does not match.
type Reason int

// Reasons of a MatchError.
const (
	NoTemplate   Reason = iota + 1 // no template for the kind and language
	NoID                           // the template has no id yet (a draft file)
	FixedDiffers                   // the fixed text differs from the template's
	VarTooLong                     // a variable holds more than it may
)

// MatchError says why a message does not match its template. It never
// holds any of the message's text: only positions, lengths and the
// template's own fixed text, so that it may be logged.
type MatchError struct {
	Kind, Lang string
	Reason     Reason
	// FixedDiffers: Pos is the 0-based character of the message at which
	// it differs (or ends, or goes on past the template's end), and Want
	// the template's fixed text from there ("" past its end).
	Pos  int
	Want string
	// VarTooLong: the run of adjacent variables Var to Var+Vars-1
	// (1-based, in template order) holds Len characters, at most Max.
	Var, Vars, Len, Max int
}

func (e *MatchError) Error() string {
	what := fmt.Sprintf("dlt: %s SMS in %q", e.Kind, e.Lang)
	switch e.Reason {
	case NoTemplate:
		return what + ": no template"
	case NoID:
		return what + ": the template has no id (a draft file)"
	case FixedDiffers:
		if e.Want == "" {
			return fmt.Sprintf("%s: fixed text differs at %s: the template ends there", what, position(e.Pos))
		}
		return fmt.Sprintf("%s: fixed text differs at %s: the template has %q", what, position(e.Pos), e.Want)
	case VarTooLong:
		v := fmt.Sprintf("variable %d", e.Var)
		if e.Vars > 1 {
			v = fmt.Sprintf("variables %d to %d (adjacent)", e.Var, e.Var+e.Vars-1)
		}
		return fmt.Sprintf("%s: %s too long: %d characters, at most %d", what, v, e.Len, e.Max)
	}
	return what + ": does not match its template"
}

// match checks text against c: nil when it matches, else a *MatchError.
func (c *compiled) match(text string) *MatchError {
	m := &matcher{c: c, text: []rune(text)}
	if m.matches() {
		return nil
	}
	e := &MatchError{Kind: c.Kind, Lang: c.Lang}
	// Without the bounds on variables: the assignment that overflows them
	// least names the variable too long; when there is none, the best
	// partial match says where the fixed text differs.
	if lens, ok := m.leastOver(); ok {
		for i, p := range c.parts {
			if lens[i] > p.max {
				e.Reason, e.Var, e.Vars, e.Len, e.Max = VarTooLong, p.first, p.vars, lens[i], p.max
				return e
			}
		}
	}
	e.Reason, e.Pos, e.Want = FixedDiffers, m.best.pos, m.best.want
	return e
}

// matcher is one message matched against a template: a search over where
// each run of variables ends, remembering what it found for each part and
// position, so that its work is at most parts × characters × run length.
type matcher struct {
	c    *compiled
	text []rune
	memo []int // by part i and position pos: i*(len(text)+1)+pos
	pick []int // leastOver: the characters the best choice gives the run
	best failure
}

// failure is a fixed part that did not match, ranked by how far into the
// template it got and how alike the rest looked (see score).
type failure struct {
	set        bool
	seg, score int
	pos        int
	want       string
}

const (
	unknown = -1
	never   = math.MaxInt / 2
)

// matches reports whether the text matches with every run of variables
// within its bound.
func (m *matcher) matches() bool {
	if mismatch(m.c.head, m.text) >= 0 {
		return false
	}
	m.reset()
	return m.solve(0, len(m.c.head))
}

func (m *matcher) reset() {
	m.memo = make([]int, len(m.c.parts)*(len(m.text)+1))
	for i := range m.memo {
		m.memo[i] = unknown
	}
}

func (m *matcher) solve(i, pos int) bool {
	n := len(m.text)
	if i == len(m.c.parts) {
		return pos == n
	}
	at := i*(n+1) + pos
	if m.memo[at] != unknown {
		return false // only failures are remembered: a success ends the search
	}
	p := m.c.parts[i]
	for l := 0; l <= min(p.max, n-pos); l++ {
		q := pos + l
		if mismatch(p.fixed, m.text[q:]) < 0 && m.solve(i+1, q+len(p.fixed)) {
			return true
		}
	}
	m.memo[at] = never
	return false
}

// leastOver finds, with runs of variables unbounded, the match in which
// they hold the fewest characters beyond their bounds, and returns the
// characters each run holds in it; ok is false when the fixed text does
// not match however long the variables. It records the best failure.
func (m *matcher) leastOver() (lens []int, ok bool) {
	if j := mismatch(m.c.head, m.text); j >= 0 {
		m.fail(0, m.c.head, j, 0)
		return nil, false
	}
	m.reset()
	m.pick = make([]int, len(m.memo))
	if m.over(0, len(m.c.head)) >= never {
		return nil, false
	}
	n := len(m.text)
	lens = make([]int, len(m.c.parts))
	for i, pos := 0, len(m.c.head); i < len(m.c.parts); i++ {
		lens[i] = m.pick[i*(n+1)+pos]
		pos += lens[i] + len(m.c.parts[i].fixed)
	}
	return lens, true
}

// over is the fewest characters beyond their bounds that runs i on hold
// in a match of the text from pos (never: no match).
func (m *matcher) over(i, pos int) int {
	n := len(m.text)
	if i == len(m.c.parts) {
		if pos == n {
			return 0
		}
		m.fail(len(m.c.parts)+1, nil, 0, pos) // text goes on past the template
		return never
	}
	at := i*(n+1) + pos
	if m.memo[at] != unknown {
		return m.memo[at]
	}
	p := m.c.parts[i]
	best := never
	for l := 0; l <= n-pos; l++ {
		q := pos + l
		if j := mismatch(p.fixed, m.text[q:]); j >= 0 {
			m.fail(i+1, p.fixed, j, q)
			continue
		}
		if c := m.over(i+1, q+len(p.fixed)); c < never && c+max(0, l-p.max) < best {
			best, m.pick[at] = c+max(0, l-p.max), l
		}
	}
	m.memo[at] = best
	return best
}

// fail records that fixed did not match the text at q, differing at its
// j-th character, in the seg-th fixed part (0 the head).
func (m *matcher) fail(seg int, fixed []rune, j, q int) {
	f := failure{set: true, seg: seg, pos: q + j, score: score(fixed, m.text[q:], j)}
	if j < len(fixed) {
		f.want = snippet(fixed[j:])
	}
	if !m.best.set || f.seg > m.best.seg || f.seg == m.best.seg && f.score > m.best.score {
		m.best = f
	}
}

// mismatch is the index of the first character at which text does not
// start with fixed (len(text) when text ends first), -1 when it does.
func mismatch(fixed, text []rune) int {
	for j, r := range fixed {
		if j >= len(text) || text[j] != r {
			return j
		}
	}
	return -1
}

// score ranks a partial match of fixed that differs at j: the characters
// before j, plus those after it that are equal as if one character had
// been replaced (up to a bound), so that among the places a variable might
// end, the one where only a character changed is reported.
func score(fixed, text []rune, j int) int {
	s := j
	for k := j + 1; k < len(fixed) && k < len(text) && k < j+40; k++ {
		if fixed[k] == text[k] {
			s++
		}
	}
	return s
}

// snippet is the start of s, for error messages.
func snippet(s []rune) string {
	const most = 24
	if len(s) > most {
		return string(s[:most]) + "…"
	}
	return string(s)
}
