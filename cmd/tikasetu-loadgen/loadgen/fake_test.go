package loadgen

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

func TestFakeGatewayScreens(t *testing.T) {
	good := "23412341234" + string(dialog.VerhoeffDigit("23412341234"))
	bad := "23412341234" + string('0'+(dialog.VerhoeffDigit("23412341234")-'0'+1)%10)
	f := &FakeGateway{NoSMS: true}
	f.init()
	f.codes["s"] = "123456"
	tests := []struct {
		name, text string
		state      string
		want       []string
	}{
		{"dial", "", "lang", []string{"CON ", "1 English"}},
		{"language", "1", "number", []string{"1 Register with XXXXXX5678"}},
		{"wrong code", "1*1*000000", "otp", []string{"Wrong code", "Enter the 6-digit code"}},
		{"home", "1*1*123456", "home", []string{"0/4 people registered"}},
		{"nobody to book", "1*1*123456*2", "home", []string{"Nobody registered yet"}},
		{"bad Aadhaar", "1*1*123456*1*1*" + bad, "idnum", []string{"not a valid Aadhaar"}},
		{"good Aadhaar", "1*1*123456*1*1*" + good, "name", []string{"Name as on the ID"}},
		{"registered", "1*1*123456*1*1*" + good + "*Ram Kumar*1970*1*1", "home", []string{"Registered Ram Kumar", "1/4 people registered"}},
		{"one person: no All", "1*1*123456*1*1*" + good + "*Ram Kumar*1970*1*1*2", "who", []string{"Book for:\n1 Ram Kumar\n0 Back"}},
		{"booked", "1*1*123456*1*1*" + good + "*Ram Kumar*1970*1*1*2*1*560001*1*1*1*1", "booked", []string{"END Booked!"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got FakeRequest
			f.Fault = func(r FakeRequest) *FakeAnswer { got = r; return nil }
			form := url.Values{"sessionId": {"s"}, "phoneNumber": {"+919812345678"}, "text": {tt.text}}
			req := httptest.NewRequest(http.MethodPost, USSDPath, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, req)
			if got.State != tt.state {
				t.Errorf("state %q, want %q", got.State, tt.state)
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("answer lacks %q:\n%s", w, rec.Body)
				}
			}
		})
	}
}

func TestFakeGatewayRefusesBadRequests(t *testing.T) {
	f := &FakeGateway{}
	for _, tt := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, USSDPath, "", http.StatusNotFound},
		{http.MethodPost, "/other", "sessionId=s&phoneNumber=1", http.StatusNotFound},
		{http.MethodPost, USSDPath, "text=1", http.StatusBadRequest},
	} {
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s %q: %d, want %d", tt.method, tt.path, tt.body, rec.Code, tt.want)
		}
	}
}

// The fake's admission control: at most one journey; new callers past it
// queued in order (or, with the queue off, given the busy screen), the
// first invited by SMS when the journey ends and let in ahead of new
// callers.
func TestFakeGatewayQueue(t *testing.T) {
	good := "23412341234" + string(dialog.VerhoeffDigit("23412341234"))
	booked := "1*1*123456*1*1*" + good + "*Ram Kumar*1970*1*1*2*1*560001*1*1*1*1"
	type step struct {
		who, text string
		state     string // "" for the screen of a caller let in
		want      string
		invited   string // numbers invited by now, in order
	}
	tests := []struct {
		name  string
		queue bool
		plain bool // SMS without kind: the sink tells invitations by the code
		steps []step
	}{
		{name: "queue on", queue: true, steps: []step{
			{who: "A", state: "lang", want: "1 English"},
			{who: "B", state: "queued", want: "You are number 1 in the queue"},
			{who: "C", state: "queued", want: "You are number 2 in the queue"},
			{who: "B", state: "queued", want: "You are number 1 in the queue"}, // dialling again keeps the place
			{who: "A", state: "lang", want: "1 English"},                       // mid-journey: let in
			{who: "A", text: booked, state: "booked", want: "Booked!", invited: "B"},
			{who: "D", state: "queued", want: "You are number 2 in the queue", invited: "B"}, // B's invitation holds the room
			{who: "B", state: "lang", want: "1 English", invited: "B"},
			{who: "B", text: booked, state: "booked", invited: "BC"},
			{who: "C", state: "lang", invited: "BC"},
		}},
		{name: "queue on, SMS without kind", queue: true, plain: true, steps: []step{
			{who: "A", state: "lang"},
			{who: "B", state: "queued", want: "number 1"},
			{who: "A", text: booked, state: "booked", invited: "B"},
			{who: "B", state: "lang", invited: "B"},
		}},
		{name: "queue off", steps: []step{
			{who: "A", state: "lang", want: "1 English"},
			{who: "B", state: "busy", want: "END " + FakeBusyScreen},
			{who: "B", state: "busy", want: "END " + FakeBusyScreen},
			{who: "A", text: booked, state: "booked"},
			{who: "C", state: "lang", want: "1 English"}, // whoever dials first
			{who: "B", state: "busy"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := NewSink(testSecret)
			sink.SetInviteMarker("*123*45#")
			sinkSrv := httptest.NewServer(sink)
			defer sinkSrv.Close()
			f := &FakeGateway{SinkURL: sinkSrv.URL + SinkPath, SinkSecret: testSecret, MaxJourneys: 1, Queue: tt.queue, PlainSMS: tt.plain}
			f.init()
			number := map[string]string{}
			waits := map[string]<-chan time.Time{}
			for _, who := range "ABCD" {
				n := "+91981234567" + string(who-'A'+'0')
				number[string(who)] = n
				f.codes["s"+string(who)] = "123456"
				waits[string(who)] = sink.ExpectInvite(n)
			}
			invited := ""
			for i, st := range tt.steps {
				form := url.Values{"sessionId": {"s" + st.who}, "phoneNumber": {number[st.who]}, "text": {st.text}}
				var got FakeRequest
				f.Fault = func(r FakeRequest) *FakeAnswer { got = r; return nil }
				req := httptest.NewRequest(http.MethodPost, USSDPath, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				f.ServeHTTP(rec, req)
				f.Wait()
				if got.State != st.state || !strings.Contains(rec.Body.String(), st.want) {
					t.Fatalf("step %d, %s dials %q: state %q, %q; want %q with %q", i, st.who, st.text, got.State, rec.Body, st.state, st.want)
				}
				for _, who := range "ABCD" {
					select {
					case <-waits[string(who)]:
						invited += string(who)
					default:
					}
				}
				if invited != st.invited {
					t.Fatalf("step %d: invited %q, want %q", i, invited, st.invited)
				}
			}
		})
	}
}
