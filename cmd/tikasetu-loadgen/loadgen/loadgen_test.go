package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// runRig starts a fake gateway and a sink and returns a Config against them.
func runRig(t *testing.T, setup func(*FakeGateway)) Config {
	t.Helper()
	sink := NewSink(testSecret)
	sinkSrv := httptest.NewServer(sink)
	fake := &FakeGateway{SinkURL: sinkSrv.URL + SinkPath, SinkSecret: testSecret}
	if setup != nil {
		setup(fake)
	}
	gw := httptest.NewServer(fake)
	t.Cleanup(func() { gw.Close(); fake.Wait(); sinkSrv.Close() })
	return Config{URL: gw.URL, Sink: sink, Pin: "560001", Timeout: 5 * time.Second, rng: rand.New(rand.NewPCG(3, 4))}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(Config) Config
		setup func(*FakeGateway)
		check func(t *testing.T, s Summary, tl []Point)
	}{
		{
			name: "open loop, evenly spaced: every offered journey books",
			cfg: func(c Config) Config {
				c.Schedule = Schedule{Rate: 40, Duration: time.Second}
				return c
			},
			check: func(t *testing.T, s Summary, tl []Point) {
				if s.Offered != 40 || s.Started != 40 || s.CompletedJourneys != 40 || s.DroppedByLoadgen != 0 {
					t.Fatalf("offered %d started %d completed %d dropped %d; want 40 each, none dropped", s.Offered, s.Started, s.CompletedJourneys, s.DroppedByLoadgen)
				}
				if s.Errors+s.Timeouts+s.Shed+s.Abandoned != 0 {
					t.Fatalf("failures in %+v", s)
				}
				// 1 or 2 people each: 18 or 25 hops a journey.
				if s.Hops < 40*RealJourneyHops || s.Hops > 40*(RealJourneyHops+7) || s.Hops == 40*RealJourneyHops || s.Hops == 40*(RealJourneyHops+7) {
					t.Fatalf("%d hops for 40 journeys of 1 or 2 people (half each)", s.Hops)
				}
				if s.OfferedJourneysPerS != 40 || s.Arrivals != "even" || s.TargetRate != 40 {
					t.Fatalf("offered %v/s, arrivals %q, target %v", s.OfferedJourneysPerS, s.Arrivals, s.TargetRate)
				}
				if !(s.HopP50Ms > 0 && s.HopP50Ms <= s.HopP95Ms && s.HopP95Ms <= s.HopP99Ms && s.HopP99Ms <= s.HopMaxMs) {
					t.Fatalf("percentiles out of order: %+v", s)
				}
				if s.Sink == nil || s.Sink.Delivered != 40 || s.Sink.BadSignature != 0 {
					t.Fatalf("sink %+v", s.Sink)
				}
				if s.TurnedAway != nil {
					t.Fatalf("turned away reported without retries: %+v", s.TurnedAway)
				}
				var hops, done int64
				for _, p := range tl {
					hops += p.Hops
					done += p.Completed
				}
				if hops != s.Hops || done != s.CompletedJourneys {
					t.Fatalf("timeline sums %d hops, %d journeys; summary %d, %d", hops, done, s.Hops, s.CompletedJourneys)
				}
			},
		},
		{
			name: "closed loop",
			cfg: func(c Config) Config {
				c.Mode, c.Concurrency, c.Schedule = Closed, 3, Schedule{Duration: 500 * time.Millisecond}
				return c
			},
			check: func(t *testing.T, s Summary, _ []Point) {
				if s.Mode != Closed || s.Concurrency != 3 || s.CompletedJourneys < 3 || s.Started != s.CompletedJourneys || s.Errors != 0 {
					t.Fatalf("%+v", s)
				}
			},
		},
		{
			name: "shed and errors are counted apart",
			cfg: func(c Config) Config {
				c.Schedule = Schedule{Rate: 20, Duration: time.Second}
				return c
			},
			setup: func(f *FakeGateway) {
				f.Fault = func(r FakeRequest) *FakeAnswer {
					switch {
					case r.State == "lang" && strings.HasSuffix(r.Msisdn, "0"):
						return &FakeAnswer{Body: "END TikaSetu is very busy right now. Please dial again in a few minutes."}
					case r.State == "lang" && strings.HasSuffix(r.Msisdn, "1"):
						return &FakeAnswer{Status: 502}
					}
					return nil
				}
			},
			check: func(t *testing.T, s Summary, _ []Point) {
				if s.Shed+s.Errors+s.CompletedJourneys != 20 || s.Timeouts != 0 {
					t.Fatalf("%+v", s)
				}
				if s.ShedBy["dial"] != s.Shed || s.ErrorReasons["error at dial: status 502"] != s.Errors {
					t.Fatalf("shed by %v, errors %v", s.ShedBy, s.ErrorReasons)
				}
			},
		},
		{
			name: "beyond max in flight, arrivals are dropped by the load generator",
			cfg: func(c Config) Config {
				c.Schedule, c.MaxInFlight = Schedule{Rate: 100, Duration: 300 * time.Millisecond}, 1
				return c
			},
			setup: func(f *FakeGateway) {
				f.Fault = func(r FakeRequest) *FakeAnswer {
					if r.State == "lang" {
						return &FakeAnswer{Body: "END busy", Delay: 200 * time.Millisecond}
					}
					return nil
				}
			},
			check: func(t *testing.T, s Summary, _ []Point) {
				if s.Offered != 30 || s.DroppedByLoadgen == 0 || s.Started+s.DroppedByLoadgen != 30 || s.Shed != s.Started {
					t.Fatalf("%+v", s)
				}
			},
		},
		{
			name: "CPU per hop of a process named and of the generator",
			cfg: func(c Config) Config {
				c.Schedule, c.CPU = Schedule{Rate: 40, Ramp: 200 * time.Millisecond, Duration: time.Second}, []Proc{{"this test", os.Getpid()}}
				return c
			},
			check: func(t *testing.T, s Summary, _ []Point) {
				named, ok1 := s.CPUPerHopUs["this test"]
				gen, ok2 := s.CPUPerHopUs["generator"]
				if !ok1 || !ok2 || named < 0 || gen < 0 {
					t.Fatalf("cpu per hop %v, want this test's and the generator's", s.CPUPerHopUs)
				}
				// The same process, read one after the other: at most a
				// tick apart over the steady window's hops.
				window := s.SteadyHopsPerS * 1 // hops in the steady second, about
				if window <= 0 || math.Abs(named-gen) > 1e6/userHZ/(window/2)+0.1 {
					t.Fatalf("the same process read %v and %v µs a hop", named, gen)
				}
			},
		},
		{
			name: "floor mode",
			cfg: func(c Config) Config {
				c.Floor, c.FloorHops, c.Sink, c.Schedule = true, 3, nil, Schedule{Rate: 10, Duration: time.Second}
				return c
			},
			setup: func(f *FakeGateway) {
				f.Fault = func(FakeRequest) *FakeAnswer { return &FakeAnswer{Body: "CON ok"} }
			},
			check: func(t *testing.T, s Summary, _ []Point) {
				if !s.Floor || s.CompletedJourneys != 10 || s.Hops != 30 || s.Sink != nil {
					t.Fatalf("%+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg(runRig(t, tt.setup))
			var progress bytes.Buffer
			cfg.Progress = &progress
			s, tl, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s, tl)
		})
	}
}

