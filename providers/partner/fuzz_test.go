package partner_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
	"github.com/tikasetu/tikasetu/providers/partner"
)

// FuzzDecode posts a correctly signed body to a partner's USSD or SMS route
// and checks that it is either refused with 400 and a JSON error, before the
// engine sees it, or reaches the engine as a Turn holding exactly the body's
// fields, each within its bound.
func FuzzDecode(f *testing.F) {
	for _, tt := range []struct {
		body string
		sms  bool
	}{
		{`{"session_id":"ATUid_1","msisdn":"+919876543210","service_code":"*123*45#","input":"","new_session":true}`, false},
		{`{"session_id":"s","msisdn":"09876543210","new_session":true}`, false},
		{`{"session_id":"s","msisdn":"98765 43210","input":"2","new_session":false,"network":"40445","request_id":"r-9"}`, false},
		{`{"session_id":"s","msisdn":"919876543210","input":"राम कुमार","new_session":false}`, false},
		{`{"SESSION_ID":"s","Msisdn":"९८७६५४३२१०","input":"1","new_session":false,"input":"2"}`, false},
		{`{"session_id":"s\u0000","msisdn":"9876543210","new_session":true}`, false},
		{`{"session_id":"s","msisdn":"9876543210","input":"\ud800","new_session":false}`, false},
		{`{"session_id":"s","msisdn":"9876543210","input":null,"new_session":false}`, false},
		{`{"session_id":"s","msisdn":"9876543210","new_session":"yes"}`, false},
		{`{"session_id":"s","msisdn":"9876543210","new_session":true,"service_code":"` + strings.Repeat("*", 33) + `"}`, false},
		{`{"session_id":"s","msisdn":"9876543210","new_session":false,"input":"` + strings.Repeat("क", partner.MaxInputRunes) + `"}`, false},
		{`{"message_id":"m-1","msisdn":"+919876543210","text":"REG"}`, true},
		{`{"message_id":"m-2","msisdn":"09876543210","text":""}`, true},
		{`{"message_id":"m-3","msisdn":"9876543210","text":"রহিম আলি"}`, true},
		{`{"message_id":"` + strings.Repeat("m", partner.MaxIDBytes+1) + `","msisdn":"9876543210","text":"x"}`, true},
		{`{"message_id":1,"msisdn":"9876543210","text":"x"}`, true},
		{`{"message_id":"m","msisdn":"+449876543210","text":"x"}`, true},
		{``, false}, {`null`, true}, {`[]`, false}, {` {`, true}, {`{}`, true}, {`{"text":"x"} trailing`, true},
	} {
		f.Add(tt.body, tt.sms)
	}
	gin.SetMode(gin.TestMode)
	const secret = "fuzz-secret-0123456789abcdefghijklmnop"
	cfg := partner.Config{Partners: []partner.Partner{
		{ID: "fz", Secret: secret, Unicode: true, USSDScreen: 160, USSDScreenUCS2: 70, Rate: 1, Burst: 1},
	}}
	now := time.Date(2021, 5, 20, 10, 30, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)

	f.Fuzz(func(t *testing.T, body string, sms bool) {
		// A fresh server each time, so that its token bucket is full.
		h := &providertest.Handler{Fn: providertest.Echo}
		r := gin.New()
		partner.Register(r, h, cfg, partner.Options{
			Now: func() time.Time { return now },
			// Generous deadlines: a loaded machine must not turn a turn busy.
			USSDDeadline: time.Minute, SMSDeadline: time.Minute,
		})
		path := "/partners/fz/ussd"
		if sms {
			path = "/partners/fz/sms"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(partner.TimestampHeader, ts)
		req.Header.Set(partner.SignatureHeader, partner.Sign([]byte(secret), ts, []byte(body)))
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		turns := h.Calls()

		switch {
		case len(body) > partner.MaxBodyBytes:
			if rec.Code != http.StatusRequestEntityTooLarge || len(turns) != 0 {
				t.Fatalf("%d-byte body: status %d, %d turns; want 413 and none", len(body), rec.Code, len(turns))
			}
			return
		case rec.Code == http.StatusBadRequest:
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || len(turns) != 0 {
				t.Fatalf("400 with body %q (%v) and %d turns; want a JSON error and none", rec.Body, err, len(turns))
			}
			return
		case rec.Code != http.StatusOK || len(turns) != 1:
			t.Fatalf("status %d, body %q, %d turns; want 400, or 200 and one turn", rec.Code, rec.Body, len(turns))
		}

		got := turns[0]
		if got.Provider != partner.ProviderPrefix+"fz" || !got.Vouched || got.GSM7Only {
			t.Fatalf("turn %#v: wrong provider, vouching or GSM-7", got)
		}
		if len(got.Msisdn) != 13 || !strings.HasPrefix(got.Msisdn, "+91") || strings.Trim(got.Msisdn[1:], "0123456789") != "" || got.Msisdn[3] < '6' {
			t.Fatalf("turn msisdn %q, not +91 and a mobile number", got.Msisdn)
		}
		if !utf8.ValidString(got.Input) || utf8.RuneCountInString(got.Input) > partner.MaxInputRunes {
			t.Fatalf("turn input of %d bytes: not UTF-8 or longer than %d characters", len(got.Input), partner.MaxInputRunes)
		}
		// The body, read as the contract's JSON, gives the expected turn.
		var want dialog.Turn
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response %q: %v", rec.Body, err)
		}
		var msisdn *string
		if sms {
			var in struct {
				MessageID *string `json:"message_id"`
				Msisdn    *string `json:"msisdn"`
				Text      *string `json:"text"`
			}
			if err := json.Unmarshal([]byte(body), &in); err != nil || in.MessageID == nil || in.Text == nil || !fuzzValidID(*in.MessageID) {
				t.Fatalf("accepted SMS body %q (%v)", body, err)
			}
			msisdn = in.Msisdn
			want = dialog.Turn{Channel: dialog.SMSChannel, Delivery: "sms:" + *in.MessageID, Input: *in.Text}
			if resp["reply"] != "echo "+got.Input || len(resp) != 1 {
				t.Fatalf("response %q", rec.Body)
			}
		} else {
			var in struct {
				SessionID  *string `json:"session_id"`
				Msisdn     *string `json:"msisdn"`
				Input      *string `json:"input"`
				NewSession *bool   `json:"new_session"`
			}
			if err := json.Unmarshal([]byte(body), &in); err != nil || in.SessionID == nil || in.NewSession == nil ||
				!fuzzValidID(*in.SessionID) || (in.Input == nil && !*in.NewSession) {
				t.Fatalf("accepted USSD body %q (%v)", body, err)
			}
			msisdn = in.Msisdn
			sum := sha256.Sum256([]byte(ts + "." + body))
			want = dialog.Turn{Channel: dialog.USSD, Session: *in.SessionID, Delivery: hex.EncodeToString(sum[:]),
				NewSession: *in.NewSession, ScreenLimit: 160, UCS2Limit: 70}
			if in.Input != nil {
				want.Input = *in.Input
			}
			if resp["message"] != "echo "+got.Input || resp["end_session"] != (len(got.Input)%2 == 1) || len(resp) != 2 {
				t.Fatalf("response %q", rec.Body)
			}
		}
		if msisdn == nil {
			t.Fatalf("accepted body %q without msisdn", body)
		}
		if n, err := dialog.NormaliseMsisdn(*msisdn); err != nil || got.Msisdn != n {
			t.Fatalf("turn msisdn %q for %q (%v)", got.Msisdn, *msisdn, err)
		}
		want.Provider, want.Msisdn, want.Vouched = got.Provider, got.Msisdn, true
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("turn\n got %#v\nwant %#v", got, want)
		}
	})
}

// fuzzValidID is the rule for session and message ids: 1 to MaxIDBytes
// bytes of UTF-8 without control characters.
func fuzzValidID(s string) bool {
	if s == "" || len(s) > partner.MaxIDBytes || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError })
}
