package loadgen

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
