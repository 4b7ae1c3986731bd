package dialog

// MidJourney reports whether a caller who left a conversation in state
// left something half done, worth the gateway's hand-off SMS: a state a
// caller dialling again is offered to continue in (see resumable), other
// than Home and the list of appointments, where nothing is under way. The
// first screens (language, number), the resume offer itself, the last
// words and "" (no conversation) are not.
func MidJourney(state string) bool {
	return resumable[state] && state != stHome && state != stMine
}
