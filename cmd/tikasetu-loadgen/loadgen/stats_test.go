package loadgen

import (
	"testing"
	"time"
)

func TestStatsWindowsAndTotals(t *testing.T) {
	st := newStats()
	st.offered(false)
	st.started()
	st.offered(true)
	for range 10 {
		st.hop(2 * time.Millisecond)
	}
	st.ended(Outcome{Kind: Completed, Step: "confirm"})
	p1 := st.tick(1)

	st.offered(false)
	st.started()
	st.offered(false)
	st.started()
	st.hop(40 * time.Millisecond)
	st.ended(Outcome{Kind: Shed, Step: "dial", Reason: "busy screen", Detail: "TikaSetu is very busy right now."})
	st.ended(Outcome{Kind: TimedOut, Step: "otp", Reason: "no OTP SMS within 2s", OTP: true})
	p2 := st.tick(2.5)

	if p1.Offered != 2 || p1.Dropped != 1 || p1.Started != 1 || p1.Completed != 1 || p1.Hops != 10 || p1.Secs != 1 {
		t.Errorf("first second %+v", p1)
	}
	if p1.P50 != 2 || p1.P99 != 2 {
		t.Errorf("first second latency p50 %v p99 %v, want 2 ms", p1.P50, p1.P99)
	}
	if p2.Offered != 2 || p2.Shed != 1 || p2.Timeouts != 1 || p2.Hops != 1 || p2.Secs != 1.5 || p2.InFlight != 0 {
		t.Errorf("second point %+v", p2)
	}
	if p2.P50 < 39.6 || p2.P50 > 40.4 {
		t.Errorf("second point p50 %v, want 40 ms", p2.P50)
	}
	sum, secs := st.lastSeconds(5)
	if secs != 2.5 || sum.Hops != 11 || sum.Offered != 4 || sum.T != 2.5 {
		t.Errorf("last seconds %+v over %v s", sum, secs)
	}
	reasons, samples, shedAt, shedText := st.breakdown()
	if reasons["timeout at otp: no OTP SMS within 2s"] != 1 || len(samples) != 0 {
		t.Errorf("reasons %v samples %v", reasons, samples)
	}
	if shedAt["dial"] != 1 || shedText["TikaSetu is very busy right now."] != 1 {
		t.Errorf("shed by step %v, by screen %v", shedAt, shedText)
	}
	if st.otpWait.Load() != 1 || len(st.Timeline()) != 2 {
		t.Errorf("otp timeouts %d, timeline %d points", st.otpWait.Load(), len(st.Timeline()))
	}
}

func TestStatsBoundsReasons(t *testing.T) {
	st := newStats()
	for i := range maxReasons + 10 {
		st.started()
		st.ended(Outcome{Kind: Errored, Step: "dial", Reason: string(rune('A' + i))})
	}
	reasons, samples, _, _ := st.breakdown()
	if len(reasons) != maxReasons+1 || reasons["other"] != 10 || len(samples) != maxSamples {
		t.Fatalf("%d reasons (other %d), %d samples", len(reasons), reasons["other"], len(samples))
	}
}

func TestNumbersOut(t *testing.T) {
	for in, want := range map[string]string{
		"Very busy. You are number 17 in the queue, about 3 min.": "Very busy. You are number N in the queue, about N min.",
		"TikaSetu is very busy right now.":                        "TikaSetu is very busy right now.",
		"कतार में आप १७वें हैं":                                   "कतार में आप Nवें हैं",
		"": "",
	} {
		if got := numbersOut(in); got != want {
			t.Errorf("numbersOut(%q) = %q, want %q", in, got, want)
		}
	}
}

// Callers waiting to dial again are counted apart from journeys in flight,
// and shed screens that differ only in numbers count as one.
func TestStatsWaiting(t *testing.T) {
	st := newStats()
	for range 3 {
		st.started()
	}
	st.waitBegin()
	st.waitBegin()
	p := st.tick(1)
	if p.InFlight != 1 || p.Waiting != 2 {
		t.Fatalf("in flight %d, waiting %d; want 1 and 2", p.InFlight, p.Waiting)
	}
	st.waitEnd()
	st.ended(Outcome{Kind: Shed, Step: "dial", Detail: "You are number 4 in the queue"})
	st.ended(Outcome{Kind: Shed, Step: "dial", Detail: "You are number 12 in the queue"})
	p = st.tick(2)
	if p.InFlight != 0 || p.Waiting != 1 {
		t.Fatalf("in flight %d, waiting %d; want 0 and 1", p.InFlight, p.Waiting)
	}
	if _, _, _, shedText := st.breakdown(); shedText["You are number N in the queue"] != 2 || len(shedText) != 1 {
		t.Fatalf("shed screens %v", shedText)
	}
}
