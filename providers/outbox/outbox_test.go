package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/dialog"
)

func init() { gin.SetMode(gin.TestMode) }

var epoch = time.Date(2021, 4, 28, 16, 0, 0, 0, time.UTC)

// newTest returns an outbox with a stepping clock and a captured log.
func newTest(opt Options) (*Outbox, *bytes.Buffer) {
	var logs bytes.Buffer
	var mu sync.Mutex
	n := 0
	opt.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return epoch.Add(time.Duration(n) * time.Second)
	}
	opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	return New(opt), &logs
}

func send(t *testing.T, o *Outbox, to, text, ref string) {
	t.Helper()
	if err := o.Send(context.Background(), dialog.SMS{To: to, Text: text, Ref: ref}); err != nil {
		t.Fatalf("Send(%q, %q): %v", to, ref, err)
	}
}

func refs(ms []dialog.SMS) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Ref)
	}
	return out
}

func TestSendAndMessages(t *testing.T) {
	type sms struct{ to, text, ref string }
	tests := []struct {
		name  string
		opt   Options
		sends []sms
		query string
		want  []string // refs, oldest first
	}{
		{
			name:  "none",
			query: "9876543210",
		},
		{
			name:  "forms of the number are one recipient",
			sends: []sms{{"+919876543210", "a", "r1"}, {"09876543210", "b", "r2"}, {"919876543210", "c", "r3"}},
			query: "98765 43210",
			want:  []string{"r1", "r2", "r3"},
		},
		{
			name:  "other recipients are separate",
			sends: []sms{{"9876543210", "a", "r1"}, {"9123456789", "b", "r2"}},
			query: "+919876543210",
			want:  []string{"r1"},
		},
		{
			name:  "repeated ref stored once",
			sends: []sms{{"9876543210", "a", "r1"}, {"9876543210", "a", "r1"}, {"9876543210", "b", "r2"}},
			query: "9876543210",
			want:  []string{"r1", "r2"},
		},
		{
			name:  "empty refs generated",
			sends: []sms{{"9876543210", "a", ""}, {"9876543210", "b", ""}},
			query: "9876543210",
			want:  []string{"outbox-1", "outbox-2"},
		},
		{
			name:  "per-recipient cap keeps the newest",
			opt:   Options{PerRecipient: 2},
			sends: []sms{{"9876543210", "a", "r1"}, {"9876543210", "b", "r2"}, {"9876543210", "c", "r3"}},
			query: "9876543210",
			want:  []string{"r2", "r3"},
		},
		{
			name: "overall cap drops the oldest of anyone",
			opt:  Options{Total: 3},
			sends: []sms{
				{"9876543210", "a", "r1"}, {"9123456789", "b", "x1"},
				{"9876543210", "c", "r2"}, {"9123456789", "d", "x2"},
			},
			query: "9876543210",
			want:  []string{"r2"},
		},
		{
			name:  "overall cap empties a recipient",
			opt:   Options{Total: 2},
			sends: []sms{{"9876543210", "a", "r1"}, {"9123456789", "b", "x1"}, {"9123456789", "c", "x2"}},
			query: "9876543210",
		},
		{
			name:  "invalid query number",
			sends: []sms{{"9876543210", "a", "r1"}},
			query: "12345",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := newTest(tc.opt)
			for _, s := range tc.sends {
				send(t, o, s.to, s.text, s.ref)
			}
			got := o.Messages(tc.query)
			if fmt.Sprint(refs(got)) != fmt.Sprint(tc.want) {
				t.Errorf("refs %v, want %v", refs(got), tc.want)
			}
			for _, m := range got {
				if !strings.HasPrefix(m.To, "+91") {
					t.Errorf("To %q not E.164", m.To)
				}
			}
			o.mu.Lock()
			n := 0
			for _, els := range o.byTo {
				n += len(els)
			}
			if n != o.all.Len() {
				t.Errorf("index holds %d messages, list %d", n, o.all.Len())
			}
			o.mu.Unlock()
		})
	}
}

func TestSendErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		to   string
		want error
	}{
		{"bad number", context.Background(), "+254712345678", dialog.ErrBadMsisdn},
		{"empty number", context.Background(), "", dialog.ErrBadMsisdn},
		{"canceled context", canceled, "9876543210", context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := newTest(Options{})
			err := o.Send(tc.ctx, dialog.SMS{To: tc.to, Text: "x", Ref: "r"})
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
			if o.all.Len() != 0 {
				t.Errorf("stored %d messages", o.all.Len())
			}
		})
	}
}

