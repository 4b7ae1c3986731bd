package dialogtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// portCase is one behaviour of the ports that the engine relies on. Check
// runs on fresh Ports opened with Options and a Clock at Start, and returns
// what differs from the behaviour, or nil.
type portCase struct {
	Name    string
	Options Options // Clock is set by RunPorts
	Check   func(ctx context.Context, p Ports, clock *Clock) error
}

// RunPorts runs every portCase on backend, one subtest each.
func RunPorts(t *testing.T, backend Backend) {
	for _, pc := range portCases() {
		t.Run(pc.Name, func(t *testing.T) {
			clock := NewClock(Start)
			o := pc.Options
			o.Clock = clock
			if err := pc.Check(context.Background(), backend(t, o), clock); err != nil {
				t.Error(err)
			}
		})
	}
}

// Numbers the cases use.
const (
	caller = "+919830000001"
	other  = "+919830000002"
)

func number(i int) string { return fmt.Sprintf("+9198310%05d", i) }

// portCases returns the suite.
func portCases() []portCase {
	cases := []portCase{
		{Name: "conversation saved and loaded", Check: checkRoundTrip},
		{Name: "conversation compare-and-set", Check: checkCompareAndSet},
		{Name: "conversation saves at once: one wins", Check: checkConcurrentSaves},
		{Name: "peek", Check: checkPeek},
		{Name: "code delivery failed", Check: checkUndelivered},
		{Name: "codes for other numbers", Check: checkOtherNumbers},
		{Name: "codes a second overall", Options: Options{OTPRate: 2}, Check: checkRate("p", "q", "p")},
		{Name: "codes a second per provider", Options: Options{OTPProviderRate: 2}, Check: checkRate("p", "q", "p", "p")},
		{Name: "verified number remembered", Check: checkRemember},
		{Name: "beneficiaries", Check: checkBeneficiaries},
		{Name: "centres and seats", Check: checkCentres},
		{Name: "booking", Check: checkBooking},
		{Name: "sealer", Check: checkSealer},
		{Name: "alert: once a day per subscription", Check: checkAlertOncePerDay},
		{Name: "alert: the day is India's", Check: checkAlertDayInIndia},
		{Name: "alert: at most three per number", Check: checkAlertMax},
		{Name: "alert: renewal counts once, keeps the day, takes the language", Check: checkAlertRenew},
		{Name: "alert: ends after seven days", Check: checkAlertExpiry},
		{Name: "alert: unsubscribe ends them all", Check: checkAlertUnsubscribe},
		{Name: "alert: due at once: each subscriber once", Check: checkAlertConcurrentDue},
		{Name: "alert: bad input refused", Check: checkAlertInput},
	}
	for _, oc := range otpCases {
		cases = append(cases, portCase{Name: "code: " + oc.name, Check: oc.check})
	}
	return cases
}

func checkRoundTrip(ctx context.Context, p Ports, _ *Clock) error {
	if l, err := p.Conversations.Load(ctx, caller, "k1"); err != nil || l.Conversation != nil || l.Lang != "" || l.Cached != nil {
		return fmt.Errorf("empty load = %+v, %v", l, err)
	}
	c := &dialog.Conversation{Msisdn: caller, State: "number", Lang: "hi", Channel: dialog.USSD,
		Booking: dialog.Booking{Who: []string{"1234567890123"}, Pin: "700001"}, Updated: Start}
	reply := dialog.Reply{Text: "1 Register\n2 Other number"}
	if err := p.Conversations.Save(ctx, c, 10*time.Minute, "k1", reply); err != nil {
		return err
	}
	if c.Version == 0 {
		return errors.New("version 0 after a save")
	}
	l, err := p.Conversations.Load(ctx, caller, "k1")
	switch {
	case err != nil:
		return err
	case l.Conversation == nil || l.Conversation.State != "number" || l.Conversation.Version != c.Version ||
		!slices.Equal(l.Conversation.Booking.Who, c.Booking.Who) || !l.Conversation.Updated.Equal(Start):
		return fmt.Errorf("loaded %+v, saved %+v", l.Conversation, c)
	case l.Lang != "hi" || l.Cached == nil || *l.Cached != reply:
		return fmt.Errorf("loaded language %q and reply %+v", l.Lang, l.Cached)
	}
	if l, _ := p.Conversations.Load(ctx, caller, "k2"); l.Cached != nil {
		return fmt.Errorf("reply cached under another key: %+v", l.Cached)
	}
	if _, err := p.Conversations.Load(ctx, "9830000001", ""); err == nil {
		return errors.New("a number without +country accepted")
	}
	return nil
}

