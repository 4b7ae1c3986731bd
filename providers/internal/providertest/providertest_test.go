package providertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/smshttp"
)

type ctxKey struct{}

func TestHandlerAnswers(t *testing.T) {
	errDown := errors.New("store down")
	cases := []struct {
		name      string
		h         *Handler
		wantReply dialog.Reply
		wantErr   error
	}{
		{"zero value", &Handler{}, dialog.Reply{}, nil},
		{"reply", &Handler{Reply: dialog.Reply{Text: "ok", End: true}}, dialog.Reply{Text: "ok", End: true}, nil},
		{"error", &Handler{Err: errDown}, dialog.Reply{}, errDown},
		{"fn wins over reply and error", &Handler{
			Reply: dialog.Reply{Text: "unused"},
			Err:   errDown,
			Fn: func(_ context.Context, t dialog.Turn) (dialog.Reply, error) {
				return dialog.Reply{Text: "echo " + t.Input}, nil
			},
		}, dialog.Reply{Text: "echo 1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.h.Handle(context.Background(), dialog.Turn{Input: "1"})
			if got != tc.wantReply || !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Handle = %+v, %v; want %+v, %v", got, err, tc.wantReply, tc.wantErr)
			}
		})
	}
}

func TestHandlerRecords(t *testing.T) {
	var h Handler
	if c, x := h.Calls(), h.Contexts(); len(c) != 0 || len(x) != 0 {
		t.Fatalf("fresh handler recorded %d turns, %d contexts", len(c), len(x))
	}
	inputs := []string{"", "1", "2"}
	for i, in := range inputs {
		ctx := context.WithValue(context.Background(), ctxKey{}, i)
		if _, err := h.Handle(ctx, dialog.Turn{Session: "s", Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	calls, ctxs := h.Calls(), h.Contexts()
	if len(calls) != len(inputs) || len(ctxs) != len(inputs) {
		t.Fatalf("recorded %d turns, %d contexts; want %d each", len(calls), len(ctxs), len(inputs))
	}
	for i, in := range inputs {
		if calls[i].Input != in {
			t.Errorf("turn %d input = %q, want %q", i, calls[i].Input, in)
		}
		if v := ctxs[i].Value(ctxKey{}); v != i {
			t.Errorf("context %d carries %v, want %d", i, v, i)
		}
	}

	// The copies are the caller's: changing them leaves the record alone.
	calls[0].Input = "changed"
	ctxs[0] = nil
	if h.Calls()[0].Input != "" || h.Contexts()[0] == nil {
		t.Error("Calls or Contexts returned the handler's own slice")
	}
}

func TestHandlerConcurrent(t *testing.T) {
	h := &Handler{Reply: dialog.Reply{Text: "ok"}}
	const n = 50
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := h.Handle(context.Background(), dialog.Turn{}); err != nil {
				t.Error(err)
			}
			_ = h.Calls()
			_ = h.Contexts()
		})
	}
	wg.Wait()
	if got := len(h.Calls()); got != n {
		t.Fatalf("recorded %d turns, want %d", got, n)
	}
}

func TestLogBuffer(t *testing.T) {
	var buf LogBuffer
	if s := buf.String(); s != "" {
		t.Fatalf("zero LogBuffer holds %q", s)
	}
	log := slog.New(slog.NewTextHandler(&buf, nil))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			log.Info("turn handled", "provider", "test")
			_ = buf.String()
		})
	}
	wg.Wait()
	out := buf.String()
	if got := strings.Count(out, "msg=\"turn handled\" provider=test\n"); got != n {
		t.Fatalf("%d whole log lines, want %d:\n%s", got, n, out)
	}
}

// errorsTB counts Errorf calls instead of failing the test.
type errorsTB struct {
	testing.TB
	n int
}

func (e *errorsTB) Errorf(string, ...any) { e.n++ }

func TestSMSCentre(t *testing.T) {
	tests := []struct {
		name    string
		secret  string // what the sender signs with
		status  int
		kept    int
		errored int
	}{
		{"signed with the shared secret", "centre-secret", http.StatusOK, 1, 0},
		{"signed with another secret", "wrong-secret", http.StatusUnauthorized, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &errorsTB{TB: t}
			c := &SMSCentre{T: tb, Secret: "centre-secret"}
			body := []byte(`{"to":"+919876543210","text":"hi","ref":"r1"}`)
			req := httptest.NewRequest(http.MethodPost, "/sms", bytes.NewReader(body))
			req.Header.Set(smshttp.SignatureHeader, smshttp.Sign([]byte(tt.secret), body))
			rec := httptest.NewRecorder()
			c.ServeHTTP(rec, req)
			if rec.Code != tt.status || len(c.Received()) != tt.kept || tb.n != tt.errored {
				t.Fatalf("status %d, kept %d, errors %d; want %d, %d, %d", rec.Code, len(c.Received()), tb.n, tt.status, tt.kept, tt.errored)
			}
			if tt.kept == 1 && c.Received()[0].Ref != "r1" {
				t.Fatalf("kept %+v", c.Received()[0])
			}
		})
	}
}

