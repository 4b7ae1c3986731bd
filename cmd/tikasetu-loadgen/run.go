package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/batchsched"
	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// runCmd drives simulated citizens through whole USSD journeys against a
// running gateway and prints a JSON summary on stdout (progress on stderr).
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		base        = fs.String("url", envOr("TIKASETU_URL", "http://127.0.0.1:8080"), "gateway base URL (TIKASETU_URL)")
		mode        = fs.String("mode", loadgen.Open, "open: journeys arrive at --rate whatever the answers; closed: --concurrency callers back to back")
		rate        = fs.Float64("rate", 50, "open loop: journeys per second after the ramp")
		ramp        = fs.Duration("ramp", 5*time.Second, "linear ramp from 0 to --rate (closed loop: callers start evenly over it)")
		duration    = fs.Duration("duration", 30*time.Second, "time at full rate, after the ramp")
		arrivals    = fs.String("arrivals", "poisson", "open loop arrivals: poisson or even (evenly spaced)")
		concurrency = fs.Int("concurrency", 50, "closed loop: callers")
		maxInflight = fs.Int("max-inflight", 10000, "open loop: journeys in flight at most; arrivals beyond are dropped_by_loadgen")
		timeout     = fs.Duration("timeout", 2*time.Second, "per request, and for the OTP SMS to arrive (the USSD deadline)")
		drain       = fs.Duration("drain", 10*time.Second, "after the last arrival, wait this long for journeys in flight")
		think       = fs.Duration("think", 0, "mean pause before each request after the dial (a caller reading and typing; each pause uniform between half and 1.5 times it)")
		pin         = fs.String("pin", "560001", "PIN code to book at (the one --seed fills)")
		serviceCode = fs.String("service-code", "*123*45#", "USSD code dialled")
		busy        = fs.String("busy-text", "busy", "comma-separated markers of the busy screen (any case; whole words): an END with one is shed")
		queuedText  = fs.String("queued-text", "in the queue", "comma-separated markers of the queued screen, a place in the gateway's surge queue (any case; whole words): shed, or with --retry, wait for the invitation SMS")
		retry       = fs.Bool("retry", false, "callers turned away at the dial try again: given a place in the queue they wait for the invitation SMS at the sink and dial --invite-react after it; given the plain busy screen they redial after an exponential wait of mean --redial-mean; both give up after --patience. The summary then reports them (turned_away) and counts as shed only those never let in")
		inviteReact = fs.String("invite-react", loadgen.DefaultReact.String(), "with --retry: from the invitation SMS to the dial, uniform in MIN-MAX (or a fixed duration)")
		redialMean  = fs.Duration("redial-mean", loadgen.DefaultRedialMean, "with --retry: mean wait before redialling after the plain busy screen (exponential)")
		patience    = fs.Duration("patience", 0, "with --retry: a caller gives up this long after their first refusal; 0 waits until the run ends (after --drain, which a run with retries should make long)")
		seed        = fs.Bool("seed", false, "before the run, load a synthetic calendar at --pin through /admin/v1/calendar (needs --admin-token)")
		adminToken  = fs.String("admin-token", envOr("TIKASETU_ADMIN_TOKEN", ""), "gateway admin token, for --seed (TIKASETU_ADMIN_TOKEN)")
		seedCentres = fs.Int("seed-centres", 5, "centres to seed")
		seedDays    = fs.Int("seed-days", 5, "days of sessions to seed, from tomorrow")
		seedSeats   = fs.Int("seed-capacity", 1_000_000, "seats per dose per seeded session")
		sinkAddr    = fs.String("sink-addr", "127.0.0.1:9099", "listen address of the SMS sink (the gateway's TIKASETU_SMS_HTTP_URL is http://ADDR/sms)")
		sinkSecret  = fs.String("sink-secret", envOr("TIKASETU_SMS_HTTP_SECRET", ""), "HMAC key of the gateway's http SMS sender (TIKASETU_SMS_HTTP_SECRET)")
		floor       = fs.Bool("floor", false, "target a \"tikasetu-loadgen floor\" handler: journeys of --floor-hops meaningless requests")
		floorHops   = fs.Int("floor-hops", loadgen.RealJourneyHops, "requests per floor journey (18 is a real journey registering one person)")
		plotFile    = fs.String("plot", "", "write a PNG chart of the run over time to this file")
		cpuProfile  = fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file (to keep its cost in view)")
		procs       = fs.Int("procs", 0, "cores the generator's Go runtime runs on at once (GOMAXPROCS); 0: the Go default (all of them). 1 leaves more of a machine it shares with the gateway and Redis to them, but with thousands of --think callers the generator itself then adds to the latency it reports")
		schedBatch  = fs.Bool("sched-batch", true, "Linux: run the generator's threads under SCHED_BATCH, so that its wake-ups (arrivals, answers) do not preempt the gateway and Redis on a machine it shares with them; false leaves the default policy")
	)
	var cpu []loadgen.Proc
	fs.Func("cpu", "report this process's CPU time per hop over the steady part of the run (Linux), as name=pid or name=command of a process on this machine, e.g. --cpu gateway=tikasetu --cpu redis=redis-server; repeatable. The generator's own is always reported", func(s string) error {
		p, err := loadgen.ParseProc(s)
		if err == nil {
			cpu = append(cpu, p)
		}
		return err
	})
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tikasetu-loadgen run: "+format+"\n", a...)
		return exitConfig
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if *arrivals != "poisson" && *arrivals != "even" {
		return fail("--arrivals must be poisson or even, not %q", *arrivals)
	}
	if *procs < 0 {
		return fail("--procs must be 0 (the Go default) or more, not %d", *procs)
	}
	if *seed && *floor {
		return fail("--seed is for the gateway, not a floor handler")
	}
	if *seed && *adminToken == "" {
		return fail("--seed needs --admin-token (TIKASETU_ADMIN_TOKEN)")
	}
	react, err := loadgen.ParseRange(*inviteReact)
	if err != nil {
		return fail("--invite-react: %v", err)
	}
	if *retry && *floor {
		return fail("--retry is for journeys, not a floor handler")
	}
	if *redialMean <= 0 || *patience < 0 {
		return fail("--redial-mean must be above 0 and --patience 0 or more")
	}
	if !*floor && *sinkSecret == "" {
		return fail("journeys need --sink-secret (TIKASETU_SMS_HTTP_SECRET), the gateway's http SMS sender key, to read their OTPs")
	}

	if *procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*procs))
	}
	if *schedBatch {
		restore, err := batchsched.Enable()
		if err != nil {
			fmt.Fprintf(stderr, "tikasetu-loadgen run: running under the default scheduling policy: %v\n", err)
		} else {
			defer func() {
				if err := restore(); err != nil {
					fmt.Fprintf(stderr, "tikasetu-loadgen run: %v\n", err)
				}
			}()
		}
	}

	cfg := loadgen.Config{
		URL: *base, Mode: *mode,
		Schedule:    loadgen.Schedule{Rate: *rate, Ramp: *ramp, Duration: *duration, Poisson: *arrivals == "poisson"},
		MaxInFlight: *maxInflight, Concurrency: *concurrency,
		Timeout: *timeout, Drain: *drain, Think: *think, Pin: *pin, ServiceCode: *serviceCode,
		Busy: strings.Split(*busy, ","), Queued: strings.Split(*queuedText, ","), Floor: *floor, FloorHops: *floorHops, CPU: cpu,
		Progress: stderr, ProgressTTY: isTerminal(stderr),
	}
	if *retry {
		cfg.Retry = &loadgen.Retry{React: react, RedialMean: *redialMean, Patience: *patience}
	}
	cfg.Client = loadgen.NewClient(max(cfg.MaxInFlight, cfg.Concurrency))

	if *seed {
		cal, err := loadgen.SeedPlan{Pin: *pin, Centres: *seedCentres, Days: *seedDays, Capacity: *seedSeats, From: time.Now()}.Calendar()
		if err != nil {
			return fail("%v", err)
		}
		res, err := loadgen.Seed(ctx, cfg.Client, *base, *adminToken, cal)
		if err != nil {
			fmt.Fprintln(stderr, "tikasetu-loadgen run:", err)
			return exitFail
		}
		fmt.Fprintf(stderr, "seeded PIN %s: %s\n", *pin, strings.TrimSpace(string(res)))
	}
	if !*floor {
		cfg.Sink = loadgen.NewSink([]byte(*sinkSecret))
		if err := cfg.Sink.Start(*sinkAddr); err != nil {
			fmt.Fprintf(stderr, "tikasetu-loadgen run: SMS sink on %s: %v\n", *sinkAddr, err)
			return exitFail
		}
		defer cfg.Sink.Close()
		fmt.Fprintf(stderr, "SMS sink at %s\n", cfg.Sink.URL())
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail("cpu profile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	sum, timeline, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return fail("%v", err)
	}
	out, _ := json.MarshalIndent(sum, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	if *plotFile != "" {
		title := fmt.Sprintf("tikasetu-loadgen, %s loop", cfg.Mode)
		if cfg.Mode == loadgen.Open {
			title += fmt.Sprintf(" %g journeys/s", cfg.Schedule.Rate)
		} else {
			title += fmt.Sprintf(" %d callers", cfg.Concurrency)
		}
		if cfg.Floor {
			title += ", floor"
		}
		if err := loadgen.WritePlot(*plotFile, title, timeline); err != nil {
			fmt.Fprintln(stderr, "tikasetu-loadgen run:", err)
			return exitFail
		}
		fmt.Fprintf(stderr, "chart written to %s\n", *plotFile)
	}
	return exitOK
}
