package twilio

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/client"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

func init() { gin.SetMode(gin.TestMode) }

const (
	testToken  = "0123456789abcdef0123456789abcdef"
	testPublic = "https://sms.example.in"
)

// harness serves the routes over real HTTP and keeps the delivery status
// callbacks they report.
type harness struct {
	*providertest.Rig
	mu       sync.Mutex
	statuses []StatusEvent
}

// mount mounts the routes with opt, its deadline, logger and OnTurn taken
// from the rig's Setup, and testToken and testPublic unless opt says
// otherwise.
func mount(opt Options) providertest.Mount {
	opt.AuthToken = cmp.Or(opt.AuthToken, testToken)
	opt.PublicURL = cmp.Or(opt.PublicURL, testPublic)
	return func(r gin.IRoutes, s providertest.Setup) {
		opt.Deadline, opt.Logger, opt.OnTurn = s.Deadline, s.Logger, s.OnTurn
		Register(r, s.Handler, opt)
	}
}

func newHarness(t *testing.T, h dialog.Handler, opt Options) *harness {
	t.Helper()
	hs := &harness{}
	opt.OnStatus = func(ev StatusEvent) {
		hs.mu.Lock()
		defer hs.mu.Unlock()
		hs.statuses = append(hs.statuses, ev)
	}
	hs.Rig = providertest.NewRig(t, h, opt.Deadline, mount(opt))
	return hs
}

func (hs *harness) events() []StatusEvent {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]StatusEvent(nil), hs.statuses...)
}

// signedPost builds a POST of body to target (path and query) signed as
// Twilio signs it for a webhook configured at base+target.
func signedPost(target, body, token, base string) *http.Request {
	sig := ""
	if f, err := url.ParseQuery(body); err == nil {
		sig = Sign(token, base+target, f)
	}
	return signedWith(target, body, sig)
}

// signedWith builds a form POST of body to target carrying sig ("" for
// none) as its signature.
func signedWith(target, body, sig string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		req.Header.Set(SignatureHeader, sig)
	}
	return req
}

// sms is a Twilio inbound SMS webhook form.
func sms(sid, from, body string) url.Values {
	return url.Values{
		"ToCountry":     {"IN"},
		"SmsMessageSid": {sid},
		"NumMedia":      {"0"},
		"SmsSid":        {sid},
		"SmsStatus":     {"received"},
		"Body":          {body},
		"To":            {"+918000000000"},
		"NumSegments":   {"1"},
		"MessageSid":    {sid},
		"AccountSid":    {"AC00000000000000000000000000000000"},
		"From":          {from},
		"ApiVersion":    {"2010-04-01"},
	}
}

// hmacSHA1 computes a signature independently of Sign and of twilio-go.
func hmacSHA1(token, data string) string {
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// The worked example of Twilio's webhook-security documentation (the
// "Validating requests" walk-through of twilio.com/docs/usage/security: a
// POST to https://mycompany.com/myapp.php?foo=1&bar=2 with these digits
// from a <Gather>, auth token 12345). The current page's code samples use
// a token read from the environment, so their signature cannot be
// reproduced; this one can.
var published = struct {
	token, base, target, sig string
	params                   url.Values
}{
	token:  "12345",
	base:   "https://mycompany.com",
	target: "/myapp.php?foo=1&bar=2",
	sig:    "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
	params: url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	},
}

func TestPublishedExampleSignature(t *testing.T) {
	full := published.base + published.target
	if got := Sign(published.token, full, published.params); got != published.sig {
		t.Errorf("Sign = %q, want %q", got, published.sig)
	}
	if !ValidSignature(published.token, full, published.params, published.sig) {
		t.Error("ValidSignature rejects the published example")
	}
	// Cross-check against the library directly.
	rv := client.NewRequestValidator(published.token)
	if !rv.Validate(full, signingParams(published.params, true), published.sig) {
		t.Error("twilio-go rejects the published example")
	}
}