func TestGate(t *testing.T) {
	busy := dialog.Reply{Text: "Busy, try later", End: true}
	g := &Gate{Busy: busy}
	for range 2 {
		run, reply, ok := g.Admit(context.Background(), dialog.Turn{Input: "1"})
		if run != nil || reply != busy || ok {
			t.Fatalf("Admit = %v, %+v, %v; want nil, %+v, false", run, reply, ok, busy)
		}
	}
	if _, err := g.Handle(context.Background(), dialog.Turn{}); !errors.Is(err, ErrNotAdmitted) {
		t.Errorf("Handle error %v, want ErrNotAdmitted", err)
	}
	if admits, handles := g.Counts(); admits != 2 || handles != 1 {
		t.Errorf("counts %d, %d; want 2, 1", admits, handles)
	}
}

func TestCache(t *testing.T) {
	type turn struct {
		delivery string
		fail     bool // the engine fails this one
	}
	tests := []struct {
		name    string
		turns   []turn
		replies []string // "" for a failed turn
		applied int      // turns that reached the engine
	}{
		{"a retry is answered from the cache", []turn{{delivery: "d1"}, {delivery: "d1"}}, []string{"reply 1", "reply 1"}, 1},
		{"other deliveries reach the engine", []turn{{delivery: "d1"}, {delivery: "d2"}, {delivery: "d1"}}, []string{"reply 1", "reply 2", "reply 1"}, 2},
		{"no delivery, no caching", []turn{{}, {}}, []string{"reply 1", "reply 2"}, 2},
		{"a failed turn is not remembered", []turn{{delivery: "d1", fail: true}, {delivery: "d1"}, {delivery: "d1"}}, []string{"", "reply 2", "reply 2"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			engine := &Handler{}
			engine.Fn = func(_ context.Context, tn dialog.Turn) (dialog.Reply, error) {
				if tn.Input == "fail" {
					return dialog.Reply{}, errors.New("store down")
				}
				return dialog.Reply{Text: fmt.Sprintf("reply %d", len(engine.Calls()))}, nil
			}
			c := &Cache{Handler: engine}
			var want []string
			for i, tn := range tc.turns {
				in := ""
				if tn.fail {
					in = "fail"
				}
				r, err := c.Handle(context.Background(), dialog.Turn{Delivery: tn.delivery, Input: in})
				if (err != nil) != tn.fail || r.Text != tc.replies[i] {
					t.Errorf("turn %d: %+v, %v; want %q, failed %v", i+1, r, err, tc.replies[i], tn.fail)
				}
				want = append(want, tn.delivery)
			}
			if n := len(engine.Calls()); n != tc.applied {
				t.Errorf("the engine applied %d turns, want %d", n, tc.applied)
			}
			if got := c.Deliveries(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("deliveries %q, want %q", got, want)
			}
		})
	}
}

func TestWaitFor(t *testing.T) {
	defer func(d time.Duration) { waitTimeout = d }(waitTimeout)
	waitTimeout = 100 * time.Millisecond
	tests := []struct {
		name     string
		trueFrom int // the poll from which cond holds; 0 never
		failed   bool
	}{
		{"holds at once", 1, false},
		{"holds after a few polls", 4, false},
		{"never holds", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := &fatalsTB{TB: t}
			polls := 0
			done := make(chan struct{})
			go func() { // Fatalf ends the goroutine, as in a test
				defer close(done)
				WaitFor(tb, "the condition", func() bool {
					polls++
					return tc.trueFrom > 0 && polls >= tc.trueFrom
				})
			}()
			<-done
			if tb.failed != tc.failed {
				t.Errorf("failed %v, want %v (%q)", tb.failed, tc.failed, tb.msg)
			}
			if tc.failed && tb.msg != "timed out waiting for the condition" {
				t.Errorf("failure %q", tb.msg)
			}
			if !tc.failed && polls != tc.trueFrom {
				t.Errorf("%d polls, want %d", polls, tc.trueFrom)
			}
		})
	}
}

// fatalsTB records a Fatalf and ends the goroutine as testing.T does.
type fatalsTB struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalsTB) Helper() {}

func (f *fatalsTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestEcho(t *testing.T) {
	for _, tt := range []struct {
		input string
		end   bool
	}{{"", false}, {"1", true}, {"12", false}, {"राम", true}} {
		r, err := Echo(context.Background(), dialog.Turn{Input: tt.input})
		if err != nil || r.Text != "echo "+tt.input || r.End != tt.end {
			t.Errorf("Echo(%q) = %+v, %v; want %q, end %v", tt.input, r, err, "echo "+tt.input, tt.end)
		}
	}
}