func checkCompareAndSet(ctx context.Context, p Ports, _ *Clock) error {
	c := &dialog.Conversation{Msisdn: caller, State: "lang", Lang: "bn"}
	if err := p.Conversations.Save(ctx, c, time.Minute, "k1", dialog.Reply{Text: "1"}); err != nil {
		return err
	}
	first := c.Version
	stale := &dialog.Conversation{Msisdn: caller, State: "stale"}
	if err := p.Conversations.Save(ctx, stale, time.Minute, "", dialog.Reply{}); !errors.Is(err, dialog.ErrConflict) {
		return fmt.Errorf("save at a stale version: %v, want conflict", err)
	}
	again := c.Clone()
	again.State = "again"
	if err := p.Conversations.Save(ctx, again, time.Minute, "k1", dialog.Reply{Text: "2"}); !errors.Is(err, dialog.ErrConflict) {
		return fmt.Errorf("save of a delivery already answered: %v, want conflict", err)
	}
	// Deleting keeps the language and caches the reply.
	c.State, c.Lang = "", ""
	if err := p.Conversations.Save(ctx, c, time.Minute, "k2", dialog.Reply{Text: "Bye", End: true}); err != nil || c.Version != 0 {
		return fmt.Errorf("delete: %v, version %d", err, c.Version)
	}
	l, err := p.Conversations.Load(ctx, caller, "k2")
	if err != nil || l.Conversation != nil || l.Lang != "bn" || l.Cached == nil || !l.Cached.End {
		return fmt.Errorf("after delete: %+v, %v", l, err)
	}
	// A new conversation gets a version never seen before.
	n := &dialog.Conversation{Msisdn: caller, State: "home"}
	if err := p.Conversations.Save(ctx, n, 0, "", dialog.Reply{}); err != nil || n.Version == 0 || n.Version == first {
		return fmt.Errorf("new conversation: %v, version %d (the first was %d)", err, n.Version, first)
	}
	old := &dialog.Conversation{Msisdn: caller, State: "old", Version: first}
	if err := p.Conversations.Save(ctx, old, 0, "", dialog.Reply{}); !errors.Is(err, dialog.ErrConflict) {
		return fmt.Errorf("save at the deleted conversation's version: %v, want conflict", err)
	}
	return nil
}

func checkConcurrentSaves(ctx context.Context, p Ports, _ *Clock) error {
	base := &dialog.Conversation{Msisdn: caller, State: "lang"}
	if err := p.Conversations.Save(ctx, base, time.Minute, "", dialog.Reply{}); err != nil {
		return err
	}
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			c := base.Clone()
			c.State = fmt.Sprintf("s%d", i)
			wg.Go(func() { errs[i] = p.Conversations.Save(ctx, c, time.Minute, "", dialog.Reply{}) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, dialog.ErrConflict):
				return err
			}
		}
		if won != 1 {
			return fmt.Errorf("round %d: %d saves won, want 1: %v", round, won, errs)
		}
		l, err := p.Conversations.Load(ctx, caller, "")
		if err != nil || l.Conversation == nil {
			return fmt.Errorf("round %d: load %v", round, err)
		}
		base = l.Conversation
	}
	return nil
}

func checkPeek(ctx context.Context, p Ports, clock *Clock) error {
	conv := p.Conversations
	if _, ok := conv.Peek(caller, ""); ok {
		return errors.New("a peek before any save")
	}
	c := &dialog.Conversation{Msisdn: caller, State: "home", Lang: "bn", Account: caller,
		Booking: dialog.Booking{Who: []string{"1", "2"}}, Updated: Start}
	r1 := dialog.Reply{Text: "1 Add person"}
	if err := conv.Save(ctx, c, 10*time.Minute, "k1", r1); err != nil {
		return err
	}
	pk, ok := conv.Peek(caller, "")
	if !ok || pk.Cached != nil || pk.Conversation == nil || pk.Conversation.Version != c.Version ||
		pk.Conversation.State != "home" || pk.Lang != "bn" {
		return fmt.Errorf("peek after a save = %+v, %v", pk, ok)
	}
	if pk, ok := conv.Peek(caller, "k1"); !ok || pk.Conversation != nil || pk.Cached == nil || *pk.Cached != r1 {
		return fmt.Errorf("peek of the last delivery = %+v, %v; want its reply only", pk, ok)
	}
	pk.Conversation.State = "changed"
	pk.Conversation.Booking.Who = append(pk.Conversation.Booking.Who, "3")
	if again, _ := conv.Peek(caller, ""); again.Conversation.State != "home" || len(again.Conversation.Booking.Who) != 2 {
		return errors.New("a change to one peek shows in the next")
	}

	// Another gateway writes: the copy is overtaken and its save refused.
	theirs := p.Gateway()
	if _, ok := theirs.Peek(caller, ""); ok {
		return errors.New("another gateway peeks at this one's save")
	}
	l, err := theirs.Load(ctx, caller, "")
	if err != nil || l.Conversation == nil {
		return fmt.Errorf("other gateway's load: %+v, %v", l, err)
	}
	if err := theirs.Save(ctx, l.Conversation, 10*time.Minute, "k2", dialog.Reply{}); err != nil {
		return err
	}
	mine, _ := conv.Peek(caller, "")
	if err := conv.Save(ctx, mine.Conversation, 10*time.Minute, "k3", dialog.Reply{}); !errors.Is(err, dialog.ErrConflict) {
		return fmt.Errorf("save from an overtaken copy: %v, want conflict", err)
	}
	if _, ok := conv.Peek(caller, ""); ok {
		return errors.New("the copy is still peeked at after a conflict")
	}

	// Copies serve for 2 minutes; deleting drops them.
	l, _ = conv.Load(ctx, caller, "")
	if err := conv.Save(ctx, l.Conversation, 10*time.Minute, "k4", dialog.Reply{}); err != nil {
		return err
	}
	clock.Advance(2*time.Minute + time.Second)
	if _, ok := conv.Peek(caller, ""); ok {
		return errors.New("a peek after 2 minutes")
	}
	l, _ = conv.Load(ctx, caller, "")
	if l.Conversation == nil {
		return errors.New("conversation gone after 2 minutes of its 1")
	}
	l.Conversation.State = ""
	if err := conv.Save(ctx, l.Conversation, 10*time.Minute, "k5", dialog.Reply{End: true}); err != nil {
		return err
	}
	if _, ok := conv.Peek(caller, ""); ok {
		return errors.New("a peek after the conversation was deleted")
	}
	return nil
}

