package loadgen

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/providers/smshttp"
)

// rig is a fake gateway and an SMS sink on loopback, with a target for
// journeys against them.
type rig struct {
	fake *FakeGateway
	sink *Sink
	gw   *httptest.Server
	t    *target
}

var testSecret = []byte("sink secret for tests")

func newRig(t *testing.T, timeout time.Duration, setup func(*FakeGateway)) *rig {
	t.Helper()
	sink := NewSink(testSecret)
	sinkSrv := httptest.NewServer(sink)
	fake := &FakeGateway{SinkURL: sinkSrv.URL + SinkPath, SinkSecret: testSecret}
	if setup != nil {
		setup(fake)
	}
	gw := httptest.NewServer(fake)
	t.Cleanup(func() { gw.Close(); fake.Wait(); sinkSrv.Close() })
	tg := &target{
		client: NewClient(10), ussdURL: gw.URL + USSDPath, serviceCode: "*123*45#",
		timeout: timeout, busy: []string{"busy"}, pin: "560001", sink: sink,
		ids: newIdentities(rand.New(rand.NewPCG(7, 7))), stats: newStats(),
	}
	return &rig{fake: fake, sink: sink, gw: gw, t: tg}
}

func (r *rig) journey(people int) *journey {
	j := r.t.newJourney("test-session", rand.New(rand.NewPCG(1, 1)))
	j.people = people
	return j
}

// at answers a request in the given state with a.
func at(state string, a FakeAnswer) func(*FakeGateway) {
	return func(f *FakeGateway) {
		f.Fault = func(r FakeRequest) *FakeAnswer {
			if r.State == state {
				return &a
			}
			return nil
		}
	}
}

func TestJourneyOutcomes(t *testing.T) {
	const busy = "END TikaSetu is very busy right now. Please dial again in a few minutes."
	tests := []struct {
		name    string
		people  int
		timeout time.Duration
		setup   func(*FakeGateway)
		kind    Kind
		step    string
		reason  string // in Outcome.Reason
		hops    int
		otp     bool
	}{
		{name: "one person, booked", people: 1, kind: Completed, step: "confirm", hops: RealJourneyHops},
		{name: "two people, booked for All", people: 2, kind: Completed, step: "confirm", hops: RealJourneyHops + 7},
		{name: "shed on the dial", people: 1, setup: at("lang", FakeAnswer{Body: busy}), kind: Shed, step: "dial", hops: 1},
		{name: "shed mid-journey (gateway's failure screen)", people: 1,
			setup: at("who", FakeAnswer{Body: "END Service busy. Please try again in a few minutes."}), kind: Shed, step: "book", hops: 12},
		{name: "status 500 is an error", people: 1, setup: at("otp", FakeAnswer{Status: 500, Body: "oops"}),
			kind: Errored, step: "number", reason: "status 500", hops: 2},
		{name: "status 503 is an error, not shed", people: 1, setup: at("lang", FakeAnswer{Status: 503, Body: busy}),
			kind: Errored, step: "dial", reason: "status 503"},
		{name: "unparseable answer", people: 1, setup: at("home", FakeAnswer{Body: "<html>hello</html>"}),
			kind: Errored, step: "otp", reason: "not a CON/END answer", hops: 3},
		{name: "unexpected screen", people: 1, setup: at("pin", FakeAnswer{Body: "CON Something else entirely"}),
			kind: Errored, step: "who", reason: "unexpected screen", hops: 13},
		{name: "END that is not busy, mid-journey", people: 1, setup: at("idtype", FakeAnswer{Body: "END Thank you. Dial again any time."}),
			kind: Errored, step: "add", reason: "unexpected END", hops: 5},
		{name: "END without Booked at the end", people: 1, setup: at("booked", FakeAnswer{Body: "END Sorry."}),
			kind: Errored, step: "confirm", reason: "want Booked!", hops: RealJourneyHops},
		{name: "Booked! over more than one page (many people)", people: 1,
			setup: at("booked", FakeAnswer{Body: "CON Booked! Slip sent by SMS.\nA: ID 1 code 1\nB: ID 2 code 2\n98 More\n0 Exit"}),
			kind:  Completed, step: "confirm", hops: RealJourneyHops},
		{name: "no answer in time is a timeout", people: 1, timeout: time.Second,
			setup: at("centre", FakeAnswer{Body: "CON late", Delay: time.Minute}), kind: TimedOut, step: "pin", reason: "no answer within 1s", hops: 13},
		{name: "no OTP SMS in time is a timeout", people: 1, timeout: time.Second,
			setup: func(f *FakeGateway) { f.NoSMS = true }, kind: TimedOut, step: "otp", reason: "no OTP SMS within 1s", otp: true, hops: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			r := newRig(t, timeout, tt.setup)
			o := r.journey(tt.people).run(context.Background())
			if o.Kind != tt.kind || o.Step != tt.step || !strings.Contains(o.Reason, tt.reason) || o.OTP != tt.otp {
				t.Fatalf("outcome %v; want %v at %s (%q), otp %v", o, tt.kind, tt.step, tt.reason, tt.otp)
			}
			if o.Hops != tt.hops {
				t.Fatalf("%d hops answered, want %d (%v)", o.Hops, tt.hops, o)
			}
			if got := r.t.stats.hist.Count(); got != uint64(tt.hops) {
				t.Fatalf("%d hop latencies recorded, want %d", got, tt.hops)
			}
		})
	}
}

func TestJourneyAbandonedWhenTheRunEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRig(t, 5*time.Second, func(f *FakeGateway) {
		f.Fault = func(req FakeRequest) *FakeAnswer {
			if req.State == "home" {
				cancel()
				return &FakeAnswer{Body: "CON late", Delay: time.Minute}
			}
			return nil
		}
	})
	if o := r.journey(1).run(ctx); o.Kind != Abandoned || o.Step != "otp" {
		t.Fatalf("outcome %v, want abandoned at otp", o)
	}
}

func TestJourneyConnectionRefused(t *testing.T) {
	r := newRig(t, time.Second, nil)
	r.gw.Close()
	o := r.journey(1).run(context.Background())
	if o.Kind != Errored || o.Step != "dial" || o.Reason != "connection refused" {
		t.Fatalf("outcome %v, want error at dial: connection refused", o)
	}
}

// A number the store already knows: no language screen, "Welcome back",
// three people registered: one more is added, and All booked.
func TestJourneyReturningCaller(t *testing.T) {
	r := newRig(t, 5*time.Second, nil)
	screens := map[int]string{
		0:  "CON Welcome back.\n1 Continue where you left off\n2 Start again",
		1:  "CON COVID vaccine registration\n1 Register with XXXXXX1234\n2 Use another number",
		2:  "CON Enter the 6-digit code sent by SMS to +91XXXXXX1234\n0 Send a new code",
		3:  "CON A: booked Tue 21 Sep\nB: not booked\nC: not booked\n1 Add person\n2 Book or change\n5 Language\n0 Exit",
		4:  "CON Photo ID of the person:\n1 Aadhaar\n2 PAN card",
		5:  "CON Enter Aadhaar number (12 digits)",
		6:  "CON Name as on the ID:",
		7:  "CON Year of birth (like 1985):",
		8:  "CON Gender:\n1 Male\n2 Female\n3 Other",
		9:  "CON Register this person?\nX\n1 Confirm\n2 Start again",
		10: "CON X registered (4/4)\n2 Book or change\n5 Language\n0 Exit",
		11: "CON Book for:\n1 A\n2 B\n3 C\n4 D\n5 All\n0 Back",
		12: "CON Enter the 6-digit PIN code of the area:",
		13: "CON Centres at 560001:\n1 C Free",
		14: "CON C\nChoose a date:\n1 Mon",
		15: "CON Mon time:\n1 09:00AM-11:00AM",
		16: "CON Book this appointment?\nA, B, C, X\n1 Book\n2 Back",
		17: "END Booked! Slip sent by SMS.",
	}
	want := map[int]string{1: "2", 2: "1", 3: "123456", 11: "2", 12: "5", 13: "560001"}
	var (
		mu    sync.Mutex
		texts []string
	)
	scripted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		text := req.PostFormValue("text")
		mu.Lock()
		texts = append(texts, text)
		mu.Unlock()
		var in []string
		if text != "" {
			in = strings.Split(text, "*")
		}
		n := len(in)
		if n > 0 && want[n] != "" && in[n-1] != want[n] {
			w.Write([]byte("CON unexpected input " + in[n-1]))
			return
		}
		if n == 2 { // the code goes out by SMS before the screen
			body := smsBody(req.PostFormValue("phoneNumber"), "TikaSetu code: 123456.")
			post(t, r.sink, body, smshttp.Sign(testSecret, body))
		}
		w.Write([]byte(screens[n]))
	}))
	defer scripted.Close()
	r.t.ussdURL = scripted.URL + USSDPath
	o := r.journey(2).run(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if o.Kind != Completed || o.Hops != 18 {
		t.Fatalf("outcome %v; requests: %q", o, texts)
	}
}