// verifyRoute serves the package's verification middleware (the one in
// front of both real routes) on the published example's path, so that the
// published request can go through gin as Twilio sent it. reached counts
// the requests it let through.
func verifyRoute(t *testing.T, opt Options) (rig *providertest.Rig, reached *atomic.Int32) {
	reached = new(atomic.Int32)
	rig = providertest.NewRig(t, &providertest.Handler{}, 0, func(r gin.IRoutes, su providertest.Setup) {
		s := &server{h: su.Handler, opt: opt}
		s.opt.Logger = su.Logger
		r.POST("/myapp.php", s.verify, func(c *gin.Context) {
			reached.Add(1)
			c.Status(http.StatusOK)
		})
	})
	return rig, reached
}

func TestPublishedExampleThroughGin(t *testing.T) {
	body := published.params.Encode()
	tests := []struct {
		name   string
		public string
		body   string
		target string
		sig    string
		want   int
	}{
		{name: "as published", public: published.base, body: body, target: published.target, sig: published.sig, want: http.StatusOK},
		{name: "public URL with trailing slash", public: published.base + "/", body: body, target: published.target, sig: published.sig, want: http.StatusOK},
		{name: "parameter changed", public: published.base, body: strings.Replace(body, "Digits=1234", "Digits=1235", 1), target: published.target, sig: published.sig, want: http.StatusForbidden},
		{name: "parameter added", public: published.base, body: body + "&Extra=1", target: published.target, sig: published.sig, want: http.StatusForbidden},
		{name: "parameter dropped", public: published.base, body: strings.Replace(body, "Digits=1234&", "", 1), target: published.target, sig: published.sig, want: http.StatusForbidden},
		{name: "query changed", public: published.base, body: body, target: "/myapp.php?foo=1&bar=3", sig: published.sig, want: http.StatusForbidden},
		{name: "query dropped", public: published.base, body: body, target: "/myapp.php", sig: published.sig, want: http.StatusForbidden},
		{name: "other public host", public: "https://evil.example.com", body: body, target: published.target, sig: published.sig, want: http.StatusForbidden},
		{name: "http instead of https", public: "http://mycompany.com", body: body, target: published.target, sig: published.sig, want: http.StatusForbidden},
		{name: "missing header", public: published.base, body: body, target: published.target, sig: "", want: http.StatusForbidden},
		{name: "truncated signature", public: published.base, body: body, target: published.target, sig: published.sig[:len(published.sig)-1], want: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig, reached := verifyRoute(t, Options{AuthToken: published.token, PublicURL: strings.TrimRight(tc.public, "/")})
			rec := rig.Do(t, signedWith(tc.target, tc.body, tc.sig))
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d (body %q)", rec.Code, tc.want, rec.Body)
			}
			if wantReached := tc.want == http.StatusOK; (reached.Load() == 1) != wantReached {
				t.Errorf("handler reached %d times", reached.Load())
			}
		})
	}
	// A wrong token fails too.
	rig, reached := verifyRoute(t, Options{AuthToken: "54321", PublicURL: published.base})
	rec := rig.Do(t, signedWith(published.target, body, published.sig))
	if rec.Code != http.StatusForbidden || reached.Load() != 0 {
		t.Errorf("wrong token: status %d, reached %d", rec.Code, reached.Load())
	}
}

