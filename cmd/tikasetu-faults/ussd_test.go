package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestParseAnswer(t *testing.T) {
	s, err := parseAnswer(200, "CON Hello\n1 A")
	if err != nil || s.End || s.Text != "Hello\n1 A" {
		t.Errorf("CON: %+v, %v", s, err)
	}
	s, err = parseAnswer(200, "END Bye")
	if err != nil || !s.End || s.Text != "Bye" {
		t.Errorf("END: %+v, %v", s, err)
	}
	if _, err = parseAnswer(200, "Hello"); err == nil {
		t.Error("no CON/END: no error")
	}
	_, err = parseAnswer(403, "forbidden\n")
	var st *errStatus
	if !errors.As(err, &st) || st.Code != 403 || statusOf(err) != 403 {
		t.Errorf("403: %v", err)
	}
	if statusOf(nil) != 200 || statusOf(errors.New("refused")) != 0 {
		t.Error("statusOf")
	}
}

func TestBusyScreen(t *testing.T) {
	if !(Screen{Text: "TikaSetu is very busy right now.", End: true}).busy() {
		t.Error("busy END not busy")
	}
	if (Screen{Text: "very busy", End: false}).busy() {
		t.Error("a CON screen is never the busy screen")
	}
}

// fakeGateway answers the Africa's Talking route from a function of the
// session's text, and records the forms it got; no network.
type fakeGateway struct {
	mu     sync.Mutex
	forms  []url.Values
	answer func(text string) (int, string)
}

func (f *fakeGateway) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.forms = append(f.forms, form)
	f.mu.Unlock()
	code, text := f.answer(form.Get("text"))
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader(text)), Header: http.Header{}, Request: req}, nil
}

func TestCallerWalksToTheNumberMenu(t *testing.T) {
	fg := &fakeGateway{answer: func(text string) (int, string) {
		switch text {
		case "":
			return 200, "CON Welcome back.\n1 Continue where you left off\n2 Start again"
		case "2":
			return 200, "CON TikaSetu. Language:\n1 English\n2 हिन्दी"
		case "2*1":
			return 200, "CON TikaSetu: COVID vaccine registration\n1 Register with +91XXXXXX3210\n2 Use another number"
		}
		return 200, "END unexpected"
	}}
	c := newCaller(&http.Client{Transport: fg}, "http://gw", "+919876543210", "s1")
	s, err := c.ToNumberMenu(context.Background())
	if err != nil || !strings.Contains(s.Text, "Use another number") {
		t.Fatalf("ToNumberMenu: %q, %v", s.Text, err)
	}
	if len(fg.forms) != 3 {
		t.Fatalf("%d requests, want 3", len(fg.forms))
	}
	f := fg.forms[2]
	if f.Get("sessionId") != "s1" || f.Get("phoneNumber") != "+919876543210" || f.Get("serviceCode") != serviceCode || f.Get("text") != "2*1" {
		t.Errorf("third form %v", f)
	}

	// A new session starts the history again.
	c.Redial("s2")
	if got := c.form("ignored").Get("text"); got != "" {
		t.Errorf("dial text %q, want empty", got)
	}
}

func TestCallerStepErrors(t *testing.T) {
	fg := &fakeGateway{answer: func(text string) (int, string) {
		if text == "" {
			return 200, "END TikaSetu is very busy right now. Please dial again in a few minutes."
		}
		return 500, "oops"
	}}
	c := newCaller(&http.Client{Transport: fg}, "http://gw", "+919876543210", "s1")
	_, err := c.ToNumberMenu(context.Background())
	var se *StepError
	if !errors.Is(err, errBusy) || !errors.As(err, &se) || se.Step != "dial" {
		t.Fatalf("busy dial: %v", err)
	}
	// A failed turn is not added to the history.
	c.dialed = true
	if _, err := c.Send(context.Background(), "1"); statusOf(err) != 500 {
		t.Fatalf("500: %v", err)
	}
	if len(c.inputs) != 0 {
		t.Errorf("inputs %v after a failed turn", c.inputs)
	}
}

func TestClipKeepsRunes(t *testing.T) {
	s := strings.Repeat("ह", 10) // 3 bytes each
	got := clip(s, 4)
	if got != "ह…" {
		t.Errorf("clip = %q", got)
	}
	if clip("short", 10) != "short" {
		t.Error("clip of a short string")
	}
}
