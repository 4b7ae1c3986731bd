package dialog_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/dialog/dialogtest"
	"github.com/tikasetu/tikasetu/providers/dlt"
)

// The seat-alert tests' PIN codes, centres and short code.
const (
	fullPin     = "700001" // two centres, no free seat until a test frees some
	openPin     = "700002" // one centre with seats
	otherPin    = "700003"
	fourthPin   = "700004"
	serviceCode = "*123*45#"
	nearName    = "Bidhannagar Urban Primary Health Centre 4"
	farName     = "Salt Lake Sub-Divisional Hospital"
)

// alertCentres are the calendar of the alert tests, dated after start:
// at fullPin, nearby (tomorrow and, not upcoming, today) and far (the
// day after tomorrow), with seats per session as given; at openPin, one
// seat tomorrow.
func alertCentres(seats int) []dialog.Centre {
	day := func(n int) time.Time {
		y, m, d := start.In(dialog.IST).Date()
		return time.Date(y, m, d+n, 0, 0, 0, 0, dialog.IST)
	}
	session := func(id string, n, cap int) dialog.Session {
		return dialog.Session{ID: id, Date: day(n), Vaccine: "COVISHIELD", MinAge: 18,
			Slots: []string{"09:00AM-11:00AM"}, Capacity: [2]int{cap, cap}}
	}
	return []dialog.Centre{
		// Listed first, with the later session: the alert names the earliest.
		{ID: 1, Name: farName, Pincode: fullPin, FeeType: dialog.Free,
			Sessions: []dialog.Session{session("far-2", 2, seats), session("far-0", 0, 50)}},
		{ID: 2, Name: nearName, Pincode: fullPin, FeeType: dialog.Free,
			Sessions: []dialog.Session{session("near-1", 1, seats)}},
		{ID: 3, Name: "Open Centre", Pincode: openPin, FeeType: dialog.Free,
			Sessions: []dialog.Session{session("open-1", 1, 1)}},
	}
}

// alertWorld is a world with seat alerts on (or off), in memory.
type alertWorld struct {
	*world
	alerts  *dialogtest.Alerts
	notices *dialogtest.Notices
	obs     *countingObserver
	callers int // callers made: each its own run, so its own delivery ids
}

func newAlertWorld(t *testing.T, on bool) *alertWorld {
	t.Helper()
	clock := dialogtest.NewClock(start)
	st := dialogtest.New(dialogtest.Config{Clock: clock})
	if err := st.ImportCentres(context.Background(), alertCentres(0)); err != nil {
		t.Fatal(err)
	}
	aw := &alertWorld{alerts: dialogtest.NewAlerts(clock), notices: &dialogtest.Notices{}, obs: &countingObserver{}}
	aw.world = newWorld(t, st, clock, dialog.Centre{}, func(c *dialog.Config) {
		c.Observer = aw.obs
		if on {
			c.Alerts, c.Notices, c.ServiceCode = aw.alerts, aw.notices, serviceCode
		}
	})
	t.Cleanup(aw.eng.Drain)
	return aw
}

// caller is a new caller of the world on channel (dialog.USSD or SMS).
func (aw *alertWorld) caller(t *testing.T, msisdn string, channel dialog.Channel) *caller {
	aw.callers++
	b := budgetCase{name: "ussd", channel: dialog.USSD, want: dialog.USSDBudget}
	if channel == dialog.SMSChannel {
		b = budgetCase{name: "sms", channel: dialog.SMSChannel, want: dialog.SMSReplyBudget}
	}
	return &caller{t: t, w: aw.world, b: b, run: 700 + aw.callers, msisdn: msisdn, lang: "en"}
}

// home signs a new caller in, in English, with one person registered.
func (c *caller) home() {
	c.t.Helper()
	c.start("lang")
	c.step("1", "number", "")
	c.login(false)
	c.step("1", "id_type", "")
	c.step("5", "id_number", "") // passport
	c.step("K"+c.msisdn[len(c.msisdn)-7:], "name", "")
	c.step("Sita Devi", "birth_year", "")
	c.step("1960", "gender", "")
	c.step("2", "confirm_person", "")
	c.step("1", "home", c.text("person.added", "name", "Sita Devi", "count", "1", "max", "4"))
}