// The real SMS route refuses anything not signed for its public URL, and
// the handler never sees it.
func TestSMSRouteSignature(t *testing.T) {
	f := sms("SM0001", "+919876543210", "REG")
	body := f.Encode()
	good := Sign(testToken, testPublic+Path, f)
	tests := []struct {
		name   string
		opt    Options
		target string
		body   string
		sig    string
		want   int
	}{
		{name: "valid", body: body, sig: good, want: http.StatusOK},
		{name: "valid, URL signed with default port", body: body, sig: Sign(testToken, "https://sms.example.in:443"+Path, f), want: http.StatusOK},
		{name: "valid behind a path prefix", opt: Options{PublicURL: "https://example.in/gw"}, body: body, sig: Sign(testToken, "https://example.in/gw"+Path, f), want: http.StatusOK},
		{name: "valid with a query string", target: Path + "?x=1&y=%2F", body: body, sig: Sign(testToken, testPublic+Path+"?x=1&y=%2F", f), want: http.StatusOK},
		{name: "Body changed", body: strings.Replace(body, "Body=REG", "Body=STOP", 1), sig: good, want: http.StatusForbidden},
		{name: "From changed", body: strings.Replace(body, "9876543210", "9876543211", 1), sig: good, want: http.StatusForbidden},
		{name: "parameter added", body: body + "&Extra=", sig: good, want: http.StatusForbidden},
		{name: "query added", target: Path + "?x=1", body: body, sig: good, want: http.StatusForbidden},
		{name: "different public URL configured", opt: Options{PublicURL: "https://other.example.in"}, body: body, sig: good, want: http.StatusForbidden},
		{name: "signed for the status route", body: body, sig: Sign(testToken, testPublic+StatusPath, f), want: http.StatusForbidden},
		{name: "other token", body: body, sig: Sign("another", testPublic+Path, f), want: http.StatusForbidden},
		{name: "missing header", body: body, want: http.StatusForbidden},
		{name: "garbage header", body: body, sig: "not base64!", want: http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, tc.opt)
			target := tc.target
			if target == "" {
				target = Path
			}
			rec := hs.Do(t, signedWith(target, tc.body, tc.sig))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tc.want, rec.Body)
			}
			wantCalls := 0
			if tc.want == http.StatusOK {
				wantCalls = 1
			} else if rec.Body.Len() == 0 || rec.Body.Len() > 100 {
				t.Errorf("want a short reason, got %q", rec.Body)
			}
			if n := len(h.Calls()); n != wantCalls {
				t.Errorf("handler called %d times, want %d", n, wantCalls)
			}
			if n := len(hs.Outcomes()); n != wantCalls {
				t.Errorf("OnTurn called %d times, want %d", n, wantCalls)
			}
		})
	}
}

// Repeated keys: Twilio signs a key once per distinct value, values
// sorted. The expected strings below are written out by hand.
func TestRepeatedKeys(t *testing.T) {
	const base = testPublic + Path
	// Names sort bytewise: Body < From < MediaUrl0 < MessageSid < NumMedia.
	const head, tail = base + "BodyhiFrom+919876543210", "MessageSidSM0002"
	tests := []struct {
		name   string
		signed string // the exact string Twilio signs
		body   string // the body as sent
		want   bool
	}{
		{
			name:   "two values",
			signed: head + "MediaUrl0https://a.example/1MediaUrl0https://b.example/2" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fa.example%2F1&MediaUrl0=https%3A%2F%2Fb.example%2F2",
			want:   true,
		},
		{
			name:   "values sent in the other order",
			signed: head + "MediaUrl0https://a.example/1MediaUrl0https://b.example/2" + tail,
			body:   "MediaUrl0=https%3A%2F%2Fb.example%2F2&MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fa.example%2F1",
			want:   true,
		},
		{
			name:   "keys sort around the repeated key",
			signed: head + "MediaUrl0xMediaUrl0y" + tail + "NumMedia2ZzZ",
			body:   "Zz=Z&MediaUrl0=y&NumMedia=2&MediaUrl0=x&MessageSid=SM0002&From=%2B919876543210&Body=hi",
			want:   true,
		},
		{
			name:   "a value dropped",
			signed: head + "MediaUrl0https://a.example/1MediaUrl0https://b.example/2" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fa.example%2F1",
			want:   false,
		},
		{
			name:   "a value added",
			signed: head + "MediaUrl0https://a.example/1" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fa.example%2F1&MediaUrl0=x",
			want:   false,
		},
		{
			name:   "a value changed",
			signed: head + "MediaUrl0https://a.example/1MediaUrl0https://b.example/2" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fa.example%2F1&MediaUrl0=https%3A%2F%2Fb.example%2F3",
			want:   false,
		},
		{
			name:   "values in arrival order are not what Twilio signs",
			signed: head + "MediaUrl0https://b.example/2MediaUrl0https://a.example/1" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=https%3A%2F%2Fb.example%2F2&MediaUrl0=https%3A%2F%2Fa.example%2F1",
			want:   false,
		},
		{
			name:   "identical values signed once (twilio-node, twilio-python)",
			signed: head + "MediaUrl0x" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=x&MediaUrl0=x",
			want:   true,
		},
		{
			name:   "identical values signed each time",
			signed: head + "MediaUrl0xMediaUrl0x" + tail,
			body:   "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=x&MediaUrl0=x",
			want:   true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := hmacSHA1(testToken, tc.signed)
			form, err := url.ParseQuery(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if got := ValidSignature(testToken, base, form, sig); got != tc.want {
				t.Errorf("ValidSignature = %v, want %v", got, tc.want)
			}

			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, Options{})
			rec := hs.Do(t, signedWith(Path, tc.body, sig))
			want := http.StatusForbidden
			if tc.want {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Errorf("route status %d, want %d", rec.Code, want)
			}
			if n := len(h.Calls()); n != map[bool]int{true: 1}[tc.want] {
				t.Errorf("handler called %d times", n)
			}
		})
	}

	// Why the library cannot be handed the form as is: its ValidateBody
	// keeps the first value of each key only, and so rejects a request
	// Twilio signed with two values.
	body := "MessageSid=SM0002&From=%2B919876543210&Body=hi&MediaUrl0=a&MediaUrl0=b"
	sig := hmacSHA1(testToken, head+"MediaUrl0aMediaUrl0b"+tail)
	rv := client.NewRequestValidator(testToken)
	if rv.ValidateBody(base, []byte(body), sig) {
		t.Error("twilio-go's ValidateBody now handles repeated keys; revisit signingParams")
	}
	// Sign agrees with the hand-written string.
	form, _ := url.ParseQuery("MediaUrl0=b&MediaUrl0=a&MediaUrl0=b&" + strings.Split(body, "&MediaUrl0")[0])
	if got := Sign(testToken, base, form); got != sig {
		t.Errorf("Sign with repeated keys = %q, want %q", got, sig)
	}
}

