package dialog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/looplab/fsm"
)

// turn is one input being applied to one conversation.
type turn struct {
	e      *Engine
	ctx    context.Context
	in     Turn
	msisdn string
	now    time.Time
	c      *Conversation
	reg    Registry // the engine's, or a readOnly one
	otps   OTPs     // likewise

	input   string // cleaned input
	shown   string // state whose screen the reply shows
	outbox  []SMS  // SMS to send once the state is saved
	closing bool   // the caller read the last words: end, whatever the size
	issued  string // the number a code was issued to this turn, if any

	account *Account // loaded at most once per turn
	centres map[string][]Centre
	byID    map[int64]int // index in centres[byIDPin] of each centre id
	byIDPin string
}

func (tr *turn) text(key string, args ...string) string {
	return tr.e.text(tr.lang(), key, args...)
}

// lang is the language the screens are shown in.
func (tr *turn) lang() string {
	return ShownLanguage(tr.c.Lang, tr.in.GSM7Only)
}

// notice sets the one-line hint shown above the next screen.
func (tr *turn) notice(key string, args ...string) {
	tr.c.Notice = tr.text(key, args...)
}

// run applies the input to the loaded conversation and returns the reply.
func (tr *turn) run(ld Loaded) (Reply, error) {
	tr.input = CleanInput(tr.in.Input)
	if ld.Conversation == nil {
		tr.c = &Conversation{Msisdn: tr.msisdn, Lang: ld.Lang, Channel: tr.in.Channel, ProviderSession: tr.in.Session,
			Replies: ld.Replies}
		if err := tr.begin(); err != nil {
			return Reply{}, err
		}
		if tr.in.Channel == SMSChannel { // STOP, HELP, LANG work from the first message too
			if r, done, err := tr.keyword(); done {
				return r, err
			}
		}
		return tr.render()
	}
	tr.c = ld.Conversation
	if tr.c.Lang == "" {
		tr.c.Lang = ld.Lang
	}
	from := tr.c.Channel
	tr.c.Channel = tr.in.Channel
	defer func() { tr.c.Updated = tr.now }()

	if tr.in.Channel == SMSChannel {
		if r, done, err := tr.keyword(); done {
			return r, err
		}
		// The first SMS of a journey begun over USSD answers the hand-off
		// SMS, not the screen: show the screen where the caller was, from
		// its first page (MORE still pages; an unknown state restarts in
		// step).
		if _, known := states[tr.c.State]; known && from == USSD && tr.input != optMore {
			tr.c.Page, tr.c.Notice = 0, ""
			return tr.render()
		}
	}
	if tr.in.Channel == USSD && tr.in.NewSession && tr.in.Session != tr.c.ProviderSession {
		tr.c.ProviderSession, tr.c.Notice = tr.in.Session, ""
		if resumable[tr.c.State] {
			tr.c.Resume, tr.c.State, tr.c.Page = tr.c.State, stResume, 0
		} else if err := tr.restart(); err != nil {
			return Reply{}, err
		}
		return tr.render()
	}
	if err := tr.step(); err != nil {
		return Reply{}, err
	}
	return tr.render()
}

// begin puts a conversation without history on its first screen: the
// languages for a caller new to TikaSetu, Home for one whose number the
// provider vouches for and who passed a code within Config.VerifiedFor,
// and the choice of number otherwise.
func (tr *turn) begin() error {
	switch {
	case tr.c.Lang == "":
		tr.c.State = stLang
		return nil
	case tr.c.Account == "":
		ok, err := tr.verifiedBefore()
		if err != nil || !ok {
			tr.c.State = stNumber
			return err
		}
	}
	tr.c.State = stHome
	return nil
}

// restart forgets the journey (not the language) and starts again.
func (tr *turn) restart() error {
	*tr.c = Conversation{Msisdn: tr.c.Msisdn, Version: tr.c.Version, Lang: tr.c.Lang,
		Channel: tr.c.Channel, ProviderSession: tr.c.ProviderSession, Replies: tr.c.Replies}
	return tr.begin()
}