// subscribers are the numbers Due would alert at pin now, with their
// languages ("+91…:en"). It marks them, so ask once per day.
func (aw *alertWorld) subscribers(t *testing.T, pin string) []string {
	t.Helper()
	subs, err := aw.alerts.Due(context.Background(), pin, aw.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range subs {
		out = append(out, s.Msisdn+":"+s.Lang)
	}
	return out
}

// TestAlertFromFullPin: a PIN without free seats offers an alert on the
// PIN screen; option 1 subscribes (shown once a PIN is 6 digits: 1 is no
// PIN), the offer then lapses, and another entry makes it lapse too.
// Without Alerts nothing is offered and 1 is a bad PIN.
func TestAlertFromFullPin(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "alerts", false: "no alerts"}[on], func(t *testing.T) {
			aw := newAlertWorld(t, on)
			c := aw.caller(t, "+919830071001", dialog.USSD)
			c.home()
			c.step("2", "book_who", "")
			c.step("1", "pin", "")
			offer := "1 " + c.text("pin.alert")
			r := c.step(fullPin, "pin", c.text("pin.full", "pin", fullPin))
			if strings.Contains(r.Text, offer) != on {
				t.Fatalf("offer shown: %v, want %v:\n%s", !on, on, r.Text)
			}
			if !on {
				c.step("1", "pin", c.text("hint.pin"))
				return
			}
			r = c.step("1", "pin", c.text("alert.on", "pin", fullPin))
			if strings.Contains(r.Text, offer) {
				t.Errorf("offer still shown after subscribing:\n%s", r.Text)
			}
			c.step("1", "pin", c.text("hint.pin")) // the offer was taken
			if got := aw.subscribers(t, fullPin); !slices.Equal(got, []string{c.msisdn + ":en"}) {
				t.Errorf("subscribers %q, want the caller", got)
			}
			if n := aw.obs.get("alert_subscribed"); n != 1 {
				t.Errorf("alert_subscribed = %d, want 1", n)
			}
			// Another entry makes the offer lapse; a PIN with no centres offers none.
			c.step(fullPin, "pin", c.text("pin.full", "pin", fullPin))
			c.step("12", "pin", c.text("hint.pin"))
			r = c.step("799999", "pin", c.text("pin.none", "pin", "799999"))
			if strings.Contains(r.Text, offer) {
				t.Errorf("offer after pin.none:\n%s", r.Text)
			}
			c.step(openPin, "centre", "")
			c.step("0", "pin", "")
			c.step("0", "book_who", "")
		})
	}
}

// TestAlertFromHome: Home offers Seat alerts as option 7 (its hint counts
// it); the screen asks for a PIN, refuses a bad one, takes Indic digits,
// and goes Home with the outcome; Back returns Home with nothing changed;
// a fourth PIN is refused with alert.max and a renewal is not.
func TestAlertFromHome(t *testing.T) {
	aw := newAlertWorld(t, true)
	c := aw.caller(t, "+919830071002", dialog.USSD)
	c.home()
	if r := c.step("0", end, c.text("home.bye")); r.End != true {
		t.Fatal("no end")
	}
	c.start("number")
	c.login(false)
	r := c.step("9", "home", c.text("hint.choose", "max", "7"))
	if want := "7 " + c.text("home.alert"); !strings.Contains(r.Text, want) {
		t.Errorf("Home lacks %q:\n%s", want, r.Text)
	}
	c.step("7", "alert", "")
	c.step("0", "home", "")
	if n := aw.obs.get("alert_subscribed"); n != 0 {
		t.Fatalf("Back subscribed: %d", n)
	}
	c.step("7", "alert", "")
	c.step("70000", "alert", c.text("hint.pin"))
	c.step("012345", "alert", c.text("hint.pin"))
	c.step("৭০০০০১", "home", c.text("alert.on", "pin", fullPin)) // Bengali digits
	for _, pin := range []string{openPin, otherPin} {
		c.step("7", "alert", "")
		c.step(pin, "home", c.text("alert.on", "pin", pin))
	}
	c.step("7", "alert", "")
	c.step(fourthPin, "home", c.text("alert.max", "max", "3"))
	c.step("7", "alert", "")
	c.step(fullPin, "home", c.text("alert.on", "pin", fullPin)) // renewal
	for _, pin := range []string{fullPin, openPin, otherPin} {
		if got := aw.subscribers(t, pin); !slices.Equal(got, []string{c.msisdn + ":en"}) {
			t.Errorf("subscribers at %s: %q", pin, got)
		}
	}
	if got := aw.subscribers(t, fourthPin); len(got) != 0 {
		t.Errorf("the refused PIN has subscribers %q", got)
	}
	if n := aw.obs.get("alert_subscribed"); n != 4 {
		t.Errorf("alert_subscribed = %d, want 4 (three and a renewal)", n)
	}
}

