package africastalking

import (
	"cmp"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

func init() { gin.SetMode(gin.TestMode) }

// mount mounts the route with opt, its deadline, logger and OnTurn taken
// from the rig's Setup.
func mount(opt Options) providertest.Mount {
	return func(r gin.IRoutes, s providertest.Setup) {
		opt.Deadline, opt.Logger, opt.OnTurn = s.Deadline, s.Logger, s.OnTurn
		Register(r, s.Handler, opt)
	}
}

// newRig serves the route answered by h with opt over real HTTP.
func newRig(t *testing.T, h dialog.Handler, opt Options) *providertest.Rig {
	t.Helper()
	return providertest.NewRig(t, h, opt.Deadline, mount(opt))
}

// postBody builds a POST of body to target; ctype "" sends no
// Content-Type.
func postBody(target, body, ctype string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}

// post builds the POST of a form, as Africa's Talking sends it.
func post(f url.Values) *http.Request {
	return postBody(Path, f.Encode(), formType)
}

func form(session, phone, text string) url.Values {
	return url.Values{
		"sessionId":   {session},
		"serviceCode": {"*123*45#"},
		"phoneNumber": {phone},
		"networkCode": {"40445"},
		"text":        {text},
	}
}

func TestTurnDecoding(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		form url.Values
		want dialog.Turn
	}{
		{
			name: "first request",
			form: form("ATUid_1", "+919876543210", ""),
			want: dialog.Turn{Session: "ATUid_1", Delivery: "ATUid_1\x00", NewSession: true, Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "text field absent is a first request",
			form: url.Values{"sessionId": {"s"}, "phoneNumber": {"9876543210"}},
			want: dialog.Turn{Session: "s", Delivery: "s\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "second request",
			form: form("s2", "+919876543210", "1"),
			want: dialog.Turn{Session: "s2", Delivery: "s2\x001", Msisdn: "+919876543210", Input: "1"},
		},
		{
			name: "later request carries only the last input",
			form: form("s3", "+919876543210", "1*2*3"),
			want: dialog.Turn{Session: "s3", Delivery: "s3\x001*2*3", Msisdn: "+919876543210", Input: "3"},
		},
		{
			name: "empty last segment",
			form: form("s4", "+919876543210", "1*"),
			want: dialog.Turn{Session: "s4", Delivery: "s4\x001*", Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "lone star",
			form: form("s5", "+919876543210", "*"),
			want: dialog.Turn{Session: "s5", Delivery: "s5\x00*", Msisdn: "+919876543210", Input: ""},
		},
		{
			name: "non-Latin input kept verbatim",
			form: form("s6", "+919876543210", "2*राम कुमार"),
			want: dialog.Turn{Session: "s6", Delivery: "s6\x002*राम कुमार", Msisdn: "+919876543210", Input: "राम कुमार"},
		},
		{
			name: "phone without plus",
			form: form("p1", "919876543210", ""),
			want: dialog.Turn{Session: "p1", Delivery: "p1\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "phone with trunk zero",
			form: form("p2", "09876543210", ""),
			want: dialog.Turn{Session: "p2", Delivery: "p2\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "bare phone with spaces and hyphen",
			form: form("p3", "98765 43-210", ""),
			want: dialog.Turn{Session: "p3", Delivery: "p3\x00", NewSession: true, Msisdn: "+919876543210"},
		},
		{
			name: "screen limits from options",
			opt:  Options{ScreenLimit: 160, UCS2Limit: 70},
			form: form("l1", "+916000000001", "5"),
			want: dialog.Turn{Session: "l1", Delivery: "l1\x005", Msisdn: "+916000000001", Input: "5", ScreenLimit: 160, UCS2Limit: 70},
		},
		{
			name: "a route restricted to the aggregator vouches for the number",
			opt:  Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, // the rig's peer
			form: form("v1", "+919876543210", ""),
			want: dialog.Turn{Session: "v1", Delivery: "v1\x00", NewSession: true, Msisdn: "+919876543210", Vouched: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			rig := newRig(t, h, tc.opt)
			got := h.Only(t, rig.Do(t, post(tc.form)))
			want := tc.want
			want.Channel = dialog.USSD
			want.Provider = Name
			if !reflect.DeepEqual(got, want) {
				t.Errorf("turn\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

// An unencoded "+" in a hand-written form decodes as a space; the number is
// still accepted.
func TestUnencodedPlus(t *testing.T) {
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	rec := newRig(t, h, Options{}).Do(t, postBody(Path, "sessionId=x&phoneNumber=+919876543210&text=", formType))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	if got := h.Calls()[0].Msisdn; got != "+919876543210" {
		t.Errorf("msisdn %q", got)
	}
}

func TestReplyEncoding(t *testing.T) {
	tests := []struct {
		name  string
		reply dialog.Reply
		want  string
	}{
		{"continue", dialog.Reply{Text: "1 English\n2 हिन्दी\n3 বাংলা"}, "CON 1 English\n2 हिन्दी\n3 বাংলা"},
		{"end", dialog.Reply{Text: "Appointment 1234", End: true}, "END Appointment 1234"},
		{"empty continue", dialog.Reply{}, "CON "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRig(t, &providertest.Handler{Reply: tc.reply}, Options{}).Do(t, post(form("s", "9876543210", "")))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != contentType {
				t.Errorf("content type %q", got)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("body %q, want %q", got, tc.want)
			}
		})
	}
}

// The longest accepted text still reaches the handler.
func TestTextAtLimit(t *testing.T) {
	h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
	text := strings.Repeat("क", MaxTextRunes)
	if rec := newRig(t, h, Options{}).Do(t, post(form("s", "9876543210", text))); rec.Code != http.StatusOK {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body)
	}
	if got := h.Calls()[0].Input; got != text {
		t.Errorf("input has %d bytes, want %d", len(got), len(text))
	}
}

// The route keeps the contract of every inbound channel.
func TestContract(t *testing.T) {
	providertest.RunContract(t, providertest.Channel{
		Provider:        Name,
		Kind:            dialog.USSD,
		Mount:           mount(Options{}),
		DefaultDeadline: DefaultDeadline,
		BusyText:        BusyText,
		Request: func(_ *testing.T, m providertest.Message) *http.Request {
			// A retry is the same form again: same session, same text.
			return post(form(m.ID, m.Msisdn, m.Input))
		},
		Screen: func(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
			if got := rec.Header().Get("Content-Type"); got != contentType {
				t.Errorf("content type %q", got)
			}
			body := rec.Body.String()
			if text, ok := strings.CutPrefix(body, "END "); ok {
				return dialog.Reply{Text: text, End: true}
			}
			text, ok := strings.CutPrefix(body, "CON ")
			if !ok {
				t.Fatalf("body %q is neither CON nor END", body)
			}
			return dialog.Reply{Text: text}
		},
		Reason:   func(_ *testing.T, rec *httptest.ResponseRecorder) string { return strings.TrimSpace(rec.Body.String()) },
		Refusals: refusals(),
	})
}

// refusals are the malformed requests the route answers 400 without
// reaching the conversation.
func refusals() []providertest.Refusal {
	long := form("s", "9876543210", strings.Repeat("1*", MaxTextRunes/2)+"1").Encode()
	tests := []struct {
		name   string
		target string // "" is Path
		body   string
		ctype  string
		reason string
	}{
		{name: "missing sessionId", body: "phoneNumber=9876543210&text=", ctype: formType, reason: "missing sessionId"},
		{name: "missing phoneNumber", body: "sessionId=s&text=", ctype: formType, reason: "missing phoneNumber"},
		{name: "phone not Indian mobile", body: form("s", "+254712345678", "").Encode(), ctype: formType, reason: "not an Indian mobile number"},
		{name: "phone starting 5", body: form("s", "5876543210", "").Encode(), ctype: formType, reason: "not an Indian mobile number"},
		{name: "phone with letters", body: form("s", "98765abcde", "").Encode(), ctype: formType, reason: "not an Indian mobile number"},
		{name: "JSON body", body: `{"sessionId":"s","phoneNumber":"9876543210"}`, ctype: "application/json", reason: "must be application/x-www-form-urlencoded"},
		{name: "no content type", body: form("s", "9876543210", "").Encode(), reason: "must be application/x-www-form-urlencoded"},
		{name: "broken encoding", body: "sessionId=%zz&phoneNumber=9876543210", ctype: formType, reason: "not a valid form"},
		{name: "oversized body", body: form("s", "9876543210", "").Encode() + "&pad=" + strings.Repeat("x", MaxBodyBytes), ctype: formType, reason: "body larger than"},
		{name: "text too long", body: long, ctype: formType, reason: "text longer than"},
		{name: "text not UTF-8", body: "sessionId=s&phoneNumber=9876543210&text=1*%ff", ctype: formType, reason: "not valid UTF-8"},
		{name: "sessionId with NUL", body: "sessionId=a%00b&phoneNumber=9876543210", ctype: formType, reason: "bad sessionId"},
		{name: "sessionId too long", body: form(strings.Repeat("s", MaxSessionBytes+1), "9876543210", "").Encode(), ctype: formType, reason: "bad sessionId"},
		{name: "fields only in query string", target: Path + "?sessionId=s&phoneNumber=9876543210", ctype: formType, reason: "missing sessionId"},
	}
	var out []providertest.Refusal
	for _, tc := range tests {
		target := cmp.Or(tc.target, Path)
		out = append(out, providertest.Refusal{
			Name:    tc.name,
			Status:  http.StatusBadRequest,
			Reason:  tc.reason,
			Request: func(*testing.T) *http.Request { return postBody(target, tc.body, tc.ctype) },
		})
	}
	return out
}

// parseForm must read a body as url.ParseQuery and Values.Get do: the
// same fields, and an error for the same bodies.
func FuzzParseForm(f *testing.F) {
	for _, body := range []string{
		"",
		"sessionId=ATUid_1&serviceCode=%2A123%23&phoneNumber=%2B919876543210&networkCode=40445&text=1%2A2",
		"text=%E0%A4%B0%E0%A4%BE%E0%A4%AE+%E0%A4%95",
		"phoneNumber=+919876543210&phoneNumber=9876543210",
		"sessionId&text=",
		"&&sessionId=s&",
		"session%49d=s",
		"sessionId=a;b",
		"text=%zz",
		"%zz=1",
		"a=1&b",
		"=x&text==",
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req request
		err := parseForm(body, &req)
		want, wantErr := url.ParseQuery(body)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("parseForm(%q) error %v, url.ParseQuery %v", body, err, wantErr)
		}
		if err != nil {
			return
		}
		got := map[string]string{"sessionId": req.session, "serviceCode": req.service,
			"phoneNumber": req.phone, "networkCode": req.network, "text": req.text}
		for k, v := range got {
			if w := want.Get(k); v != w {
				t.Errorf("parseForm(%q): %s = %q, want %q", body, k, v, w)
			}
		}
	})
}

// readBody reads bodies of every size up to the limit whole, through
// short reads, and refuses a larger one.
func TestReadBody(t *testing.T) {
	for _, n := range []int{0, 1, 1023, 1024, 1025, 5000, MaxBodyBytes} {
		body := strings.Repeat("x", n)
		got, err := readBody(iotest.OneByteReader(strings.NewReader(body)))
		if err != nil || got != body {
			t.Errorf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	if _, err := readBody(strings.NewReader(strings.Repeat("x", MaxBodyBytes+1))); err == nil {
		t.Error("a body over the limit was read")
	}
	if _, err := readBody(iotest.ErrReader(errors.New("reset"))); err == nil {
		t.Error("a failed read was taken as a body")
	}
}