func TestTurnDecoding(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		want dialog.Turn
	}{
		{"keyword", sms("SM1", "+919876543210", "REG"), dialog.Turn{Delivery: "SM1", Msisdn: "+919876543210", Input: "REG"}},
		{"digits with spaces kept", sms("SM2", "+919876543210", " 1 "), dialog.Turn{Delivery: "SM2", Msisdn: "+919876543210", Input: " 1 "}},
		{"Hindi", sms("SM3", "+916000000001", "राम कुमार"), dialog.Turn{Delivery: "SM3", Msisdn: "+916000000001", Input: "राम कुमार"}},
		{"empty body", sms("SM4", "+919876543210", ""), dialog.Turn{Delivery: "SM4", Msisdn: "+919876543210"}},
		{"From without plus", sms("SM5", "919876543210", "HI"), dialog.Turn{Delivery: "SM5", Msisdn: "+919876543210", Input: "HI"}},
		{"longest Body", sms("SM6", "+919876543210", strings.Repeat("क", MaxBodyRunes)), dialog.Turn{Delivery: "SM6", Msisdn: "+919876543210", Input: strings.Repeat("क", MaxBodyRunes)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			hs := newHarness(t, h, Options{})
			got := h.Only(t, hs.Do(t, signedPost(Path, tc.form.Encode(), testToken, testPublic)))
			want := tc.want
			want.Channel = dialog.SMSChannel
			want.Provider = Name
			want.Vouched = true // signed by Twilio
			if !reflect.DeepEqual(got, want) {
				t.Errorf("turn\n got %#v\nwant %#v", got, want)
			}
			if got := hs.Outcomes(); len(got) != 1 || got[0] != (providertest.Outcome{Provider: Name, OK: true}) {
				t.Errorf("OnTurn %v", got)
			}
		})
	}
}