func TestLogHoldsNoTextOrNumber(t *testing.T) {
	o, logs := newTest(Options{})
	send(t, o, "+919876543210", "Your TikaSetu code is 482913", "r1")
	out := logs.String()
	for _, secret := range []string{"482913", "9876543210", "TikaSetu code"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q: %s", secret, out)
		}
	}
	for _, want := range []string{"+91XXXXXX3210", "chars=28", "ref=r1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q: %s", want, out)
		}
	}
}

func TestConcurrentSends(t *testing.T) {
	o, _ := newTest(Options{PerRecipient: 5, Total: 20})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				to := fmt.Sprintf("98765432%02d", i)
				_ = o.Send(context.Background(), dialog.SMS{To: to, Text: "x", Ref: fmt.Sprint(j)})
				o.Messages(to)
			}
		})
	}
	wg.Wait()
	if o.all.Len() > 20 {
		t.Errorf("kept %d messages, cap 20", o.all.Len())
	}
	for to, els := range o.byTo {
		if len(els) > 5 {
			t.Errorf("%s: kept %d, cap 5", to, len(els))
		}
	}
}

type jsonMessage struct {
	To   string    `json:"to"`
	Text string    `json:"text"`
	Ref  string    `json:"ref"`
	At   time.Time `json:"at"`
}

func TestHTTP(t *testing.T) {
	o, _ := newTest(Options{PerRecipient: 3})
	for i, text := range []string{"code 111111", "code 222222", "slip A1", "slip A2"} {
		send(t, o, "9876543210", text, fmt.Sprintf("r%d", i+1))
	}
	send(t, o, "9123456789", "other", "x1")
	e := gin.New()
	o.Register(e)

	tests := []struct {
		name     string
		path     string
		status   int
		wantRefs []string
		wantText []string
	}{
		{name: "E.164 percent-encoded", path: "/dev/outbox/%2B919876543210", status: 200,
			wantRefs: []string{"r2", "r3", "r4"}, wantText: []string{"code 222222", "slip A1", "slip A2"}},
		{name: "E.164 literal plus", path: "/dev/outbox/+919876543210", status: 200, wantRefs: []string{"r2", "r3", "r4"}},
		{name: "bare", path: "/dev/outbox/9876543210", status: 200, wantRefs: []string{"r2", "r3", "r4"}},
		{name: "trunk zero", path: "/dev/outbox/09876543210", status: 200, wantRefs: []string{"r2", "r3", "r4"}},
		{name: "after a ref", path: "/dev/outbox/9876543210?after=r2", status: 200, wantRefs: []string{"r3", "r4"}},
		{name: "after the newest", path: "/dev/outbox/9876543210?after=r4", status: 200, wantRefs: []string{}},
		{name: "after an evicted ref", path: "/dev/outbox/9876543210?after=r1", status: 200, wantRefs: []string{"r2", "r3", "r4"}},
		{name: "after an unknown ref", path: "/dev/outbox/9876543210?after=nope", status: 200, wantRefs: []string{"r2", "r3", "r4"}},
		{name: "nobody", path: "/dev/outbox/9000000000", status: 200, wantRefs: []string{}},
		{name: "bad number", path: "/dev/outbox/12345", status: 400},
		{name: "foreign number", path: "/dev/outbox/+254712345678", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			var body struct {
				Messages []jsonMessage `json:"messages"`
			}
			dec := json.NewDecoder(rec.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				t.Fatal(err)
			}
			if body.Messages == nil {
				t.Fatal(`"messages" is null or missing, want an array`)
			}
			var gotRefs []string
			for i, m := range body.Messages {
				gotRefs = append(gotRefs, m.Ref)
				if m.To != "+919876543210" {
					t.Errorf("to %q", m.To)
				}
				if m.At.IsZero() {
					t.Errorf("message %d has no time", i)
				}
				if i > 0 && !m.At.After(body.Messages[i-1].At) {
					t.Errorf("not oldest first: %v then %v", body.Messages[i-1].At, m.At)
				}
				if tc.wantText != nil && m.Text != tc.wantText[i] {
					t.Errorf("text %q, want %q", m.Text, tc.wantText[i])
				}
			}
			if fmt.Sprint(gotRefs) != fmt.Sprint(tc.wantRefs) {
				t.Errorf("refs %v, want %v", gotRefs, tc.wantRefs)
			}
		})
	}
}