// TestHomeWithoutAlerts: with no Alerts, Home offers no option 7 and its
// hint counts six.
func TestHomeWithoutAlerts(t *testing.T) {
	aw := newAlertWorld(t, false)
	c := aw.caller(t, "+919830071003", dialog.USSD)
	c.home()
	r := c.step("7", "home", c.text("hint.choose", "max", "6"))
	if strings.Contains(r.Text, c.text("home.alert")) {
		t.Errorf("Home offers alerts:\n%s", r.Text)
	}
}

// TestAlertKeyword: ALERT by SMS, with and without a conversation.
func TestAlertKeyword(t *testing.T) {
	type step struct {
		in     string
		text   string // the whole reply ("" to skip)
		state  string // the conversation's state after it
		notice string // over the screen, when state is not ""
	}
	en := func(key string, args ...string) string {
		return newAlertWorld(t, false).cat.Text("en", key, args...)
	}
	tests := []struct {
		name  string
		on    bool
		steps []step
		subs  map[string][]string // PIN → subscribers at the end (caller is +919830072000)
	}{
		{name: "no conversation: the outcome alone, none started", on: true,
			steps: []step{{in: "ALERT 700001", text: en("alert.on", "pin", fullPin)}},
			subs:  map[string][]string{fullPin: {"+919830072000:en"}}},
		{name: "lower case, Indic digits, spaces", on: true,
			steps: []step{{in: " alert ৭০০ ০০২ ", text: en("alert.on", "pin", openPin)}},
			subs:  map[string][]string{openPin: {"+919830072000:en"}}},
		{name: "ALERT alone", on: true,
			steps: []step{{in: "ALERT", text: en("alert.usage")}},
			subs:  map[string][]string{fullPin: nil}},
		{name: "bad PINs", on: true,
			steps: []step{{in: "ALERT 70001", text: en("alert.usage")}, {in: "ALERT 012345", text: en("alert.usage")},
				{in: "ALERT 7000011", text: en("alert.usage")}, {in: "ALERT ON", text: en("alert.usage")}},
			subs: map[string][]string{fullPin: nil}},
		{name: "a fourth", on: true,
			steps: []step{{in: "ALERT 700001"}, {in: "ALERT 700002"}, {in: "ALERT 700003"},
				{in: "ALERT 700004", text: en("alert.max", "max", "3")}},
			subs: map[string][]string{fourthPin: nil, otherPin: {"+919830072000:en"}}},
		{name: "OFF ends them all", on: true,
			steps: []step{{in: "ALERT 700001"}, {in: "ALERT 700002"}, {in: "alert off", text: en("alert.off")}},
			subs:  map[string][]string{fullPin: nil, openPin: nil}},
		{name: "over a conversation: a notice over its screen", on: true,
			steps: []step{{in: "Hello", state: "lang"}, {in: "1", state: "number"},
				{in: "ALERT 700001", state: "number", notice: en("alert.on", "pin", fullPin)},
				{in: "ALERT OFF", state: "number", notice: en("alert.off")},
				{in: "ALERT", state: "number", notice: en("alert.usage")}},
			subs: map[string][]string{fullPin: nil}},
		{name: "alerts off: ordinary input", on: false,
			steps: []step{{in: "ALERT 700001", state: "lang"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aw := newAlertWorld(t, tc.on)
			c := aw.caller(t, "+919830072000", dialog.SMSChannel)
			for _, s := range tc.steps {
				if s.state != "" {
					c.step(s.in, s.state, s.notice)
					continue
				}
				r := c.send(s.in)
				if s.text != "" && r.Text != s.text {
					t.Errorf("%q: reply %q, want %q", s.in, r.Text, s.text)
				}
				if st := c.state(); st != "" || !r.End {
					t.Errorf("%q: state %q, end %v: want no conversation", s.in, st, r.End)
				}
			}
			for pin, want := range tc.subs {
				if got := aw.subscribers(t, pin); !slices.Equal(got, want) {
					t.Errorf("subscribers at %s: %q, want %q", pin, got, want)
				}
			}
		})
	}
}

// TestAlertKeywordInTheCallersLanguage: a number that chose Bengali and
// has no conversation now is answered, and alerted, in Bengali.
func TestAlertKeywordInTheCallersLanguage(t *testing.T) {
	aw := newAlertWorld(t, true)
	c := aw.caller(t, "+919830072001", dialog.SMSChannel)
	c.start("lang")
	c.lang = "bn"
	c.step("3", "number", "")
	if r := c.send("STOP"); !r.End || c.state() != "" {
		t.Fatalf("STOP: %+v", r)
	}
	if r := c.send("ALERT 700001"); r.Text != c.text("alert.on", "pin", fullPin) {
		t.Errorf("reply %q, want Bengali alert.on %q", r.Text, c.text("alert.on", "pin", fullPin))
	}
	if got := aw.subscribers(t, fullPin); !slices.Equal(got, []string{c.msisdn + ":bn"}) {
		t.Errorf("subscribers %q, want the caller in Bengali", got)
	}
}

// TestAlertWritesNeverFromAPeek: a subscription is a write, so a turn
// started from the kept copy is refused and run again from a Load (the
// store's reply cache then answers a repeated delivery); the alert screen
// is learnt as one that writes, but a keyword, which any screen may
// receive, teaches nothing: the next ALERT from Home is refused again.
func TestAlertWritesNeverFromAPeek(t *testing.T) {
	aw := newAlertWorld(t, true)
	c := aw.caller(t, "+919830072002", dialog.USSD)
	c.home()
	before := aw.obs.get("peek_refused")
	c.step("7", "alert", "")
	c.step(fullPin, "home", c.text("alert.on", "pin", fullPin))
	c.step("7", "alert", "")
	c.step(openPin, "home", c.text("alert.on", "pin", openPin))
	if n := aw.obs.get("peek_refused") - before; n != 1 {
		t.Errorf("alert screen: peek_refused rose by %d, want 1 (then learnt)", n)
	}
	before = aw.obs.get("peek_refused")
	s := aw.caller(t, c.msisdn, dialog.SMSChannel)
	s.step("ALERT 700003", "home", c.text("alert.on", "pin", otherPin))
	s.step("ALERT 700003", "home", c.text("alert.on", "pin", otherPin))
	if n := aw.obs.get("peek_refused") - before; n != 2 {
		t.Errorf("keyword at Home: peek_refused rose by %d, want 2 (Home not learnt)", n)
	}
	if n := aw.obs.get("alert_subscribed"); n != 4 {
		t.Errorf("alert_subscribed = %d, want 4: one per turn, none from a peek", n)
	}
}

// TestSeatsFreed: the subscribers of a PIN code get one SMS each, in
// their language, naming the centre of the earliest upcoming session
// with a free seat, its day and the short code; at most once a day. With
// no free seat nothing is sent and nobody is marked.
func TestSeatsFreed(t *testing.T) {
	aw := newAlertWorld(t, true)
	ctx := context.Background()
	for m, lang := range map[string]string{"+919830073001": "en", "+919830073002": "bn"} {
		if err := aw.alerts.Subscribe(ctx, m, fullPin, lang); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.alerts.Subscribe(ctx, "+919830073003", openPin, "en"); err != nil {
		t.Fatal(err)
	}
	freed := func(pin string, want int) {
		t.Helper()
		n, err := aw.eng.SeatsFreed(ctx, pin)
		if err != nil || n != want {
			t.Fatalf("SeatsFreed(%s) = %d, %v; want %d", pin, n, err, want)
		}
	}
	freed(fullPin, 0) // no free seat (today's session is not upcoming)
	if err := aw.st.ImportCentres(ctx, alertCentres(5)); err != nil {
		t.Fatal(err)
	}
	freed(fullPin, 2)
	aw.eng.Drain()
	cat := aw.cat
	bnDay := cat.Text("bn", "date.day", "day", "২১", "month", cat.Text("bn", "month.9"))
	want := map[string]string{
		"+919830073001": "TikaSetu: seats free at " + nearName + ", PIN 700001, on 21 Sep. Dial *123*45# to book.",
		"+919830073002": cat.Text("bn", "sms.alert", "centre", nearName, "pin", fullPin, "date", bnDay, "code", serviceCode),
	}
	for m, text := range want {
		got := aw.sms.To(m)
		if len(got) != 1 || got[0].Text != text || got[0].Kind != dialog.SMSKindAlert || got[0].To != m {
			t.Errorf("SMS to %s: %+v, want one alert %q", m, got, text)
		}
	}
	if !strings.Contains(want["+919830073002"], "২১") {
		t.Errorf("the Bengali alert lacks the Bengali date: %q", want["+919830073002"])
	}
	if got := aw.sms.To("+919830073003"); len(got) != 0 {
		t.Errorf("a subscriber elsewhere got %+v", got)
	}
	if q, s := aw.notices.All(), aw.sms.All(); !slices.Equal(q, s) {
		t.Errorf("queued %+v, sent %+v: want the same", q, s)
	}
	if n := aw.obs.get("alert_sent"); n != 2 {
		t.Errorf("alert_sent = %d, want 2", n)
	}

	aw.clock.Advance(6 * time.Hour)
	freed(fullPin, 0) // the same day
	untilNextDay(aw.clock, 9)
	freed(fullPin, 2)
	aw.clock.Advance(dialog.AlertLifetime)
	freed(fullPin, 0) // ended
}

// untilNextDay moves clock to hour o'clock in India the next day.
func untilNextDay(clock *dialogtest.Clock, hour int) {
	now := clock.Now().In(dialog.IST)
	next := time.Date(now.Year(), now.Month(), now.Day()+1, hour, 0, 0, 0, dialog.IST)
	clock.Advance(next.Sub(now))
}

// TestAlertsEndWithABooking: a number that books has no seat alerts any
// more; a cancellation alerts the subscribers of the freed seat's PIN
// code after the turn.
func TestAlertsEndWithABooking(t *testing.T) {
	aw := newAlertWorld(t, true)
	c := aw.caller(t, "+919830074001", dialog.USSD)
	c.home()
	for _, pin := range []string{fullPin, otherPin} {
		c.step("7", "alert", "")
		c.step(pin, "home", c.text("alert.on", "pin", pin))
	}
	c.step("2", "book_who", "")
	c.step("1", "pin", "")
	c.step(openPin, "centre", "")
	c.step("1", "date", "")
	c.step("1", "slot", "")
	c.step("1", "confirm_booking", "")
	c.send("1")
	if a := c.account(); len(a.Appointments) != 1 {
		t.Fatalf("%d appointments, want 1", len(a.Appointments))
	}
	for _, pin := range []string{fullPin, otherPin} {
		if got := aw.subscribers(t, pin); len(got) != 0 {
			t.Errorf("after the booking, subscribers at %s: %q", pin, got)
		}
	}

	// The seat at openPin is the last: another number subscribes, and the
	// cancellation tells it.
	waiting := "+919830074002"
	if err := aw.alerts.Subscribe(context.Background(), waiting, openPin, "en"); err != nil {
		t.Fatal(err)
	}
	c.start("number")
	c.login(false)
	c.step("4", "cancel_who", "")
	c.step("1", "cancel_confirm", "")
	c.step("1", "home", c.text("cancel.done"))
	aw.eng.Drain()
	got := aw.sms.To(waiting)
	if len(got) != 1 || !strings.Contains(got[0].Text, "Open Centre, PIN 700002, on 21 Sep") {
		t.Errorf("after the cancellation the subscriber got %+v, want one alert", got)
	}
}

// TestAlertScreensInEveryLanguage walks the alert screens in every
// language on USSD at the default size: the PIN screen with its offer
// after pin.full, the alert screen, and Home under each outcome. Every
// page is checked as the journeys' are; the PIN and alert screens, which
// are no lists, must show on one page.
func TestAlertScreensInEveryLanguage(t *testing.T) {
	for _, lang := range dialog.Languages {
		t.Run(lang, func(t *testing.T) {
			aw := newAlertWorld(t, true)
			c := aw.caller(t, "+919830076001", dialog.USSD)
			c.start("lang")
			c.lang = lang
			c.step(strconv.Itoa(slices.Index(dialog.MenuLanguages(nil, false), lang)+1), "number", "")
			c.login(false)
			onePage := func(state string) {
				t.Helper()
				menu, budget, err := aw.eng.ScreenMenu(aw.ctx, c.turn(""))
				if err != nil {
					t.Fatal(err)
				}
				if n := len(menu.Pages(budget)); n != 1 {
					t.Errorf("screen %q takes %d pages, want 1:\n%s", state, n, strings.Join(menu.Pages(budget), "\n---\n"))
				}
			}
			c.step("1", "id_type", "")
			c.step("5", "id_number", "")
			c.step("K7654321", "name", "")
			c.step("Sita Devi", "birth_year", "")
			c.step("1960", "gender", "")
			c.step("2", "confirm_person", "")
			c.step("1", "home", c.text("person.added", "name", "Sita Devi", "count", "1", "max", "4"))
			c.step("2", "book_who", "")
			c.step("1", "pin", "")
			r := c.step(fullPin, "pin", c.text("pin.full", "pin", fullPin))
			if offer := "1 " + c.text("pin.alert"); !strings.Contains(r.Text, offer) {
				t.Errorf("the PIN screen lacks %q:\n%s", offer, r.Text)
			}
			onePage("pin")
			c.step("1", "pin", c.text("alert.on", "pin", fullPin))
			c.step("0", "book_who", "")
			c.step("0", "home", "")
			c.step("7", "alert", "")
			onePage("alert")
			c.step(openPin, "home", c.text("alert.on", "pin", openPin))
			c.step("7", "alert", "")
			c.step(otherPin, "home", c.text("alert.on", "pin", otherPin))
			c.step("7", "alert", "")
			c.step(fourthPin, "home", c.text("alert.max", "max", "3"))
		})
	}
}

// TestSeatAlertsMatchDLT: the alert SMS, with a centre name longer than
// its template allows, fits the DLT template of its kind in every
// language, so an operator in India delivers it.
func TestSeatAlertsMatchDLT(t *testing.T) {
	aw := newAlertWorld(t, true)
	ctx := context.Background()
	long := strings.Repeat("Community Health Centre ", 4) // 96 characters
	centres := alertCentres(5)
	centres[1].Name = long
	if err := aw.st.ImportCentres(ctx, centres); err != nil {
		t.Fatal(err)
	}
	for i, lang := range dialog.Languages {
		if err := aw.alerts.Subscribe(ctx, "+9198300770"+strconv.Itoa(10+i), fullPin, lang); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := aw.eng.SeatsFreed(ctx, fullPin); err != nil || n != len(dialog.Languages) {
		t.Fatalf("SeatsFreed = %d, %v; want one per language", n, err)
	}
	aw.eng.Drain()
	ts := dlt.Templates(aw.cat)
	for i := range ts {
		ts[i].ID = fmt.Sprintf("12071612345678%05d", i+1)
	}
	reg, err := dlt.New("1201160000000012345", ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range aw.sms.All() {
		if _, err := reg.Match(m); err != nil {
			t.Errorf("%s alert does not match its template: %v\n%s", m.Lang, err, m.Text)
		}
		if !strings.Contains(m.Text, dialog.Shorten(long, 60)) {
			t.Errorf("%s alert lacks the centre's name cut to 60:\n%s", m.Lang, m.Text)
		}
	}
}
