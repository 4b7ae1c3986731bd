package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// The pair of runs of docs/performance.md's "Surge queue", in small: "run
// --retry" against the fake gateway with two journeys at most, with its
// queue on and off, then "compare" of the two summaries.
func TestRetryRunsCompared(t *testing.T) {
	dir := t.TempDir()
	for _, queue := range []bool{true, false} {
		sinkAddr := freeAddr(t)
		fake := &loadgen.FakeGateway{SinkURL: "http://" + sinkAddr + loadgen.SinkPath, SinkSecret: []byte("sinksecret"),
			MaxJourneys: 2, Queue: queue, PlainSMS: true}
		gw := httptest.NewServer(fake)
		var stdout, stderr bytes.Buffer
		args := []string{"--url", gw.URL, "--rate", "50", "--ramp", "0s", "--duration", "400ms", "--arrivals", "even",
			"--think", "5ms", "--sink-addr", sinkAddr, "--sink-secret", "sinksecret",
			"--retry", "--invite-react", "10ms", "--redial-mean", "50ms", "--drain", "20s"}
		code := runCmd(context.Background(), args, &stdout, &stderr)
		gw.Close()
		fake.Wait()
		if code != exitOK {
			t.Fatalf("queue %v: exit %d: %s", queue, code, stderr.String())
		}
		var s loadgen.Summary
		if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		ta := s.TurnedAway
		if ta == nil || ta.Callers == 0 || ta.Booked != ta.Callers || s.CompletedJourneys != 20 {
			t.Fatalf("queue %v: %d booked, turned away %+v", queue, s.CompletedJourneys, ta)
		}
		if queue != (ta.Invited == ta.Callers && ta.Busy == 0) {
			t.Fatalf("queue %v: %d invited, %d busy dials of %d callers turned away", queue, ta.Invited, ta.Busy, ta.Callers)
		}
		name := map[bool]string{true: "on.json", false: "off.json"}[queue]
		if err := os.WriteFile(filepath.Join(dir, name), stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	chart := filepath.Join(dir, "queue.png")
	var stdout, stderr bytes.Buffer
	if code := compareCmd([]string{"-labels", "queue on, queue off", "-o", chart, filepath.Join(dir, "on.json"), filepath.Join(dir, "off.json")}, &stdout, &stderr); code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"| queue on | 20 | 20 |", "| queue off | 20 | 20 |", "order inversions"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	if fi, err := os.Stat(chart); err != nil || fi.Size() == 0 {
		t.Fatalf("no chart: %v", err)
	}
}

func TestCompareCmdErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	os.WriteFile(plain, []byte(`{"mode":"open","completed_journeys":3}`), 0o644)
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte("not JSON"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no runs", nil, exitConfig, "usage: tikasetu-loadgen compare"},
		{"labels do not match", []string{"-labels", "a,b", plain}, exitConfig, "2 labels for 1 runs"},
		{"missing file", []string{filepath.Join(dir, "nope.json")}, exitFail, "no such file"},
		{"not a summary", []string{junk}, exitFail, "not a run's JSON summary"},
		{"a run without retries", []string{plain}, exitFail, "run it with --retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := compareCmd(tt.args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q: %s", tt.want, stderr.String())
			}
		})
	}
}