// keyword handles the SMS keywords (STOP, HELP, LANG, REG or HI, MORE,
// and ALERT when seat alerts are on).
// done is false when the message is ordinary input.
func (tr *turn) keyword() (Reply, bool, error) {
	switch keyword(tr.input) {
	case "STOP":
		tr.c.State = "" // the store deletes the conversation
		tr.shown = "stop"
		return Reply{Text: tr.text("sms.stopped"), End: true}, true, nil
	case "HELP":
		tr.c.Notice = tr.text("sms.help")
		r, err := tr.render()
		return r, true, err
	case "LANG":
		tr.c.State, tr.c.Page = stLang, 0
		r, err := tr.render()
		return r, true, err
	case "REG", "HI":
		if err := tr.restart(); err != nil {
			return Reply{}, true, err
		}
		r, err := tr.render()
		return r, true, err
	case "MORE":
		tr.input = optMore
	default: // ALERT <PIN>, ALERT OFF, ALERT (alert.go)
		if tr.alerting() && isAlertKeyword(tr.input) {
			r, err := tr.alertKeyword()
			return r, true, err
		}
	}
	return Reply{}, false, nil
}

// Navigation options shared by every screen.
const (
	optMore = "98"
	optBack = "0"
)

// step applies the input in the current state: paging and Back first, then
// the state's own handler, whose event drives the state machine. Paging
// keeps the notice of the screen (it is part of the pages); any other
// input clears it.
func (tr *turn) step() error {
	st, ok := states[tr.c.State]
	if !ok { // a state from an older release, or damage: start again
		return tr.restart()
	}
	if tr.input == optMore {
		menu, err := tr.menu(st)
		if err != nil {
			return err
		}
		if n := len(menu.Pages(tr.budget())); n > 1 {
			tr.c.Page = (tr.c.Page + 1) % n
			return nil
		}
	}
	if tr.input == optBack && tr.c.Page > 0 && st.back != "" {
		tr.c.Page--
		return nil
	}
	tr.c.Notice = ""
	if tr.input == optBack && st.back != "" {
		return tr.fire(evBack)
	}
	ev, err := st.input(tr)
	if err != nil {
		return err
	}
	if ev == "" {
		return nil
	}
	return tr.fire(ev)
}

// machines holds state machines built from the shared table of events.
// Building one costs a map of every transition, so turns borrow one and set
// it to the conversation's state: the machine itself carries nothing from
// one turn to the next.
var machines = sync.Pool{New: func() any { return fsm.NewFSM(stLang, transitions, nil) }}

// fire moves the conversation along one event of the shared table.
func (tr *turn) fire(ev string) error {
	if ev == evEnd {
		tr.c.State = stEnd
		return nil
	}
	m := machines.Get().(*fsm.FSM)
	m.SetState(tr.c.State)
	// The machine has no callbacks, so the transition needs no deadline;
	// given the turn's, an expired one would leave the transition half
	// done inside the machine, and every later turn that borrowed it
	// would fail.
	err := m.Event(context.Background(), ev)
	var same fsm.NoTransitionError
	if err != nil && !errors.As(err, &same) {
		return fmt.Errorf("dialog: event %q in state %q: %w", ev, tr.c.State, err)
	}
	defer machines.Put(m) // only a machine that finished its transition goes back
	if m.Current() != tr.c.State {
		tr.c.Page = 0
	}
	tr.c.State = m.Current()
	return nil
}

// budget is the screen size of the turn's channel.
func (tr *turn) budget() Budget {
	if tr.in.Channel == SMSChannel {
		return SMSReplyBudget
	}
	b := USSDBudget
	if tr.in.ScreenLimit > 0 {
		b.GSM = tr.in.ScreenLimit
	}
	if tr.in.UCS2Limit > 0 {
		b.UCS2 = tr.in.UCS2Limit
	}
	return b
}

// render shows the current state's screen, the page the caller is on.
func (tr *turn) render() (Reply, error) {
	tr.shown = tr.c.State
	if tr.c.State == stEnd {
		// The last words end the session when they fit one screen; else
		// they page, and the caller ends with 0 (after which the goodbye
		// is cut to the screen rather than paged again).
		limit := tr.budget().For(tr.c.Notice)
		if Units(tr.c.Notice) <= limit || tr.closing {
			tr.c.State = "" // a finished conversation is forgotten; the language stays
			return Reply{Text: Shorten(tr.c.Notice, limit), End: true}, nil
		}
		tr.c.State, tr.c.Page = stDone, 0
		tr.c.Farewell, tr.c.Notice = tr.c.Notice, ""
	}
	menu, err := tr.menu(states[tr.c.State])
	if err != nil {
		return Reply{}, err
	}
	pages := menu.Pages(tr.budget())
	if tr.c.Page >= len(pages) {
		tr.c.Page = 0
	}
	return Reply{Text: pages[tr.c.Page]}, nil
}

