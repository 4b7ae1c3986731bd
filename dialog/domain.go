package dialog

import "time"

// IDType is a kind of photo identity document accepted at registration.
type IDType string

// Photo ID types, in the order the Add person screen lists them.
const (
	IDAadhaar  IDType = "aadhaar"
	IDPAN      IDType = "pan"
	IDDriving  IDType = "dl"
	IDVoter    IDType = "voter"
	IDPassport IDType = "passport"
)

// IST is India Standard Time, UTC+05:30: the zone of every session date and
// of the caller's day. Fixed, so that no time-zone database is needed.
var IST = time.FixedZone("IST", 5*3600+1800)

// IDTypes lists the photo ID types in screen order (option 1 is IDTypes[0]).
var IDTypes = []IDType{IDAadhaar, IDPAN, IDDriving, IDVoter, IDPassport}

// Gender as recorded for a beneficiary.
type Gender string

// Genders in screen order.
const (
	Male   Gender = "M"
	Female Gender = "F"
	Other  Gender = "O"
)

// FeeType of a centre: "Free" or "Paid", as Co-WIN spells it.
type FeeType string

// Fee types.
const (
	Free FeeType = "Free"
	Paid FeeType = "Paid"
)

// Centre is a vaccination centre with its sessions, as imported from a Co-WIN
// calendar. Session capacity here is the imported figure; live free seats come
// from Registry.Seats.
type Centre struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Address  string    `json:"address,omitempty"`
	State    string    `json:"state,omitempty"`
	District string    `json:"district,omitempty"`
	Block    string    `json:"block,omitempty"`
	Pincode  string    `json:"pincode"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	FeeType  FeeType   `json:"fee_type"`
	Fees     []Fee     `json:"fees,omitempty"`
	Sessions []Session `json:"sessions"`
}

// Fee is the price of one vaccine at a paid centre, in rupees.
type Fee struct {
	Vaccine string `json:"vaccine"`
	Rupees  int    `json:"rupees"`
}

// Session is one vaccination session: a centre, a date, a vaccine.
// (The caller's conversation is a Conversation, not a Session.)
type Session struct {
	ID          string    `json:"id"`
	CentreID    int64     `json:"centre_id"`
	Date        time.Time `json:"date"` // midnight IST of the session day
	Vaccine     string    `json:"vaccine,omitempty"`
	MinAge      int       `json:"min_age"`
	MaxAge      int       `json:"max_age,omitempty"` // 0: no upper limit
	AllowAllAge bool      `json:"allow_all_age,omitempty"`
	Slots       []string  `json:"slots"`
	// Capacity imported for dose 1 and dose 2.
	Capacity [2]int `json:"capacity"`
}

// AgeFits reports whether a person of the given age may book this session.
func (s Session) AgeFits(age int) bool {
	if s.AllowAllAge {
		return true
	}
	if age < s.MinAge {
		return false
	}
	return s.MaxAge == 0 || age <= s.MaxAge
}

// Fee returns the fee in rupees for this session's vaccine at the centre, and
// whether one is known. Free centres always return 0, true.
func (c Centre) Fee(vaccine string) (int, bool) {
	if c.FeeType != Paid {
		return 0, true
	}
	for _, f := range c.Fees {
		if f.Vaccine == vaccine || vaccine == "" {
			return f.Rupees, true
		}
	}
	return 0, false
}

// Seats is the live seat count of one session.
type Seats struct {
	Free   [2]int // free seats for dose 1 and dose 2
	Booked [2]int // seats held by appointments
}

// Beneficiary is a person registered on an account.
type Beneficiary struct {
	Ref       string    `json:"ref"` // reference number shown to the caller, unique
	Name      string    `json:"name"`
	BirthYear int       `json:"birth_year"`
	Gender    Gender    `json:"gender"`
	IDType    IDType    `json:"id_type"`
	IDMasked  string    `json:"id_masked"` // e.g. "XXXX XXXX 1234"; the number itself is never here
	Created   time.Time `json:"created"`
}

// NewBeneficiary is what the Add person screens collect.
type NewBeneficiary struct {
	Name      string
	BirthYear int
	Gender    Gender
	IDType    IDType
	IDNumber  string // normalised (NormaliseID); stored only hashed and encrypted
}

// Appointment is one booked seat.
type Appointment struct {
	ID          string    `json:"id"`   // appointment id shown on the slip
	Code        string    `json:"code"` // 4-digit security code
	Beneficiary string    `json:"beneficiary"`
	Msisdn      string    `json:"msisdn"`
	SessionID   string    `json:"session_id"`
	CentreID    int64     `json:"centre_id"`
	Date        time.Time `json:"date"`
	Slot        string    `json:"slot"`
	Dose        int       `json:"dose"` // 1 or 2
	Booked      time.Time `json:"booked"`
}

// Account is everything registered under one verified mobile number.
type Account struct {
	Msisdn        string        `json:"msisdn"`
	Beneficiaries []Beneficiary `json:"beneficiaries,omitempty"` // in registration order
	Appointments  []Appointment `json:"appointments,omitempty"`
}

// AppointmentFor returns the beneficiary's appointment for a dose, if any.
func (a Account) AppointmentFor(ref string, dose int) (Appointment, bool) {
	for _, ap := range a.Appointments {
		if ap.Beneficiary == ref && ap.Dose == dose {
			return ap, true
		}
	}
	return Appointment{}, false
}

// BookRequest asks for one seat for one beneficiary.
type BookRequest struct {
	Msisdn      string
	Beneficiary string
	SessionID   string
	Slot        string
	Dose        int
}

// Stats are the registry counts shown to operators.
type Stats struct {
	Centres       int64 `json:"centres"`
	Sessions      int64 `json:"sessions"`
	Beneficiaries int64 `json:"beneficiaries"`
	Appointments  int64 `json:"appointments"`
	SeatsFree     int64 `json:"seats_free"`
	// SMSQueued is how many SMS wait to be delivered, and SMSOldest the
	// age in seconds of the oldest of them.
	SMSQueued int64   `json:"sms_queued"`
	SMSOldest float64 `json:"sms_oldest_seconds"`
}