func TestFloorJourney(t *testing.T) {
	tests := []struct {
		name string
		body string
		kind Kind
		hops int
	}{
		{"all hops answered", "CON ok", Completed, 7},
		{"busy", "END Service busy. Please try again in a few minutes.", Shed, 1},
		{"an END that is not busy", "END bye", Errored, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				texts []string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				texts = append(texts, r.PostFormValue("text"))
				mu.Unlock()
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			tg := &target{client: NewClient(1), ussdURL: srv.URL + USSDPath, timeout: 5 * time.Second,
				busy: []string{"busy"}, ids: newIdentities(rand.New(rand.NewPCG(1, 1))), stats: newStats()}
			o := tg.newJourney("s", rand.New(rand.NewPCG(1, 1))).floor(context.Background(), 7)
			if o.Kind != tt.kind || o.Hops != tt.hops {
				t.Fatalf("outcome %v, want %v after %d hops", o, tt.kind, tt.hops)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.kind == Completed && strings.Join(texts, "|") != "|1|1*1|1*1*1|1*1*1*1|1*1*1*1*1|1*1*1*1*1*1" {
				t.Fatalf("texts sent %q", texts)
			}
		})
	}
}

func TestIsBusy(t *testing.T) {
	tg := &target{busy: []string{"busy", "व्यस्त"}}
	tests := []struct {
		screen string
		want   bool
	}{
		{"TikaSetu is very busy right now. Please dial again in a few minutes.", true},
		{"Service busy. Please try again in a few minutes.", true},
		{"BUSY", true},
		{"टीकासेतु अभी बहुत व्यस्त है।", true},
		// Seen in a capacity run: random appointment ids that spell BUSY.
		{"Booked! Slip sent by SMS.\nKavita: ID JQETN8UN6PFQ code 0632\nSuresh: ID KBUSY34C2PHC code 1242", false},
		{"Booked! Slip sent by SMS.\nArjun: ID C43BUSYDEP6E code 9113", false},
		{"Booked! ID 7BUSY code 1", false},
		{"Thank you. Dial again any time.", false},
	}
	for _, tt := range tests {
		if got := tg.isBusy(tt.screen); got != tt.want {
			t.Errorf("isBusy(%q) = %v, want %v", tt.screen, got, tt.want)
		}
	}
}

func TestOptionNumber(t *testing.T) {
	screen := "Book for:\n1 Ram Kumar\n2 Sita Devi\n3 All\n0 Back"
	for label, want := range map[string]string{"All": "3", "Sita": "2", "Back": "0", "Nobody": ""} {
		if got := optionNumber(screen, label); got != want {
			t.Errorf("optionNumber(%q) = %q, want %q", label, got, want)
		}
	}
}

func TestThinkTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mean := range []time.Duration{time.Millisecond, time.Second, 7 * time.Second} {
		var sum time.Duration
		const n = 2000
		for range n {
			d := thinkTime(rng, mean)
			if d < mean/2 || d > mean*3/2 {
				t.Fatalf("mean %v: pause %v outside [%v, %v]", mean, d, mean/2, mean*3/2)
			}
			sum += d
		}
		if avg := sum / n; avg < mean*95/100 || avg > mean*105/100 {
			t.Errorf("mean %v: average pause %v", mean, avg)
		}
	}
}