// A surge against the fake with two journeys at most: callers turned away
// at the dial come back, invited in order with the queue on, redialling at
// random with it off, and every one of them books in the end.
func TestRunRetries(t *testing.T) {
	tests := []struct {
		name  string
		queue bool
		check func(t *testing.T, ta *TurnedAway, s Summary)
	}{
		{"queue on: invited and let in in order", true, func(t *testing.T, ta *TurnedAway, s Summary) {
			if ta.Queued < ta.Callers || ta.Busy != 0 || ta.Invited != ta.Callers || s.Sink.Invited != ta.Callers {
				t.Errorf("%d queued and %d busy dials, %d invited (sink %d); want every caller turned away queued and invited",
					ta.Queued, ta.Busy, ta.Invited, s.Sink.Invited)
			}
			if ta.InviteOrderInversions == nil || *ta.InviteOrderInversions > 0.02 || ta.OrderInversions > 0.05 {
				t.Errorf("order inversions: %v let in, %v invited; want about 0", ta.OrderInversions, ta.InviteOrderInversions)
			}
		}},
		{"queue off: redialling at random", false, func(t *testing.T, ta *TurnedAway, s Summary) {
			if ta.Busy < ta.Callers || ta.Queued != 0 || ta.Invited != 0 || ta.InviteOrderInversions != nil {
				t.Errorf("%d busy and %d queued dials, %d invited; want busy screens only", ta.Busy, ta.Queued, ta.Invited)
			}
			if ta.OrderInversions < 0.1 {
				t.Errorf("order inversions %v: random redials should let many in out of order", ta.OrderInversions)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := runRig(t, func(f *FakeGateway) { f.MaxJourneys, f.Queue = 2, tt.queue })
			cfg.Schedule = Schedule{Rate: 100, Duration: 300 * time.Millisecond}
			cfg.Think = 5 * time.Millisecond
			cfg.Retry = &Retry{React: Range{10 * time.Millisecond, 10 * time.Millisecond}, RedialMean: 50 * time.Millisecond}
			s, tl, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ta := s.TurnedAway
			if ta == nil || ta.Callers < 10 {
				t.Fatalf("turned away %+v; want most of 30 callers", ta)
			}
			if s.CompletedJourneys != 30 || s.Shed != 0 || ta.Through != ta.Callers || ta.Booked != ta.Callers || ta.NeverThrough != 0 {
				t.Fatalf("%d booked, %d shed; turned away %d, %d let in later, %d booked, %d never; want all 30 booked",
					s.CompletedJourneys, s.Shed, ta.Callers, ta.Through, ta.Booked, ta.NeverThrough)
			}
			if !(ta.WaitP10S > 0 && ta.WaitP10S <= ta.WaitP50S && ta.WaitP50S <= ta.WaitP90S && ta.WaitP90S <= ta.WaitMaxS) || ta.OrderPairs < ta.Callers {
				t.Fatalf("waits or order pairs out of shape: %+v", ta)
			}
			n := len(ta.RefusedBySecond)
			if n == 0 || n != len(ta.ThroughBySecond) || ta.RefusedBySecond[n-1] != ta.Callers || ta.ThroughBySecond[n-1] != ta.Through {
				t.Fatalf("by second: refused %v, through %v", ta.RefusedBySecond, ta.ThroughBySecond)
			}
			waited := false
			for _, p := range tl {
				waited = waited || p.Waiting > 0
			}
			if !waited {
				t.Error("the timeline shows nobody waiting")
			}
			tt.check(t, ta, s)
		})
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	cfg := runRig(t, func(f *FakeGateway) {
		f.Fault = func(r FakeRequest) *FakeAnswer { return &FakeAnswer{Body: "CON slow", Delay: time.Minute} }
	})
	cfg.Schedule = Schedule{Rate: 10, Duration: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	s, _, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Started == 0 || s.Abandoned != s.Started || s.CompletedJourneys != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestRunConfigErrors(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:1", Sink: NewSink([]byte("k")), Pin: "560001", Schedule: Schedule{Rate: 1, Duration: time.Second}}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no URL", func(c *Config) { c.URL = "" }},
		{"bad mode", func(c *Config) { c.Mode = "sideways" }},
		{"open loop without rate", func(c *Config) { c.Schedule.Rate = 0 }},
		{"closed loop without concurrency", func(c *Config) { c.Mode = Closed }},
		{"negative duration", func(c *Config) { c.Schedule.Duration = -time.Second }},
		{"journeys without a sink", func(c *Config) { c.Sink = nil }},
		{"journeys without a PIN", func(c *Config) { c.Pin = "" }},
		{"retries on the floor", func(c *Config) { c.Floor, c.Sink, c.Retry = true, nil, &Retry{} }},
		{"bad reaction time", func(c *Config) { c.Retry = &Retry{React: Range{time.Second, 0}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if _, _, err := Run(context.Background(), c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// The summary's JSON has the fields that scripts read.
func TestSummaryJSONFields(t *testing.T) {
	b, err := json.Marshal(Summary{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, f := range []string{"offered_journeys_per_s", "completed_journeys", "journeys_per_s", "hops", "hops_per_s",
		"hop_p50_ms", "hop_p95_ms", "hop_p99_ms", "hop_max_ms", "shed", "errors", "timeouts", "dropped_by_loadgen"} {
		if _, ok := m[f]; !ok {
			t.Errorf("summary JSON lacks %q: %s", f, b)
		}
	}
}