// otpStep is one step of an otpCase: "issue", "verify" (the right code),
// "wrong" (another code) or "advance".
type otpStep struct {
	do   string
	by   time.Duration // advance
	want error         // nil, a sentinel, or a typed error compared by value
}

type otpCase struct {
	name  string
	steps []otpStep
}

func wrongLeft(n int) error { return &dialog.OTPWrongError{Left: n} }

func limited(d time.Duration, hourly, live bool) error {
	return &dialog.OTPLimitError{RetryAfter: d, Hourly: hourly, Live: live}
}

var otpCases = []otpCase{
	{"right code used once", []otpStep{{do: "issue"}, {do: "verify"}, {do: "verify", want: dialog.ErrOTPExpired}}},
	{"none issued", []otpStep{{do: "wrong", want: dialog.ErrOTPExpired}}},
	{"wrong, wrong, right", []otpStep{{do: "issue"}, {do: "wrong", want: wrongLeft(2)}, {do: "wrong", want: wrongLeft(1)}, {do: "verify"}}},
	{"three wrong void it", []otpStep{
		{do: "issue"}, {do: "wrong", want: wrongLeft(2)}, {do: "wrong", want: wrongLeft(1)},
		{do: "wrong", want: dialog.ErrOTPLocked}, {do: "verify", want: dialog.ErrOTPLocked},
		{do: "advance", by: 5 * time.Second}, {do: "issue", want: limited(25*time.Second, false, false)},
		{do: "advance", by: 25 * time.Second}, {do: "issue"}, {do: "verify"},
	}},
	{"valid 180 s", []otpStep{
		{do: "issue"}, {do: "advance", by: 180 * time.Second}, {do: "wrong", want: wrongLeft(2)},
		{do: "advance", by: time.Millisecond}, {do: "verify", want: dialog.ErrOTPExpired},
	}},
	{"resend cool-down, new code replaces", []otpStep{
		{do: "issue"}, {do: "advance", by: 10 * time.Second}, {do: "issue", want: limited(20*time.Second, false, true)},
		{do: "advance", by: 20 * time.Second}, {do: "issue"}, {do: "verify"},
	}},
	{"a used code leaves no cool-down", []otpStep{{do: "issue"}, {do: "verify"}, {do: "advance", by: time.Second}, {do: "issue"}}},
	{"hourly cap, rolling", []otpStep{
		{do: "issue"}, {do: "advance", by: 30 * time.Second},
		{do: "issue"}, {do: "advance", by: 30 * time.Second},
		{do: "issue"}, {do: "advance", by: 30 * time.Second},
		{do: "issue"}, {do: "advance", by: 30 * time.Second},
		{do: "issue"}, {do: "advance", by: 30 * time.Second},
		{do: "issue", want: limited(time.Hour-150*time.Second, true, true)},
		{do: "advance", by: time.Hour - 150*time.Second - time.Millisecond},
		{do: "issue", want: limited(time.Millisecond, true, false)},
		{do: "advance", by: time.Millisecond}, {do: "issue"},
		{do: "advance", by: 10 * time.Second},
		{do: "issue", want: limited(20*time.Second, false, true)}, // a tie reports the cool-down
	}},
}

func (oc otpCase) check(ctx context.Context, p Ports, clock *Clock) error {
	var code string
	for i, st := range oc.steps {
		var err error
		switch st.do {
		case "issue":
			var c string
			if c, err = p.OTPs.Issue(ctx, dialog.OTPRequest{To: caller, Caller: caller}); err == nil {
				if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
					return fmt.Errorf("step %d: a code of %d characters, not 6 digits", i, len(c))
				}
				code = c
			}
		case "verify":
			err = p.OTPs.Verify(ctx, caller, code)
		case "wrong":
			err = p.OTPs.Verify(ctx, caller, otherCode(code))
		case "advance":
			clock.Advance(st.by)
			continue
		}
		if !sameError(err, st.want) {
			return fmt.Errorf("step %d (%s): %v, want %v", i, st.do, err, st.want)
		}
	}
	return nil
}

// otherCode is a 6-digit code other than code.
func otherCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// sameError compares sentinels with errors.Is and typed errors by value.
func sameError(got, want error) bool {
	var gw, ww *dialog.OTPWrongError
	var gl, wl *dialog.OTPLimitError
	var gb, wb *dialog.OTPBudgetError
	switch {
	case want == nil:
		return got == nil
	case errors.As(want, &ww):
		return errors.As(got, &gw) && *gw == *ww
	case errors.As(want, &wl):
		return errors.As(got, &gl) && *gl == *wl
	case errors.As(want, &wb):
		return errors.As(got, &gb) && *gb == *wb
	}
	return errors.Is(got, want)
}

func checkUndelivered(ctx context.Context, p Ports, _ *Clock) error {
	if err := p.OTPs.MarkUndelivered(ctx, caller); err != nil {
		return err
	}
	if u, err := p.OTPs.Undelivered(ctx, caller); err != nil || u {
		return fmt.Errorf("marked undelivered with no code out: %v, %v", u, err)
	}
	if _, err := p.OTPs.Issue(ctx, dialog.OTPRequest{To: caller}); err != nil {
		return err
	}
	if err := p.OTPs.MarkUndelivered(ctx, caller); err != nil {
		return err
	}
	if u, err := p.OTPs.Undelivered(ctx, caller); err != nil || !u {
		return fmt.Errorf("not marked undelivered: %v, %v", u, err)
	}
	// A failed code needs no cool-down; the new one clears the mark.
	code, err := p.OTPs.Issue(ctx, dialog.OTPRequest{To: caller})
	if err != nil {
		return fmt.Errorf("a new code at once after a failed one: %v", err)
	}
	if u, _ := p.OTPs.Undelivered(ctx, caller); u {
		return errors.New("a new code is still marked undelivered")
	}
	return p.OTPs.Verify(ctx, caller, code)
}