// twimlDoc is a parsed messaging response.
type twimlDoc struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []struct {
		Text  string     `xml:",chardata"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"Message"`
	Other []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func parseTwiML(t *testing.T, rec *httptest.ResponseRecorder) twimlDoc {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/xml") {
		t.Errorf("content type %q", got)
	}
	var doc twimlDoc
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, rec.Body)
	}
	if len(doc.Other) != 0 {
		t.Errorf("unexpected elements %v", doc.Other)
	}
	return doc
}

func TestTwiMLReply(t *testing.T) {
	tests := []struct {
		name  string
		reply dialog.Reply
		want  []string // message texts
	}{
		{"plain", dialog.Reply{Text: "1 English\n2 हिन्दी\n3 বাংলা"}, []string{"1 English\n2 हिन्दी\n3 বাংলা"}},
		{"end", dialog.Reply{Text: "Appointment 1234. Bye", End: true}, []string{"Appointment 1234. Bye"}},
		{"markup characters", dialog.Reply{Text: `A & B <c> 'd' "e" ]]>`}, []string{`A & B <c> 'd' "e" ]]>`}},
		{"markup that looks like TwiML", dialog.Reply{Text: "</Message><Redirect>https://evil.example</Redirect><Message>"}, []string{"</Message><Redirect>https://evil.example</Redirect><Message>"}},
		{"control characters dropped", dialog.Reply{Text: "a\x00b\x1bc\td\ne\uFFFF"}, []string{"abc\td\ne"}},
		{"empty reply sends nothing", dialog.Reply{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, &providertest.Handler{Reply: tc.reply}, Options{})
			rec := hs.Do(t, signedPost(Path, sms("SM1", "9876543210", "x").Encode(), testToken, testPublic))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			doc := parseTwiML(t, rec)
			var got []string
			for _, m := range doc.Messages {
				got = append(got, m.Text)
				if len(m.Attrs) != 0 {
					t.Errorf("message attributes %v", m.Attrs)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("messages %q, want %q\n%s", got, tc.want, rec.Body)
			}
		})
	}
	// The escaping itself, for the record.
	hs := newHarness(t, &providertest.Handler{Reply: dialog.Reply{Text: "a & b < c > d"}}, Options{})
	rec := hs.Do(t, signedPost(Path, sms("SM1", "9876543210", "x").Encode(), testToken, testPublic))
	if !strings.Contains(rec.Body.String(), "<Message>a &amp; b &lt; c &gt; d</Message>") {
		t.Errorf("body %s", rec.Body)
	}
}

// status is a Twilio message status callback form.
func status(sid, st, to, code string) url.Values {
	f := url.Values{
		"SmsSid":        {sid},
		"SmsStatus":     {st},
		"MessageStatus": {st},
		"To":            {to},
		"MessageSid":    {sid},
		"AccountSid":    {"AC00000000000000000000000000000000"},
		"From":          {"+918000000000"},
		"ApiVersion":    {"2010-04-01"},
	}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return f
}