// menu is the state's whole screen: the notice, then what the state shows.
func (tr *turn) menu(st state) (Menu, error) {
	m, err := st.screen(tr)
	if err != nil {
		return Menu{}, err
	}
	if tr.c.Notice != "" {
		m.Notice = strings.Split(tr.c.Notice, "\n")
	}
	if m.More == "" {
		m.More = optMore + " " + tr.text("nav.more")
	}
	// The notice may stand for a menu's title: the result of the last step
	// says where the caller is, and the options what to do next.
	if len(m.Notice) > 0 && len(m.Head) > 0 && len(m.Items) > 0 && !m.Confirm {
		if untitled := m; !m.OnePage(tr.budget()) {
			untitled.Head = nil
			if untitled.OnePage(tr.budget()) {
				return untitled, nil
			}
		}
	}
	return m, nil
}

// fitting returns the first of the candidate screens, richest first, that
// shows whole on one page with the notice the caller will see; when none
// does, the first of those that take the fewest pages. A screen offers
// details where they fit.
func (tr *turn) fitting(candidates ...Menu) Menu {
	best, fewest := 0, 0
	for i, m := range candidates {
		shown := m
		if tr.c.Notice != "" {
			shown.Notice = strings.Split(tr.c.Notice, "\n")
		}
		if shown.More == "" {
			shown.More = optMore + " " + tr.text("nav.more")
		}
		if shown.OnePage(tr.budget()) {
			return m
		}
		n := len(shown.Pages(tr.budget()))
		if i == 0 || n < fewest {
			best, fewest = i, n
		}
	}
	return candidates[best]
}

// loadAccount returns the verified account. The conversation keeps a copy
// between turns, so that the screens of one journey read it from Redis
// once rather than on every turn; each change this conversation makes to
// the account drops the copy (forgetAccount). The copy only shapes
// screens: the store checks every registration and booking itself.
func (tr *turn) loadAccount() (Account, error) {
	if tr.account == nil {
		if tr.c.Snapshot != nil {
			tr.account = tr.c.Snapshot
		} else {
			a, err := tr.reg.Account(tr.ctx, tr.c.Account)
			if err != nil {
				return Account{}, fmt.Errorf("dialog: account %s: %w", MaskMsisdn(tr.c.Account), err)
			}
			tr.account, tr.c.Snapshot = &a, &a
		}
	}
	return *tr.account, nil
}

// forgetAccount drops the copy of the account after a change to it.
func (tr *turn) forgetAccount() {
	tr.account, tr.c.Snapshot = nil, nil
}

// centresAt returns the centres at a PIN code, once per turn.
func (tr *turn) centresAt(pin string) ([]Centre, error) {
	if cs, ok := tr.centres[pin]; ok {
		return cs, nil
	}
	cs, err := tr.reg.CentresByPin(tr.ctx, pin)
	if err != nil {
		return nil, fmt.Errorf("dialog: centres at %s: %w", pin, err)
	}
	if tr.centres == nil {
		tr.centres = map[string][]Centre{}
	}
	tr.centres[pin] = cs
	return cs, nil
}

// centre finds a centre by id among those at the booking's PIN code.
func (tr *turn) centre(id int64) (Centre, error) {
	pin := tr.c.Booking.Pin
	cs, err := tr.centresAt(pin)
	if err != nil {
		return Centre{}, err
	}
	if tr.byID == nil || tr.byIDPin != pin {
		tr.byID, tr.byIDPin = make(map[int64]int, len(cs)), pin
		for i, c := range cs {
			tr.byID[c.ID] = i
		}
	}
	if i, ok := tr.byID[id]; ok {
		return cs[i], nil
	}
	c, err := tr.reg.Centre(tr.ctx, id)
	if err != nil {
		return Centre{}, fmt.Errorf("dialog: centre %d: %w", id, err)
	}
	return c, nil
}

// options numbers labels from 1 as menu items.
func options(labels ...string) []string {
	items := make([]string, len(labels))
	for i, l := range labels {
		items[i] = strconv.Itoa(i+1) + " " + l
	}
	return items
}

// pick maps a menu choice to a 0-based index among n options.
func pick(in string, n int) (int, bool) {
	k, ok := choice(in)
	if !ok || k < 1 || k > n {
		return 0, false
	}
	return k - 1, true
}

// today is the caller's calendar day in India.
func (tr *turn) today() time.Time {
	y, m, d := tr.now.In(IST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, IST)
}