func checkOtherNumbers(ctx context.Context, p Ports, clock *Clock) error {
	ask := func(to string) error {
		_, err := p.OTPs.Issue(ctx, dialog.OTPRequest{To: to, Caller: caller})
		return err
	}
	for i := range 3 {
		if err := ask(number(i)); err != nil {
			return fmt.Errorf("other number %d: %v", i+1, err)
		}
		clock.Advance(time.Minute)
	}
	want := &dialog.OTPBudgetError{Reason: dialog.BudgetOtherNumbers, RetryAfter: time.Hour - 3*time.Minute}
	if err := ask(number(3)); !sameError(err, want) {
		return fmt.Errorf("a fourth other number in the hour: %v, want %v", err, want)
	}
	clock.Advance(time.Minute) // past number(0)'s cool-down
	if err := ask(number(0)); err != nil {
		return fmt.Errorf("a number of this hour again: %v", err)
	}
	if err := ask(caller); err != nil {
		return fmt.Errorf("the caller's own number: %v", err)
	}
	// Three more each hour, up to ten in the day.
	issued, n := 3, 10
	for range 5 {
		clock.Advance(time.Hour)
		for range 3 {
			n++
			if ask(number(n)) == nil {
				issued++
			}
		}
	}
	if issued != 10 {
		return fmt.Errorf("%d other numbers in the day, want 10", issued)
	}
	var refused *dialog.OTPBudgetError
	if err := ask(number(99)); !errors.As(err, &refused) || refused.RetryAfter <= time.Hour {
		return fmt.Errorf("an eleventh number in the day: %v, want refused for more than an hour", err)
	}
	return nil
}

// checkRate asks codes a quarter into one second through the providers
// given: only the last is refused (the rate is 2); the next second
// allows it.
func checkRate(providers ...string) func(context.Context, Ports, *Clock) error {
	return func(ctx context.Context, p Ports, clock *Clock) error {
		clock.Advance(time.Second - time.Duration(clock.Now().Nanosecond()) + 250*time.Millisecond)
		last := len(providers) - 1
		for i, prov := range providers {
			_, err := p.OTPs.Issue(ctx, dialog.OTPRequest{To: number(i), Caller: number(i), Provider: prov})
			var want error
			if i == last {
				want = &dialog.OTPBudgetError{Reason: dialog.BudgetRate, RetryAfter: 750 * time.Millisecond}
			}
			if !sameError(err, want) {
				return fmt.Errorf("code %d in the second: %v, want %v", i+1, err, want)
			}
		}
		clock.Advance(time.Second)
		if _, err := p.OTPs.Issue(ctx, dialog.OTPRequest{To: number(last), Caller: number(last), Provider: providers[last]}); err != nil {
			return fmt.Errorf("in the next second: %v", err)
		}
		return nil
	}
}

func checkRemember(ctx context.Context, p Ports, clock *Clock) error {
	if ok, err := p.OTPs.Remembered(ctx, caller); err != nil || ok {
		return fmt.Errorf("remembered before: %v, %v", ok, err)
	}
	if err := p.OTPs.Remember(ctx, caller, time.Hour); err != nil {
		return err
	}
	clock.Advance(time.Hour - time.Second)
	if ok, err := p.OTPs.Remembered(ctx, caller); err != nil || !ok {
		return fmt.Errorf("not remembered within the hour: %v, %v", ok, err)
	}
	if ok, _ := p.OTPs.Remembered(ctx, other); ok {
		return errors.New("another number remembered")
	}
	clock.Advance(time.Second)
	if ok, err := p.OTPs.Remembered(ctx, caller); err != nil || ok {
		return fmt.Errorf("remembered past the hour: %v, %v", ok, err)
	}
	return nil
}

func person(i int) dialog.NewBeneficiary {
	return dialog.NewBeneficiary{Name: fmt.Sprintf("Person %d", i), BirthYear: 1980, Gender: dialog.Female,
		IDType: dialog.IDPassport, IDNumber: fmt.Sprintf("K%07d", i)}
}

