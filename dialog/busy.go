package dialog

import (
	"strconv"
	"sync"
)

// memoCap bounds the language memo; past it the memo starts afresh, which
// only means a few busy screens in English.
const memoCap = 1 << 20

// langMemo remembers the language of callers this process has served. It
// is a hint for the busy screen, which must be answered without touching
// the store; the conversation's own state never lives here.
type langMemo struct {
	mu sync.RWMutex
	m  map[string]string
}

func (l *langMemo) get(msisdn string) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.m[msisdn]
}

func (l *langMemo) set(msisdn, lang string) {
	if lang == "" {
		return
	}
	l.mu.RLock()
	same := l.m[msisdn] == lang
	l.mu.RUnlock()
	if same {
		return
	}
	l.mu.Lock()
	if l.m == nil || len(l.m) >= memoCap {
		l.m = make(map[string]string)
	}
	l.m[msisdn] = lang
	l.mu.Unlock()
}

// Busy is the polite screen for a caller turned away under load, in the
// caller's language when this process has served them before (English
// otherwise; Roman Hindi for an Indic language on a GSM-7 channel). It does
// no I/O, so it can be answered at once however loaded the store is. It
// ends the session.
func (e *Engine) Busy(t Turn) Reply {
	key := "busy.ussd"
	if t.Channel == SMSChannel {
		key = "busy.sms"
	}
	return Reply{Text: e.text(e.busyLanguage(t), key), End: true}
}

// Queued is the busy screen of a new caller given a place in the surge
// queue: their position and about how many minutes it is likely to take,
// and the promise of an SMS. Like Busy it does no I/O and ends the
// session.
func (e *Engine) Queued(t Turn, position, minutes int) Reply {
	return Reply{End: true, Text: e.text(e.busyLanguage(t), "busy.queued",
		"position", strconv.Itoa(position), "minutes", strconv.Itoa(max(1, minutes)))}
}

// busyLanguage is the language of a caller turned away: the one this
// process last served them in, English otherwise.
func (e *Engine) busyLanguage(t Turn) string {
	if n, err := NormaliseMsisdn(t.Msisdn); err == nil {
		if l := e.langs.get(n); l != "" {
			return ShownLanguage(l, t.GSM7Only)
		}
	}
	return "en"
}
