package main

import (
	"testing"
	"time"
)

func TestJudgeReady(t *testing.T) {
	stop := time.Unix(1000, 0)
	resume := stop.Add(10 * time.Second)
	ps := []readyPoll{
		{At: stop.Add(-time.Second), Took: time.Millisecond, Status: 200},                    // before: ignored
		{At: stop.Add(100 * time.Millisecond), Took: 1001 * time.Millisecond, Status: 503},   // good
		{At: stop.Add(5 * time.Second), Took: 1002 * time.Millisecond, Status: 503},          // good
		{At: resume.Add(-300 * time.Millisecond), Took: 400 * time.Millisecond, Status: 200}, // answered after SIGCONT: fine
		{At: resume.Add(100 * time.Millisecond), Took: 50 * time.Millisecond, Status: 200},   // after: first 200
	}
	f := judgeReady(ps, stop, resume)
	if f.Polls != 3 || f.Bad != 0 || f.Unanswered != 0 {
		t.Errorf("good polls judged %+v", f)
	}
	if f.OKAfterResume != 150*time.Millisecond {
		t.Errorf("OKAfterResume = %s", f.OKAfterResume)
	}

	bad := []readyPoll{
		{At: stop.Add(time.Second), Took: 2500 * time.Millisecond, Status: 503},  // late
		{At: stop.Add(2 * time.Second), Took: 5 * time.Millisecond, Status: 200}, // 200 while frozen
		{At: stop.Add(3 * time.Second), Took: 3 * time.Second},                   // no answer
	}
	f = judgeReady(bad, stop, resume)
	if f.Polls != 3 || f.Bad != 2 || f.Unanswered != 1 || f.OKAfterResume != -1 {
		t.Errorf("bad polls judged %+v", f)
	}
}

func TestFirstAdmitted(t *testing.T) {
	resume := time.Unix(1000, 0)
	probes := []probe{
		{Answered: resume.Add(100 * time.Millisecond), Kind: "busy"},
		{Answered: resume.Add(900 * time.Millisecond), Kind: "admitted", Admitted: true},
		{Answered: resume.Add(700 * time.Millisecond), Kind: "admitted", Admitted: true},
	}
	first, kinds := firstAdmitted(probes, resume)
	if first != 700*time.Millisecond || kinds["busy"] != 1 || kinds["admitted"] != 2 {
		t.Errorf("firstAdmitted = %s, %v", first, kinds)
	}
	if first, _ := firstAdmitted(probes[:1], resume); first != -1 {
		t.Errorf("none admitted: %s", first)
	}
}