func checkBeneficiaries(ctx context.Context, p Ports, _ *Clock) error {
	aadhaar := dialog.NewBeneficiary{Name: "Asha Devi", BirthYear: 1970, Gender: dialog.Female,
		IDType: dialog.IDAadhaar, IDNumber: "234567890124"}
	b, err := p.Registry.AddBeneficiary(ctx, caller, aadhaar)
	if err != nil {
		return err
	}
	if len(b.Ref) != 13 || b.Ref[0] == '0' || strings.Trim(b.Ref, "0123456789") != "" ||
		b.IDMasked != "XXXX XXXX 0124" || b.Name != aadhaar.Name || !b.Created.Equal(Start) {
		return fmt.Errorf("registered %+v", b)
	}
	for _, tc := range []struct {
		name   string
		msisdn string
		nb     dialog.NewBeneficiary
		want   error
	}{
		{"same ID, same account", caller, aadhaar, dialog.ErrDuplicateID},
		{"same ID, another account", other, aadhaar, dialog.ErrDuplicateID},
		{"same number, another type", other, dialog.NewBeneficiary{Name: "X", BirthYear: 1990, IDType: dialog.IDPassport, IDNumber: "234567890124"}, nil},
		{"second", caller, person(2), nil},
		{"third", caller, person(3), nil},
		{"fourth", caller, person(4), nil},
		{"fifth", caller, person(5), dialog.ErrTooManyBeneficiaries},
		{"an ID of a full account", caller, aadhaar, dialog.ErrDuplicateID},
		{"the fifth's ID elsewhere", other, person(5), nil},
		{"no name", other, dialog.NewBeneficiary{IDType: dialog.IDPAN, IDNumber: "ABCPE1234F"}, errAny},
	} {
		_, err := p.Registry.AddBeneficiary(ctx, tc.msisdn, tc.nb)
		if tc.want == errAny && err == nil || tc.want != errAny && !errors.Is(err, tc.want) {
			return fmt.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	acc, err := p.Registry.Account(ctx, caller)
	if err != nil {
		return err
	}
	var names []string
	for _, b := range acc.Beneficiaries {
		names = append(names, b.Name+" "+b.IDMasked)
	}
	if got := strings.Join(names, ", "); got != "Asha Devi XXXX XXXX 0124, Person 2 XXXX0002, Person 3 XXXX0003, Person 4 XXXX0004" {
		return fmt.Errorf("account lists %s", got)
	}
	if acc, err := p.Registry.Account(ctx, number(1)); err != nil || acc.Msisdn != number(1) || len(acc.Beneficiaries)+len(acc.Appointments) != 0 {
		return fmt.Errorf("an empty account: %+v, %v", acc, err)
	}
	return nil
}

// errAny stands for any error in a table.
var errAny = errors.New("any error")

// centre is a centre at pin with one session a day from 21 September 2021
// per capacity pair, 18+, two slots.
func centre(id int64, name, pin string, caps ...[2]int) dialog.Centre {
	c := dialog.Centre{ID: id, Name: name, Pincode: pin, FeeType: dialog.Free}
	for i, cp := range caps {
		c.Sessions = append(c.Sessions, dialog.Session{ID: fmt.Sprintf("s-%d-%d", id, i),
			Date: time.Date(2021, 9, 21+i, 0, 0, 0, 0, dialog.IST), Vaccine: "COVISHIELD", MinAge: 18,
			Slots: []string{"09:00AM-11:00AM", "11:00AM-01:00PM"}, Capacity: cp})
	}
	return c
}

func checkCentres(ctx context.Context, p Ports, _ *Clock) error {
	if err := p.Import(ctx, []dialog.Centre{
		centre(30, "Zeta Hospital", "700010", [2]int{5, 1}),
		centre(20, "Alpha Clinic", "700010", [2]int{3, 0}, [2]int{0, 2}),
		centre(10, "Alpha Clinic", "700010", [2]int{1, 1}),
		centre(40, "Elsewhere", "700099", [2]int{1, 1}),
	}); err != nil {
		return err
	}
	cs, err := p.Registry.CentresByPin(ctx, "700010")
	if err != nil {
		return err
	}
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s#%d/%d", c.Name, c.ID, len(c.Sessions)))
	}
	if s := strings.Join(got, " "); s != "Alpha Clinic#10/1 Alpha Clinic#20/2 Zeta Hospital#30/1" {
		return fmt.Errorf("CentresByPin = %s", s)
	}
	if cs, err := p.Registry.CentresByPin(ctx, "111111"); err != nil || len(cs) != 0 {
		return fmt.Errorf("an unknown PIN: %v, %v", cs, err)
	}
	if c, err := p.Registry.Centre(ctx, 20); err != nil || c.Name != "Alpha Clinic" || c.Sessions[1].CentreID != 20 ||
		!c.Sessions[1].Date.Equal(time.Date(2021, 9, 22, 0, 0, 0, 0, dialog.IST)) {
		return fmt.Errorf("Centre(20) = %+v, %v", c, err)
	}
	if _, err := p.Registry.Centre(ctx, 99); !errors.Is(err, dialog.ErrNotFound) {
		return fmt.Errorf("an unknown centre: %v", err)
	}
	if err := expectSeats(ctx, p, "s-20-0", dialog.Seats{Free: [2]int{3, 0}}); err != nil {
		return err
	}
	if err := expectSeats(ctx, p, "nope", dialog.Seats{}); err != nil {
		return err
	}

	// A seat booked stays booked when the calendar is imported again with
	// a new capacity; a centre keeps the sessions the new data lacks.
	if err := bookOne(ctx, p, "s-20-0"); err != nil {
		return err
	}
	moved := centre(20, "Alpha Clinic", "700099", [2]int{2, 0})
	if err := p.Import(ctx, []dialog.Centre{moved}); err != nil {
		return err
	}
	if err := expectSeats(ctx, p, "s-20-0", dialog.Seats{Free: [2]int{1, 0}, Booked: [2]int{1, 0}}); err != nil {
		return err
	}
	if c, err := p.Registry.Centre(ctx, 20); err != nil || len(c.Sessions) != 2 || c.Pincode != "700099" {
		return fmt.Errorf("centre imported again: %+v, %v", c, err)
	}
	if cs, _ := p.Registry.CentresByPin(ctx, "700010"); len(cs) != 2 {
		return fmt.Errorf("a centre moved to another PIN is still listed at the old one: %d centres", len(cs))
	}
	return nil
}

// bookOne registers a person on caller and books them a seat in sid.
func bookOne(ctx context.Context, p Ports, sid string) error {
	b, err := p.Registry.AddBeneficiary(ctx, caller, person(1))
	if err != nil {
		return err
	}
	_, err = p.Registry.Book(ctx, dialog.BookRequest{Msisdn: caller, Beneficiary: b.Ref, SessionID: sid, Slot: "09:00AM-11:00AM", Dose: 1})
	return err
}

func expectSeats(ctx context.Context, p Ports, sid string, want dialog.Seats) error {
	got, err := p.Registry.Seats(ctx, []string{sid})
	if err != nil {
		return err
	}
	if got[0] != want {
		return fmt.Errorf("seats of %s = %+v, want %+v", sid, got[0], want)
	}
	return nil
}

func checkBooking(ctx context.Context, p Ports, clock *Clock) error {
	c := centre(7, "Rules", "700007", [2]int{2, 2}, [2]int{1, 1})
	c.Sessions[1].MinAge = 45
	c2 := centre(8, "Other", "700007", [2]int{1, 0})
	if err := p.Import(ctx, []dialog.Centre{c, c2}); err != nil {
		return err
	}
	young, err := p.Registry.AddBeneficiary(ctx, caller, dialog.NewBeneficiary{Name: "Young", BirthYear: 1995, IDType: dialog.IDPAN, IDNumber: "ABCPE1234F"})
	if err != nil {
		return err
	}
	s0, s1, s2 := c.Sessions[0], c.Sessions[1], c2.Sessions[0]
	req := func(sid, slot string, dose int) dialog.BookRequest {
		return dialog.BookRequest{Msisdn: caller, Beneficiary: young.Ref, SessionID: sid, Slot: slot, Dose: dose}
	}
	for _, tc := range []struct {
		name string
		r    dialog.BookRequest
		want error
	}{
		{"too young for 45+", req(s1.ID, s1.Slots[0], 1), dialog.ErrAgeNotEligible},
		{"unknown session", req("nope", "x", 1), dialog.ErrNotFound},
		{"unknown slot", req(s0.ID, "midnight", 1), dialog.ErrNotFound},
		{"unknown person", dialog.BookRequest{Msisdn: caller, Beneficiary: "1234567890123", SessionID: s0.ID, Slot: s0.Slots[0], Dose: 1}, dialog.ErrNotFound},
		{"another account's person", dialog.BookRequest{Msisdn: other, Beneficiary: young.Ref, SessionID: s0.ID, Slot: s0.Slots[0], Dose: 1}, dialog.ErrNotFound},
		{"dose 3", req(s0.ID, s0.Slots[0], 3), errAny},
	} {
		_, err := p.Registry.Book(ctx, tc.r)
		if tc.want == errAny && err == nil || tc.want != errAny && !errors.Is(err, tc.want) {
			return fmt.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	clock.Advance(time.Minute)
	a1, err := p.Registry.Book(ctx, req(s0.ID, s0.Slots[0], 1))
	if err != nil {
		return err
	}
	if len(a1.ID) != 12 || strings.Trim(a1.ID, idAlphabet) != "" || len(a1.Code) != 4 || strings.Trim(a1.Code, "0123456789") != "" ||
		a1.CentreID != 7 || a1.Msisdn != caller || !a1.Date.Equal(s0.Date) || !a1.Booked.Equal(clock.Now()) {
		return fmt.Errorf("appointment %+v", a1)
	}
	// Another slot of the same session: the same seat, id and code.
	a2, err := p.Registry.Book(ctx, req(s0.ID, s0.Slots[1], 1))
	if err != nil || a2.ID != a1.ID || a2.Code != a1.Code || a2.Slot != s0.Slots[1] {
		return fmt.Errorf("slot changed: %+v, %v; was %+v", a2, err, a1)
	}
	if err := expectSeats(ctx, p, s0.ID, dialog.Seats{Free: [2]int{1, 2}, Booked: [2]int{1, 0}}); err != nil {
		return err
	}
	if _, err := p.Registry.Book(ctx, req(s0.ID, s0.Slots[0], 2)); err != nil {
		return fmt.Errorf("dose 2: %v", err)
	}
	// Rescheduled elsewhere: the old seat is freed in the same step.
	a3, err := p.Registry.Book(ctx, req(s2.ID, s2.Slots[0], 1))
	if err != nil || a3.ID == a1.ID || a3.SessionID != s2.ID {
		return fmt.Errorf("rescheduled: %+v, %v", a3, err)
	}
	if err := expectSeats(ctx, p, s0.ID, dialog.Seats{Free: [2]int{2, 1}, Booked: [2]int{0, 1}}); err != nil {
		return err
	}
	acc, err := p.Registry.Account(ctx, caller)
	if err != nil {
		return err
	}
	if got, ok := acc.AppointmentFor(young.Ref, 1); len(acc.Appointments) != 2 || !ok || got.ID != a3.ID || acc.Appointments[0].Dose != 1 {
		return fmt.Errorf("account's appointments %+v", acc.Appointments)
	}
	older, err := p.Registry.AddBeneficiary(ctx, caller, dialog.NewBeneficiary{Name: "Older", BirthYear: 1960, IDType: dialog.IDVoter, IDNumber: "ABC1234567"})
	if err != nil {
		return err
	}
	if _, err := p.Registry.Book(ctx, dialog.BookRequest{Msisdn: caller, Beneficiary: older.Ref, SessionID: s2.ID, Slot: s2.Slots[0], Dose: 1}); !errors.Is(err, dialog.ErrFullyBooked) {
		return fmt.Errorf("a full session: %v", err)
	}
	if _, err := p.Registry.Book(ctx, dialog.BookRequest{Msisdn: caller, Beneficiary: older.Ref, SessionID: s1.ID, Slot: s1.Slots[0], Dose: 1}); err != nil {
		return fmt.Errorf("45+ for a person of 61: %v", err)
	}
	if err := p.Registry.Cancel(ctx, caller, young.Ref, 1); err != nil {
		return err
	}
	if err := p.Registry.Cancel(ctx, caller, young.Ref, 1); !errors.Is(err, dialog.ErrNotFound) {
		return fmt.Errorf("a second cancel: %v", err)
	}
	return expectSeats(ctx, p, s2.ID, dialog.Seats{Free: [2]int{1, 0}})
}

func checkSealer(_ context.Context, p Ports, _ *Clock) error {
	const id = "234123412346"
	sealed, err := p.Sealer.Seal(id)
	if err != nil {
		return err
	}
	if strings.Contains(sealed, id) || strings.Contains(sealed, id[4:]) {
		return errors.New("the sealed text holds the number")
	}
	if plain, err := p.Sealer.Open(sealed); err != nil || plain != id {
		return fmt.Errorf("open: %v", err)
	}
	altered := []byte(sealed)
	i := len(altered) / 2
	if altered[i] == 'A' {
		altered[i] = 'B'
	} else {
		altered[i] = 'A'
	}
	if _, err := p.Sealer.Open(string(altered)); err == nil {
		return errors.New("altered sealed text opened")
	}
	return nil
}

// ---- seat alerts ------------------------------------------------------------

// PINs the alert cases use.
const (
	pinA = "700001"
	pinB = "700002"
	pinC = "700003"
	pinD = "700004"
)

// due is Due at the clock's time, as msisdn:lang strings in number order.
func due(ctx context.Context, p Ports, clock *Clock, pin string) ([]string, error) {
	subs, err := p.Alerts.Due(ctx, pin, clock.Now())
	if err != nil {
		return nil, err
	}
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.Msisdn + ":" + s.Lang
	}
	slices.Sort(out)
	return out, nil
}

// wantDue checks Due's answer for pin.
func wantDue(ctx context.Context, p Ports, clock *Clock, pin string, want ...string) error {
	got, err := due(ctx, p, clock, pin)
	if err != nil {
		return fmt.Errorf("due %s: %w", pin, err)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
		return fmt.Errorf("due %s at %s: %q, want %q", pin, clock.Now().In(dialog.IST).Format(time.DateTime), got, want)
	}
	return nil
}

// untilIST moves clock to the next hh:mm in India.
func untilIST(clock *Clock, hh, mm int) {
	now := clock.Now().In(dialog.IST)
	next := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, dialog.IST)
	if !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	clock.Advance(next.Sub(now))
}

func subscribeAll(ctx context.Context, p Ports, msisdn, lang string, pins ...string) error {
	for _, pin := range pins {
		if err := p.Alerts.Subscribe(ctx, msisdn, pin, lang); err != nil {
			return fmt.Errorf("subscribe %s to %s: %w", dialog.MaskMsisdn(msisdn), pin, err)
		}
	}
	return nil
}

func checkAlertOncePerDay(ctx context.Context, p Ports, clock *Clock) error {
	untilIST(clock, 9, 0)
	if err := wantDue(ctx, p, clock, pinA); err != nil { // nobody yet
		return err
	}
	if err := subscribeAll(ctx, p, caller, "hi", pinA); err != nil {
		return err
	}
	if err := subscribeAll(ctx, p, other, "bn", pinA, pinB); err != nil {
		return err
	}
	if err := wantDue(ctx, p, clock, pinA, caller+":hi", other+":bn"); err != nil {
		return err
	}
	clock.Advance(10 * time.Hour) // 19:00, the same day
	if err := wantDue(ctx, p, clock, pinA); err != nil {
		return fmt.Errorf("again the same day: %w", err)
	}
	// Each subscription has its own day: other's to pinB was not alerted.
	if err := wantDue(ctx, p, clock, pinB, other+":bn"); err != nil {
		return err
	}
	untilIST(clock, 0, 1)
	return wantDue(ctx, p, clock, pinA, caller+":hi", other+":bn")
}

func checkAlertDayInIndia(ctx context.Context, p Ports, clock *Clock) error {
	untilIST(clock, 5, 0) // 23:30 UTC the day before
	if err := subscribeAll(ctx, p, caller, "en", pinA); err != nil {
		return err
	}
	if err := wantDue(ctx, p, clock, pinA, caller+":en"); err != nil {
		return err
	}
	untilIST(clock, 5, 45) // 00:15 UTC: a new day in UTC, not in India
	if err := wantDue(ctx, p, clock, pinA); err != nil {
		return fmt.Errorf("after midnight UTC: %w", err)
	}
	untilIST(clock, 23, 59)
	if err := wantDue(ctx, p, clock, pinA); err != nil {
		return fmt.Errorf("at 23:59 in India: %w", err)
	}
	clock.Advance(2 * time.Minute)
	return wantDue(ctx, p, clock, pinA, caller+":en")
}

func checkAlertMax(ctx context.Context, p Ports, clock *Clock) error {
	if err := subscribeAll(ctx, p, caller, "en", pinA, pinB, pinC); err != nil {
		return err
	}
	if err := p.Alerts.Subscribe(ctx, caller, pinD, "en"); !errors.Is(err, dialog.ErrTooManyAlerts) {
		return fmt.Errorf("a fourth subscription: %v, want ErrTooManyAlerts", err)
	}
	if err := wantDue(ctx, p, clock, pinD); err != nil {
		return fmt.Errorf("the refused subscription: %w", err)
	}
	// Another number's are its own.
	if err := subscribeAll(ctx, p, other, "en", pinA, pinB, pinD); err != nil {
		return err
	}
	return wantDue(ctx, p, clock, pinD, other+":en")
}

func checkAlertRenew(ctx context.Context, p Ports, clock *Clock) error {
	untilIST(clock, 9, 0)
	if err := subscribeAll(ctx, p, caller, "en", pinA, pinB, pinC); err != nil {
		return err
	}
	if err := wantDue(ctx, p, clock, pinA, caller+":en"); err != nil {
		return err
	}
	clock.Advance(time.Hour)
	if err := p.Alerts.Subscribe(ctx, caller, pinA, "ta"); err != nil {
		return fmt.Errorf("renewal at the maximum: %w", err)
	}
	if err := wantDue(ctx, p, clock, pinA); err != nil {
		return fmt.Errorf("renewed the day it was alerted: %w", err)
	}
	untilIST(clock, 9, 0)
	if err := wantDue(ctx, p, clock, pinA, caller+":ta"); err != nil {
		return fmt.Errorf("the next day, in the renewal's language: %w", err)
	}
	// Renewed an hour after the others: alive an hour after they end.
	clock.Advance(dialog.AlertLifetime - 24*time.Hour + 30*time.Minute)
	if err := wantDue(ctx, p, clock, pinB); err != nil {
		return fmt.Errorf("seven days on: %w", err)
	}
	return wantDue(ctx, p, clock, pinA, caller+":ta")
}

func checkAlertExpiry(ctx context.Context, p Ports, clock *Clock) error {
	if err := subscribeAll(ctx, p, caller, "en", pinA, pinB, pinC); err != nil {
		return err
	}
	clock.Advance(dialog.AlertLifetime - time.Minute)
	if err := wantDue(ctx, p, clock, pinA, caller+":en"); err != nil {
		return fmt.Errorf("a minute before the end: %w", err)
	}
	if err := p.Alerts.Subscribe(ctx, caller, pinD, "en"); !errors.Is(err, dialog.ErrTooManyAlerts) {
		return fmt.Errorf("a fourth while three live: %v, want ErrTooManyAlerts", err)
	}
	clock.Advance(time.Minute)
	if err := wantDue(ctx, p, clock, pinB); err != nil {
		return fmt.Errorf("seven days on: %w", err)
	}
	// Ended subscriptions count no more.
	if err := subscribeAll(ctx, p, caller, "en", pinD, pinA, pinC); err != nil {
		return fmt.Errorf("after the end: %w", err)
	}
	return wantDue(ctx, p, clock, pinD, caller+":en")
}

func checkAlertUnsubscribe(ctx context.Context, p Ports, clock *Clock) error {
	if err := p.Alerts.Unsubscribe(ctx, caller); err != nil {
		return fmt.Errorf("none to end: %w", err)
	}
	if err := subscribeAll(ctx, p, caller, "en", pinA, pinB, pinC); err != nil {
		return err
	}
	if err := subscribeAll(ctx, p, other, "en", pinA); err != nil {
		return err
	}
	if err := p.Alerts.Unsubscribe(ctx, caller); err != nil {
		return err
	}
	for _, pin := range []string{pinB, pinC} {
		if err := wantDue(ctx, p, clock, pin); err != nil {
			return fmt.Errorf("after unsubscribe: %w", err)
		}
	}
	if err := wantDue(ctx, p, clock, pinA, other+":en"); err != nil {
		return fmt.Errorf("another number's: %w", err)
	}
	return subscribeAll(ctx, p, caller, "en", pinB, pinC, pinD)
}

func checkAlertConcurrentDue(ctx context.Context, p Ports, clock *Clock) error {
	const n = 12
	var want []string
	for i := range n {
		m := number(i)
		if err := subscribeAll(ctx, p, m, "en", pinA); err != nil {
			return err
		}
		want = append(want, m+":en")
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []string
		errs []error
	)
	for range 8 {
		wg.Go(func() {
			subs, err := due(ctx, p, clock, pinA)
			mu.Lock()
			defer mu.Unlock()
			got = append(got, subs...)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("eight Dues at once returned %d subscribers, want each of %d once: %q", len(got), n, got)
	}
	return nil
}

func checkAlertInput(ctx context.Context, p Ports, clock *Clock) error {
	bad := []struct {
		what string
		err  error
	}{
		{"a number without +country", p.Alerts.Subscribe(ctx, "9830000001", pinA, "en")},
		{"a PIN of 5 digits", p.Alerts.Subscribe(ctx, caller, "70001", "en")},
		{"a PIN with a letter", p.Alerts.Subscribe(ctx, caller, "70000A", "en")},
		{"unsubscribe without +country", p.Alerts.Unsubscribe(ctx, "9830000001")},
	}
	for _, b := range bad {
		if b.err == nil {
			return fmt.Errorf("%s accepted", b.what)
		}
	}
	if _, err := p.Alerts.Due(ctx, "7000011", clock.Now()); err == nil {
		return errors.New("Due of a PIN of 7 digits accepted")
	}
	return wantDue(ctx, p, clock, pinA)
}
