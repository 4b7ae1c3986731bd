package africastalking_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/africastalking"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

// FuzzText posts a form and checks that a well-formed request reaches the
// engine with the last "*"-separated part of text as its input, and that
// anything else is refused with 400 before the engine sees it.
func FuzzText(f *testing.F) {
	for _, tt := range []struct{ session, phone, text string }{
		{"ATUid_1", "+919876543210", ""},
		{"s", "9876543210", "1"},
		{"s", "919876543210", "1*2*3"},
		{"s", "09876543210", "1*"},
		{"s", "98765 43-210", "*"},
		{"s", "+919876543210", "**"},
		{"s", "+919876543210", "2*राम कुमार"},
		{"s", "+919876543210", "1*2*১৯৮৫"},
		{"s", "+919876543210", strings.Repeat("9", africastalking.MaxTextRunes)},
		{"s", "+919876543210", strings.Repeat("क", africastalking.MaxTextRunes+1)},
		{"s", "+919876543210", "1*\xff"},
		{"s", "+919876543210", "1\x00*2"},
		{"", "+919876543210", "1"},
		{"a\x00b", "+919876543210", "1"},
		{"a\ufffd", "+919876543210", "1"},
		{strings.Repeat("s", 129), "+919876543210", "1"},
		{"s", "", "1"},
		{"s", "+449876543210", "1"},
	} {
		f.Add(tt.session, tt.phone, tt.text)
	}
	gin.SetMode(gin.TestMode)
	h := &providertest.Handler{Fn: providertest.Echo}
	r := gin.New()
	// A generous deadline: a loaded machine must not turn a turn busy.
	africastalking.Register(r, h, africastalking.Options{Deadline: time.Minute})

	f.Fuzz(func(t *testing.T, session, phone, text string) {
		form := url.Values{"sessionId": {session}, "phoneNumber": {phone}, "serviceCode": {"*123#"}, "networkCode": {"40445"}, "text": {text}}
		req := httptest.NewRequest(http.MethodPost, africastalking.Path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		seen := len(h.Calls())
		r.ServeHTTP(rec, req)
		turns := h.Calls()[seen:]

		msisdn, err := dialog.NormaliseMsisdn(phone)
		wellFormed := session != "" && len(session) <= africastalking.MaxSessionBytes && fuzzPrintable(session) &&
			err == nil && utf8.ValidString(text) && utf8.RuneCountInString(text) <= africastalking.MaxTextRunes
		if !wellFormed {
			if rec.Code != http.StatusBadRequest || len(turns) != 0 || !strings.HasSuffix(rec.Body.String(), "\n") {
				t.Fatalf("malformed request: status %d, body %q, %d turns; want 400, a reason, no turn", rec.Code, rec.Body, len(turns))
			}
			return
		}
		if rec.Code != http.StatusOK || len(turns) != 1 {
			t.Fatalf("status %d, body %q, %d turns; want 200 and one turn", rec.Code, rec.Body, len(turns))
		}
		parts := strings.Split(text, "*")
		want := dialog.Turn{
			Channel: dialog.USSD, Provider: africastalking.Name, Session: session, Delivery: session + "\x00" + text,
			NewSession: text == "", Msisdn: msisdn, Input: parts[len(parts)-1],
		}
		if !reflect.DeepEqual(turns[0], want) {
			t.Fatalf("turn\n got %#v\nwant %#v", turns[0], want)
		}
		prefix := "CON "
		if len(want.Input)%2 == 1 {
			prefix = "END "
		}
		if got := rec.Body.String(); got != prefix+"echo "+want.Input {
			t.Fatalf("body %q, want %q", got, prefix+"echo "+want.Input)
		}
	})
}

// fuzzPrintable is the session id rule: no control character, valid UTF-8.
func fuzzPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}