func TestStatusCallback(t *testing.T) {
	// The callback URL the Sender asks for, ref escaped.
	snd, err := NewSender(SenderOptions{AccountSID: "AC1", AuthToken: "t1", From: "+918000000000", StatusCallbackBase: testPublic + "/"})
	if err != nil {
		t.Fatal(err)
	}
	const ref = "otp/+91 98&x=1"
	cb, err := url.Parse(snd.StatusCallbackURL(ref))
	if err != nil {
		t.Fatal(err)
	}
	target := cb.RequestURI()

	legacy := status("SM9", "", "+919876543210", "")
	legacy.Del("MessageStatus")
	legacy.Set("SmsStatus", "sent")
	noStatus := status("SM9", "", "+919876543210", "")
	noStatus.Del("SmsStatus")

	tests := []struct {
		name   string
		target string
		form   url.Values
		sign   func(f url.Values, target string) string
		want   int
		event  *StatusEvent
	}{
		{
			name: "delivered", target: target, form: status("SM9", "delivered", "+919876543210", ""),
			want: 204, event: &StatusEvent{MessageSid: "SM9", Status: "delivered", To: "+919876543210", Ref: ref},
		},
		{
			name: "failed with error code", target: target, form: status("SM9", "undelivered", "+919876543210", "30003"),
			want: 204, event: &StatusEvent{MessageSid: "SM9", Status: "undelivered", To: "+919876543210", Ref: ref, ErrorCode: "30003"},
		},
		{
			name: "To not Indian kept as given", target: target, form: status("SM9", "sent", "+12349013030", ""),
			want: 204, event: &StatusEvent{MessageSid: "SM9", Status: "sent", To: "+12349013030", Ref: ref},
		},
		{
			name: "no ref", target: StatusPath, form: status("SM9", "sent", "+919876543210", ""),
			want: 204, event: &StatusEvent{MessageSid: "SM9", Status: "sent", To: "+919876543210"},
		},
		{
			name: "SmsStatus only", target: target, form: legacy,
			want: 204, event: &StatusEvent{MessageSid: "SM9", Status: "sent", To: "+919876543210", Ref: ref},
		},
		{
			name: "ref changed", target: StatusPath + "?ref=other", form: status("SM9", "failed", "+919876543210", ""),
			sign: func(f url.Values, _ string) string { return Sign(testToken, testPublic+target, f) },
			want: 403,
		},
		{
			name: "status changed", target: target, form: status("SM9", "delivered", "+919876543210", ""),
			sign: func(_ url.Values, tg string) string {
				return Sign(testToken, testPublic+tg, status("SM9", "failed", "+919876543210", ""))
			},
			want: 403,
		},
		{
			name: "signed for the SMS route", target: target, form: status("SM9", "sent", "+919876543210", ""),
			sign: func(f url.Values, _ string) string { return Sign(testToken, testPublic+Path, f) },
			want: 403,
		},
		{
			name: "missing signature", target: target, form: status("SM9", "sent", "+919876543210", ""),
			sign: func(url.Values, string) string { return "" },
			want: 403,
		},
		{name: "missing MessageSid", target: target, form: url.Values{"MessageStatus": {"sent"}}, want: 400},
		{name: "missing status", target: target, form: noStatus, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &providertest.Handler{}
			hs := newHarness(t, h, Options{})
			sig := Sign(testToken, testPublic+tc.target, tc.form)
			if tc.sign != nil {
				sig = tc.sign(tc.form, tc.target)
			}
			rec := hs.Do(t, signedWith(tc.target, tc.form.Encode(), sig))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tc.want, rec.Body)
			}
			evs := hs.events()
			switch {
			case tc.event == nil && len(evs) != 0:
				t.Errorf("OnStatus called: %+v", evs)
			case tc.event != nil && (len(evs) != 1 || evs[0] != *tc.event):
				t.Errorf("events %+v, want %+v", evs, *tc.event)
			}
			if n := len(h.Calls()); n != 0 {
				t.Errorf("dialog handler called %d times", n)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		ok   bool
	}{
		{"ok", Options{AuthToken: "t", PublicURL: "https://sms.example.in"}, true},
		{"ok with prefix and slash", Options{AuthToken: "t", PublicURL: "https://example.in/gw/"}, true},
		{"ok with port", Options{AuthToken: "t", PublicURL: "http://localhost:8080"}, true},
		{"no token", Options{PublicURL: "https://sms.example.in"}, false},
		{"no URL", Options{AuthToken: "t"}, false},
		{"relative URL", Options{AuthToken: "t", PublicURL: "sms.example.in"}, false},
		{"other scheme", Options{AuthToken: "t", PublicURL: "ftp://sms.example.in"}, false},
		{"query", Options{AuthToken: "t", PublicURL: "https://sms.example.in/?a=1"}, false},
		{"user info", Options{AuthToken: "t", PublicURL: "https://u:p@sms.example.in"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opt.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				defer func() {
					if recover() == nil {
						t.Error("Register did not panic")
					}
				}()
				Register(gin.New(), &providertest.Handler{}, tc.opt)
			}
		})
	}
}

