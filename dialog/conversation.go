package dialog

import (
	"slices"
	"time"
)

// Channel is the kind of bearer a turn arrives on.
type Channel string

// Channels.
const (
	USSD       Channel = "ussd"
	SMSChannel Channel = "sms"
)

// Turn is one input from a caller, decoded by a provider.
type Turn struct {
	Channel  Channel
	Provider string // provider name, for metrics and the reply cache
	// Session is the aggregator's session id (USSD); for SMS, the provider
	// may leave it empty.
	Session string
	// Delivery identifies this delivery (for example the aggregator session
	// id with the full USSD text, or an SMS message id): a retry of the same
	// delivery gets the cached reply and advances nothing. "" disables that.
	Delivery string
	// NewSession is true on the first request of a USSD session.
	NewSession bool
	Msisdn     string // caller's number in any accepted form; normalised by the engine
	Input      string // the latest input only
	// ScreenLimit overrides the channel's default screen size (characters
	// for GSM-7 text); 0 keeps the default.
	ScreenLimit int
	// UCS2Limit overrides the limit for text that needs UCS-2; 0 keeps the default.
	UCS2Limit int
	// GSM7Only marks a channel that cannot show UCS-2 text (Indic scripts):
	// a caller who chose an Indic language is shown Roman Hindi there
	// (ShownLanguage), and the language menu offers English and Roman Hindi.
	GSM7Only bool
	// Languages is the order of the language menu the channel asks for (a
	// partner's), as catalogue codes; nil is the default (MenuLanguages).
	Languages []string
	// Vouched is set by a provider whose requests are authenticated (signed,
	// or from the aggregator's own addresses), so that Msisdn is the
	// network's word for the caller's number: only then may a number that
	// passed a code recently skip it (Config.VerifiedFor).
	Vouched bool
}

// Reply is the screen to show and whether the conversation ends with it.
type Reply struct {
	Text string `json:"text"`
	End  bool   `json:"end,omitempty"`
}

// Conversation is a caller's stored dialogue state: the FSM state and the
// answers collected so far. It is the whole memory of the conversation; the
// copy in the store is the truth (a process may keep one of its own, see
// Conversations.Peek, which the store's compare-and-set checks). Its
// slices, and the Account its Snapshot points to, are never written in
// place: a change replaces them or appends to them (see Clone).
type Conversation struct {
	Msisdn  string  `json:"msisdn"` // caller, E.164: the key it is stored under
	Version int64   `json:"-"`      // compare-and-set version, kept by the store
	State   string  `json:"state"`
	Lang    string  `json:"lang,omitempty"`
	Channel Channel `json:"channel"`
	// ProviderSession is the aggregator session the conversation last saw;
	// a new one mid-journey offers to resume.
	ProviderSession string `json:"psession,omitempty"`
	// Resume is the state to continue in when the caller chooses to.
	Resume string `json:"resume,omitempty"`

	Account string `json:"account,omitempty"` // verified number (E.164), "" until OTP passes
	// Snapshot is the account as this conversation last read it, so that
	// one journey's screens read it from the store once.
	Snapshot *Account `json:"snapshot,omitempty"`
	Target   string   `json:"target,omitempty"` // number being verified

	Draft   Draft   `json:"draft,omitempty"`
	Booking Booking `json:"booking,omitempty"`
	Page    int     `json:"page,omitempty"`   // current page of a paged list
	Notice  string  `json:"notice,omitempty"` // hint or result shown above the next screen
	// Farewell holds last words too long for one screen, paged before the end.
	Farewell string `json:"farewell,omitempty"`
	// SlipAgain is set once the slips were sent again in this conversation:
	// once per call, so that a caller cannot run up SMS by pressing on.
	SlipAgain bool `json:"slip_again,omitempty"`

	Updated time.Time `json:"updated"`

	// Replies are the replies to the conversation's last deliveries, oldest
	// first, kept by the store beside it (like Version) so that a retried
	// delivery gets its reply again; the dialogue only carries them over.
	Replies []KeptReply `json:"-"`
}

// KeptReply is a reply kept for a retried delivery: Key is the store's
// hash of the delivery.
type KeptReply struct {
	Key   string
	Reply Reply
}

// Draft is a beneficiary being added.
type Draft struct {
	IDType    IDType `json:"id_type,omitempty"`
	IDSealed  string `json:"id_sealed,omitempty"` // normalised number, sealed by a Sealer; never kept in clear
	Name      string `json:"name,omitempty"`
	BirthYear int    `json:"birth_year,omitempty"`
	Gender    Gender `json:"gender,omitempty"`
}

// Booking is an appointment being chosen.
type Booking struct {
	Who       []string `json:"who,omitempty"` // beneficiary refs
	Pin       string   `json:"pin,omitempty"`
	CentreID  int64    `json:"centre,omitempty"`
	SessionID string   `json:"session,omitempty"`
	Slot      string   `json:"slot,omitempty"`
	Cancel    string   `json:"cancel,omitempty"` // beneficiary whose appointment is being cancelled
	// AlertPin is the PIN code the PIN screen offers a seat alert for: the
	// last one entered, which had no free seats.
	AlertPin string `json:"alert_pin,omitempty"`
	// Centres and Sessions are the lists the centre and date screens
	// number, fixed when first shown so that a choice means what the caller
	// saw even if seats change meanwhile.
	Centres  []string `json:"centres,omitempty"`
	Sessions []string `json:"sessions,omitempty"`
}

// Clone returns a copy of c whose fields, and whatever is appended to its
// slices, change nothing in c. The copy shares c's slices and Snapshot:
// like strings, they are never written in place (code that changes one
// replaces it, or appends to it), so sharing them is safe, and a turn that
// starts from a process's own copy (Conversations.Peek) copies a few
// hundred bytes rather than the whole conversation with its replies. Each
// shared slice is clipped, so that an append to it copies it first.
func (c *Conversation) Clone() *Conversation {
	d := *c
	d.Booking.Who = slices.Clip(c.Booking.Who)
	d.Booking.Centres = slices.Clip(c.Booking.Centres)
	d.Booking.Sessions = slices.Clip(c.Booking.Sessions)
	d.Replies = slices.Clip(c.Replies)
	return &d
}
