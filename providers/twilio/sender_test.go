package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

const (
	testSID       = "AC0123456789abcdef0123456789abcdef"
	testAPIToken  = "secrettoken0123"
	messagesPath  = "/2010-04-01/Accounts/" + testSID + "/Messages.json"
	twilioAPIHost = "api.twilio.com"
)

// TestMain makes the default transport refuse every request, so that a
// sender that ignored its HTTPClient would fail here instead of reaching
// the network; tests reach the fake API only through guard.
func TestMain(m *testing.M) {
	http.DefaultTransport = refuseTransport{}
	os.Exit(m.Run())
}

type refuseTransport struct{}

func (refuseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	panic("test made a request on http.DefaultTransport: " + req.URL.Redacted())
}

// reply is one scripted answer of the fake Messages API.
type reply struct {
	status     int
	body       string
	retryAfter string
	hang       bool // block until the client gives up
	drop       bool // close the connection without an answer
}

func created(sid string) reply {
	return reply{status: 201, body: fmt.Sprintf(`{"sid":%q,"status":"queued","account_sid":%q,"api_version":"2010-04-01"}`, sid, testSID)}
}

func twilioError(status, code int, msg string) reply {
	return reply{status: status, body: fmt.Sprintf(`{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)}
}

// received is one request the fake Messages API saw.
type received struct {
	method, path   string
	user, password string
	form           url.Values
}

// fakeTwilio stands in for Twilio's Messages API on a loopback httptest
// server, answering from a script (the last entry repeats).
type fakeTwilio struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	script []reply
	reqs   []received
	got    chan struct{} // a request arrived (buffered)
}

func newFakeTwilio(t *testing.T, script ...reply) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{t: t, script: script, got: make(chan struct{}, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	_ = r.ParseForm()
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, received{r.Method, r.URL.Path, user, pass, r.PostForm})
	rep := f.script[min(n, len(f.script)-1)]
	f.mu.Unlock()
	select {
	case f.got <- struct{}{}:
	default:
	}
	switch {
	case rep.hang:
		<-r.Context().Done()
		return
	case rep.drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != messagesPath {
		http.Error(w, `{"code":20404,"message":"not found","status":404}`, http.StatusNotFound)
		return
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeTwilio) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

// guard is the only way out of a test sender: it lets a request through
// only when it targets wantHost, sends it to the fake server instead, and
// fails the test otherwise. Its transport dials loopback addresses only
// and ignores proxy settings, so nothing can leave the machine.
type guard struct {
	t        *testing.T
	wantHost string
	to       *url.URL
	base     http.RoundTripper
	mu       sync.Mutex
	hosts    []string
}

func newGuard(t *testing.T, f *fakeTwilio, wantHost string) *guard {
	to, _ := url.Parse(f.srv.URL)
	dialer := &net.Dialer{Timeout: time.Second}
	base := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("dial to %s refused: not loopback", addr)
				return nil, fmt.Errorf("test dial to %s refused", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(base.CloseIdleConnections)
	return &guard{t: t, wantHost: wantHost, to: to, base: base}
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.hosts = append(g.hosts, req.URL.Host)
	g.mu.Unlock()
	if req.URL.Host != g.wantHost || req.URL.Scheme == "" {
		g.t.Errorf("request to %s refused: want host %s", req.URL.Redacted(), g.wantHost)
		return nil, fmt.Errorf("test guard: request to %s refused", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = g.to.Scheme, g.to.Host, ""
	return g.base.RoundTrip(out)
}

// waits records the back-off waits the sender asks for; it never sleeps.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
	fn func(ctx context.Context) error // optional, runs on each wait
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	fn := w.fn
	w.mu.Unlock()
	if fn != nil {
		return fn(ctx)
	}
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type senderRig struct {
	fake  *fakeTwilio
	guard *guard
	s     *Sender
	waits *waits
	logs  *providertest.LogBuffer
}

// newRig builds a sender on the fake API with defaults a test may override
// in opt; wantHost "" means api.twilio.com.
func newRig(t *testing.T, opt SenderOptions, wantHost string, script ...reply) *senderRig {
	t.Helper()
	f := newFakeTwilio(t, script...)
	if wantHost == "" {
		wantHost = twilioAPIHost
	}
	if wantHost == "fake" {
		wantHost = strings.TrimPrefix(f.srv.URL, "http://")
		opt.APIBaseURL = f.srv.URL
	}
	g := newGuard(t, f, wantHost)
	if opt.AccountSID == "" {
		opt.AccountSID = testSID
	}
	if opt.AuthToken == "" {
		opt.AuthToken = testAPIToken
	}
	if opt.From == "" && opt.MessagingServiceSID == "" {
		opt.From = "+918000000000"
	}
	opt.HTTPClient = &http.Client{Transport: g}
	logs := &providertest.LogBuffer{}
	opt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := NewSender(opt)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	s.retry.Sleep = w.sleep
	return &senderRig{fake: f, guard: g, s: s, waits: w, logs: logs}
}

func TestSenderPostsMessage(t *testing.T) {
	tests := []struct {
		name string
		opt  SenderOptions
		msg  dialog.SMS
		want url.Values
	}{
		{
			name: "from number, with status callback",
			opt:  SenderOptions{From: "+918000000000", StatusCallbackBase: "https://sms.example.in/"},
			msg:  dialog.SMS{To: "9876543210", Text: "Your code is 482913", Ref: "otp-1"},
			want: url.Values{
				"To": {"+919876543210"}, "From": {"+918000000000"}, "Body": {"Your code is 482913"},
				"StatusCallback": {"https://sms.example.in/sms/twilio/status?ref=otp-1"},
			},
		},
		{
			name: "messaging service, ref escaped",
			opt:  SenderOptions{MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", StatusCallbackBase: "https://example.in/gw"},
			msg:  dialog.SMS{To: "+91 98765-43210", Text: "आपका कोड 482913 है", Ref: "slip/A 1&b=2"},
			want: url.Values{
				"To": {"+919876543210"}, "MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"}, "Body": {"आपका कोड 482913 है"},
				"StatusCallback": {"https://example.in/gw/sms/twilio/status?ref=slip%2FA+1%26b%3D2"},
			},
		},
		{
			name: "no status callback base",
			opt:  SenderOptions{From: "TIKASETU"},
			msg:  dialog.SMS{To: "+916000000001", Text: "Slip", Ref: "r"},
			want: url.Values{"To": {"+916000000001"}, "From": {"TIKASETU"}, "Body": {"Slip"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRig(t, tc.opt, "", created("SM1"))
			if err := rig.s.Send(context.Background(), tc.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			reqs := rig.fake.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != messagesPath {
				t.Errorf("request %s %s", r.method, r.path)
			}
			if r.user != testSID || r.password != testAPIToken {
				t.Errorf("basic auth %q:%q", r.user, r.password)
			}
			if r.form.Encode() != tc.want.Encode() {
				t.Errorf("form\n got %v\nwant %v", r.form, tc.want)
			}
			if cb := r.form.Get("StatusCallback"); cb != "" {
				u, _ := url.Parse(cb)
				if got := u.Query().Get("ref"); got != tc.msg.Ref {
					t.Errorf("ref on callback %q, want %q", got, tc.msg.Ref)
				}
			}
			logs := rig.logs.String()
			if strings.Contains(logs, tc.msg.Text) || strings.Contains(logs, "9876543210") {
				t.Errorf("log holds the text or the full number: %s", logs)
			}
		})
	}
}

// An empty Ref gets a random one, the same on every attempt.
func TestSenderFillsRef(t *testing.T) {
	rig := newRig(t, SenderOptions{StatusCallbackBase: testPublic}, "", reply{status: 500, body: `{"code":20500,"status":500}`}, created("SM1"))
	if err := rig.s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	reqs := rig.fake.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	a, b := reqs[0].form.Get("StatusCallback"), reqs[1].form.Get("StatusCallback")
	if a == "" || a != b || strings.HasSuffix(a, "ref=") {
		t.Errorf("callbacks %q, %q", a, b)
	}
}

func TestSenderRetries(t *testing.T) {
	server500 := twilioError(500, 20500, "Internal Server Error")
	tests := []struct {
		name      string
		opt       SenderOptions
		script    []reply
		wantCalls int
		wantErr   bool
		errStatus int // TwilioRestError.Status expected in the chain, 0: none
		errCode   int
		waits     []time.Duration // exact waits, when Retry-After fixes them
		waitsN    int             // number of waits otherwise
	}{
		{name: "created", script: []reply{created("SM1")}, wantCalls: 1},
		{
			name:      "429 with Retry-After honoured",
			script:    []reply{{status: 429, body: `{"code":20429,"message":"Too Many Requests","status":429}`, retryAfter: "2"}, created("SM1")},
			wantCalls: 2, waits: []time.Duration{2 * time.Second},
		},
		{
			name:      "429 with Retry-After capped",
			script:    []reply{{status: 429, body: `{"code":20429,"message":"Too Many Requests","status":429}`, retryAfter: "3600"}, created("SM1")},
			wantCalls: 2, waits: []time.Duration{DefaultMaxBackoff},
		},
		{
			name:      "429 with Retry-After capped by MaxBackoff option",
			opt:       SenderOptions{MaxBackoff: 1500 * time.Millisecond},
			script:    []reply{{status: 429, body: `{"code":20429,"status":429}`, retryAfter: "2"}, created("SM1")},
			wantCalls: 2, waits: []time.Duration{1500 * time.Millisecond},
		},
		{
			name:      "500 three times gives up",
			script:    []reply{server500},
			wantCalls: 3, wantErr: true, errStatus: 500, errCode: 20500, waitsN: 2,
		},
		{
			name:      "500 with Attempts 5",
			opt:       SenderOptions{Attempts: 5},
			script:    []reply{server500},
			wantCalls: 5, wantErr: true, errStatus: 500, waitsN: 4,
		},
		{
			name:      "502 without JSON then created",
			script:    []reply{{status: 502, body: "<html>Bad Gateway</html>"}, created("SM1")},
			wantCalls: 2, waitsN: 1,
		},
		{
			name:      "connection dropped then created",
			script:    []reply{{drop: true}, created("SM1")},
			wantCalls: 2, waitsN: 1,
		},
		{
			name:      "400 invalid To not retried",
			script:    []reply{twilioError(400, 21211, "Invalid 'To' Phone Number")},
			wantCalls: 1, wantErr: true, errStatus: 400, errCode: 21211,
		},
		{
			name:      "400 quoting the number",
			script:    []reply{twilioError(400, 21614, "The 'To' number +919876543210 is not a valid mobile number.")},
			wantCalls: 1, wantErr: true, errStatus: 400, errCode: 21614,
		},
		{
			name:      "401 not retried",
			script:    []reply{twilioError(401, 20003, "Authenticate")},
			wantCalls: 1, wantErr: true, errStatus: 401, errCode: 20003,
		},
		{
			name:      "404 without JSON not retried",
			script:    []reply{{status: 404, body: "nope"}},
			wantCalls: 1, wantErr: true,
		},
		{
			name:      "created with an unreadable body is not sent again",
			script:    []reply{{status: 201, body: "{"}},
			wantCalls: 1,
		},
		{
			name:      "attempt timeout retried",
			opt:       SenderOptions{Timeout: 20 * time.Millisecond},
			script:    []reply{{hang: true}, created("SM1")},
			wantCalls: 2, waitsN: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRig(t, tc.opt, "", tc.script...)
			err := rig.s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "hello", Ref: "r1"})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error %v, want error %v", err, tc.wantErr)
			}
			if n := len(rig.fake.requests()); n != tc.wantCalls {
				t.Errorf("%d attempts, want %d", n, tc.wantCalls)
			}
			if tc.errStatus != 0 {
				te, ok := errors.AsType[*client.TwilioRestError](err)
				if !ok {
					t.Fatalf("error %v carries no TwilioRestError", err)
				}
				if te.Status != tc.errStatus || (tc.errCode != 0 && te.Code != tc.errCode) {
					t.Errorf("TwilioRestError status %d code %d", te.Status, te.Code)
				}
			}
			got := rig.waits.all()
			switch {
			case tc.waits != nil:
				if fmt.Sprint(got) != fmt.Sprint(tc.waits) {
					t.Errorf("waits %v, want %v", got, tc.waits)
				}
			case len(got) != tc.waitsN:
				t.Errorf("waits %v, want %d of them", got, tc.waitsN)
			}
			for _, d := range got {
				if d <= 0 || d > max(rig.s.opt.MaxBackoff, DefaultMaxBackoff) {
					t.Errorf("wait %v out of bounds", d)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "9876543210") || strings.Contains(err.Error(), "hello")) {
				t.Errorf("error holds the number or text: %v", err)
			}
		})
	}
}

func TestSenderContext(t *testing.T) {
	t.Run("cancel during a request", func(t *testing.T) {
		rig := newRig(t, SenderOptions{}, "", reply{hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-rig.fake.got
			cancel()
		}()
		err := rig.s.Send(ctx, dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if n := len(rig.fake.requests()); n != 1 {
			t.Errorf("%d attempts after cancel, want 1", n)
		}
		if n := len(rig.waits.all()); n != 0 {
			t.Errorf("waited %d times after cancel", n)
		}
	})
	t.Run("cancel while waiting to retry", func(t *testing.T) {
		rig := newRig(t, SenderOptions{}, "", twilioError(503, 20503, "Service Unavailable"))
		ctx, cancel := context.WithCancel(context.Background())
		rig.waits.fn = func(ctx context.Context) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
		err := rig.s.Send(ctx, dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if n := len(rig.fake.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		rig := newRig(t, SenderOptions{}, "", created("SM1"))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := rig.s.Send(ctx, dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if n := len(rig.fake.requests()); n != 0 {
			t.Errorf("%d requests with a cancelled context", n)
		}
	})
	t.Run("every attempt times out", func(t *testing.T) {
		rig := newRig(t, SenderOptions{Timeout: 10 * time.Millisecond}, "", reply{hang: true})
		err := rig.s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x", Ref: "r"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want DeadlineExceeded", err)
		}
		if n := len(rig.fake.requests()); n != DefaultAttempts {
			t.Errorf("%d attempts, want %d", n, DefaultAttempts)
		}
	})
}

// The guard sees where twilio-go aims: api.twilio.com by default, the edge
// host when Edge is set, the fake itself with APIBaseURL.
func TestSenderHosts(t *testing.T) {
	tests := []struct {
		name     string
		opt      SenderOptions
		wantHost string
	}{
		{"default", SenderOptions{}, twilioAPIHost},
		{"edge", SenderOptions{Edge: "singapore"}, "api.singapore.us1.twilio.com"},
		{"edge and region", SenderOptions{Edge: "singapore", Region: "ie1"}, "api.singapore.ie1.twilio.com"},
		{"API base URL", SenderOptions{}, "fake"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rig := newRig(t, tc.opt, tc.wantHost, created("SM1"))
			if err := rig.s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x", Ref: "r"}); err != nil {
				t.Fatal(err)
			}
			if reqs := rig.fake.requests(); len(reqs) != 1 || reqs[0].path != messagesPath {
				t.Errorf("requests %+v", reqs)
			}
		})
	}
}

func TestSenderBadRecipient(t *testing.T) {
	rig := newRig(t, SenderOptions{}, "", created("SM1"))
	err := rig.s.Send(context.Background(), dialog.SMS{To: "+12349013030", Text: "x"})
	if !errors.Is(err, dialog.ErrBadMsisdn) {
		t.Errorf("error %v, want ErrBadMsisdn", err)
	}
	if n := len(rig.fake.requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestNewSenderOptions(t *testing.T) {
	ok := SenderOptions{AccountSID: "AC1", AuthToken: "tok", From: "+918000000000"}
	with := func(f func(*SenderOptions)) SenderOptions { o := ok; f(&o); return o }
	tests := []struct {
		name string
		opt  SenderOptions
		ok   bool
	}{
		{"from", ok, true},
		{"messaging service", with(func(o *SenderOptions) { o.From, o.MessagingServiceSID = "", "MG1" }), true},
		{"callback base", with(func(o *SenderOptions) { o.StatusCallbackBase = "https://sms.example.in" }), true},
		{"API base URL", with(func(o *SenderOptions) { o.APIBaseURL = "http://127.0.0.1:4010" }), true},
		{"no account", with(func(o *SenderOptions) { o.AccountSID = "" }), false},
		{"no token", with(func(o *SenderOptions) { o.AuthToken = "" }), false},
		{"token with symbols", with(func(o *SenderOptions) { o.AuthToken = "a:b" }), false},
		{"neither sender", with(func(o *SenderOptions) { o.From = "" }), false},
		{"both senders", with(func(o *SenderOptions) { o.MessagingServiceSID = "MG1" }), false},
		{"relative callback base", with(func(o *SenderOptions) { o.StatusCallbackBase = "sms.example.in" }), false},
		{"callback base with query", with(func(o *SenderOptions) { o.StatusCallbackBase = "https://sms.example.in?a=1" }), false},
		{"bad API base URL", with(func(o *SenderOptions) { o.APIBaseURL = "127.0.0.1:4010" }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSender(tc.opt)
			if (err == nil) != tc.ok {
				t.Fatalf("NewSender error %v, want ok=%v", err, tc.ok)
			}
			if err == nil {
				if s.opt.Timeout != DefaultSendTimeout || s.opt.Attempts != DefaultAttempts ||
					s.opt.Backoff != DefaultBackoff || s.opt.MaxBackoff != DefaultMaxBackoff {
					t.Errorf("defaults %+v", s.opt)
				}
				if r := s.retry; r.Attempts != DefaultAttempts || r.Backoff != DefaultBackoff || r.MaxBackoff != DefaultMaxBackoff {
					t.Errorf("retry policy %+v, want the defaults", r)
				}
			}
		})
	}
}

// Concurrent sends share nothing mutable.
func TestSenderConcurrent(t *testing.T) {
	rig := newRig(t, SenderOptions{}, "", reply{status: 500, body: `{"status":500}`}, created("SM1"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_ = rig.s.Send(context.Background(), dialog.SMS{To: "9876543210", Text: "x", Ref: fmt.Sprint(i)})
		})
	}
	wg.Wait()
	if n := len(rig.fake.requests()); n < 8 || n > 9 {
		t.Errorf("%d requests", n)
	}
}