// The SMS route keeps the contract of every inbound channel.
func TestContract(t *testing.T) {
	providertest.RunContract(t, providertest.Channel{
		Provider:        Name,
		Kind:            dialog.SMSChannel,
		Mount:           mount(Options{}),
		DefaultDeadline: DefaultDeadline,
		BusyText:        BusyText,
		Request: func(_ *testing.T, m providertest.Message) *http.Request {
			// Twilio retries a webhook as it sent it: same MessageSid, same signature.
			return signedPost(Path, sms(m.ID, m.Msisdn, m.Input).Encode(), testToken, testPublic)
		},
		Screen: func(t *testing.T, rec *httptest.ResponseRecorder) dialog.Reply {
			doc := parseTwiML(t, rec)
			if len(doc.Messages) != 1 {
				t.Fatalf("%d messages in %s, want 1", len(doc.Messages), rec.Body)
			}
			return dialog.Reply{Text: doc.Messages[0].Text}
		},
		Reason: func(_ *testing.T, rec *httptest.ResponseRecorder) string { return strings.TrimSpace(rec.Body.String()) },
		Signature: &providertest.Signature{
			Header: SignatureHeader,
			Status: http.StatusForbidden,
			Forge: func(_ *testing.T, m providertest.Message) *http.Request {
				return signedPost(Path, sms(m.ID, m.Msisdn, m.Input).Encode(), "fedcba9876543210fedcba9876543210", testPublic)
			},
			Keys: []string{testToken},
		},
		Refusals: refusals(),
	})
}

// refusals are the requests, signed correctly, that the SMS route refuses
// as malformed without reaching the conversation.
func refusals() []providertest.Refusal {
	const formType = "application/x-www-form-urlencoded"
	noSid := sms("SM1", "9876543210", "x")
	noSid.Del("MessageSid")
	noFrom := sms("SM1", "9876543210", "x")
	noFrom.Del("From")
	// malformed is a request for body with content type ctype ("" for
	// none), signed correctly, answered status with reason.
	malformed := func(name, body, ctype string, status int, reason string) providertest.Refusal {
		build := func(*testing.T) *http.Request {
			req := signedPost(Path, body, testToken, testPublic)
			req.Header.Del("Content-Type")
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			return req
		}
		return providertest.Refusal{Name: name, Status: status, Reason: reason, Request: build}
	}
	return []providertest.Refusal{
		malformed("missing MessageSid", noSid.Encode(), formType, 400, "missing MessageSid"),
		malformed("MessageSid with control character", sms("SM\x01", "9876543210", "x").Encode(), formType, 400, "bad MessageSid"),
		malformed("MessageSid too long", sms(strings.Repeat("S", MaxSidBytes+1), "9876543210", "x").Encode(), formType, 400, "bad MessageSid"),
		malformed("missing From", noFrom.Encode(), formType, 400, "missing From"),
		malformed("From not an Indian mobile", sms("SM1", "+12349013030", "x").Encode(), formType, 400, "not an Indian mobile number"),
		malformed("From starting 5", sms("SM1", "+915876543210", "x").Encode(), formType, 400, "not an Indian mobile number"),
		malformed("From with letters", sms("SM1", "whatsapp:+919876543210", "x").Encode(), formType, 400, "not an Indian mobile number"),
		malformed("Body not UTF-8", sms("SM1", "9876543210", "\xff").Encode(), formType, 400, "Body is not valid UTF-8"),
		malformed("Body too long", sms("SM1", "9876543210", strings.Repeat("a", MaxBodyRunes+1)).Encode(), formType, 413, "Body longer than"),
		malformed("request too large", sms("SM1", "9876543210", "x").Encode()+"&pad="+strings.Repeat("x", MaxBodyBytes), formType, 413, "body larger than"),
		malformed("JSON body", `{"MessageSid":"SM1"}`, "application/json", 400, "must be application/x-www-form-urlencoded"),
		malformed("no content type", sms("SM1", "9876543210", "x").Encode(), "", 400, "must be application/x-www-form-urlencoded"),
		malformed("broken encoding", "MessageSid=%zz&From=9876543210", formType, 400, "not a valid form"),
	}
}
