// Command tikasetu-faults runs fault and abuse scenarios against real
// TikaSetu gateways and reports whether each met its bar.
//
//	tikasetu-faults [flags] <scenario>…|all
//
// Each scenario starts its own redis-server (AOF, fsync every second, on a
// free loopback port, in a temporary directory), an in-process SMS sink (the
// gateway's "http" SMS sender posts to it) and its own gateway processes
// (the tikasetu binary, built once per run), drives callers over the
// Africa's Talking USSD route, and prints a short report and one JSON line
// of its figures. The exit status is 1 when a scenario missed its bar, 2 on
// bad usage. Every process it started is stopped on exit and on Ctrl-C
// (and, on Linux, when it is killed). Traffic goes to 127.0.0.1 only.
//
// The scenarios and their bars are described in docs/reliability.md;
// redis-server must be on PATH and the go tool available to build the
// gateway (or pass -bin).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// scenario is one fault or abuse test.
type scenario struct {
	name  string
	about string
	bar   string
	run   func(ctx context.Context, e *env, r *rig, res *result) error
}

// scenarios in the order "all" runs them.
var scenarios = []scenario{
	{"otp-others", "one caller asks codes for 30 other numbers", "at most 3 codes reach the other numbers in the hour", otpOthers},
	{"otp-rate", "40 new callers a second for 10 s ask a code, with TIKASETU_OTP_RATE=10", "at most 10×(10+1) codes in all; no wall second over 10 but for the fixed window's edge", otpRate},
	{"at-route", "the Africa's Talking route without settings, and from outside TIKASETU_AT_ALLOW", "404 and the reason logged; 403 and no conversation in Redis", atRoute},
	{"sms-outage", "the SMS centre answers 503 for 20 s while callers confirm bookings", "every appointment's slip arrives after recovery, each ref delivered once", smsOutage},
	{"kill-gateway", "a gateway is killed (-9) right after a booking, its slip unsent", "the slip arrives, sent by the other gateway", killGateway},
	{"redis-stall", "Redis is frozen (SIGSTOP) for 10 s under load", "requests answered within 2 s; /readyz 503 within 1 s; a new caller let in within 2 s of SIGCONT", redisStall},
	{"big-name", "a calendar whose centre has a 120 KB name", "400 naming the field, nothing imported", bigName},
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// run is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tikasetu-faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "a built tikasetu binary to run as the gateway; empty: build "+gatewayPackage+" into a temporary directory")
	verbose := fs.Bool("v", false, "on a failure, print the last lines of the gateways' logs")
	callers := fs.Int("callers", 50, "sms-outage: callers who book during the outage")
	keep := fs.Bool("keep", false, "keep the run's temporary directory (the gateways' logs) and print where it is")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tikasetu-faults [flags] <scenario>…|all\n\nscenarios:\n")
		for _, s := range scenarios {
			fmt.Fprintf(stderr, "  %-13s %s\n", s.name, s.about)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	var todo []scenario
	for _, name := range fs.Args() {
		if name == "all" {
			todo = append(todo, scenarios...)
			continue
		}
		s, ok := findScenario(name)
		if !ok {
			fmt.Fprintf(stderr, "tikasetu-faults: unknown scenario %q\n", name)
			fs.Usage()
			return exitConfig
		}
		todo = append(todo, s)
	}
	if len(todo) == 0 {
		fs.Usage()
		return exitConfig
	}
	if *callers < 1 || *callers > 1000 {
		fmt.Fprintln(stderr, "tikasetu-faults: -callers must be from 1 to 1000")
		return exitConfig
	}

	dir, err := os.MkdirTemp("", "tikasetu-faults-")
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu-faults: temporary directory:", err)
		return exitFail
	}
	if *keep {
		defer fmt.Fprintf(stderr, "tikasetu-faults: gateway logs kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	e := &env{dir: dir, bin: *bin, verbose: *verbose, callers: *callers, progress: stderr,
		client: loadgen.NewClient(512), ids: newIDs(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))}
	if e.bin == "" {
		e.logf("building the gateway (%s)", gatewayPackage)
		if e.bin, err = buildGateway(ctx, dir); err != nil {
			fmt.Fprintln(stderr, "tikasetu-faults:", err)
			return exitFail
		}
	}

	code := exitOK
	for _, s := range todo {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "tikasetu-faults: interrupted")
			return exitFail
		}
		res := e.runScenario(ctx, s)
		res.print(stdout)
		if !res.Pass {
			code = exitFail
		}
	}
	return code
}

// Settings every gateway of a run shares.
const (
	gatewaySecret = "faults-secret-faults-secret-faults-secret"
	smsSecret     = "faults-sms-secret"
	adminToken    = "faults-admin-token"
	seedPin       = "560001"
)

// env is what a run's scenarios share.
type env struct {
	dir      string // the run's temporary directory
	bin      string // the gateway binary
	verbose  bool
	callers  int
	progress io.Writer
	client   *http.Client // for USSD and admin requests
	ids      *ids
}

// logf prints a progress line on stderr.
func (e *env) logf(format string, a ...any) {
	fmt.Fprintf(e.progress, "tikasetu-faults: "+format+"\n", a...)
}

// runScenario gives s a fresh Redis and sink, runs it and settles its
// result; whatever it started is stopped before it returns.
func (e *env) runScenario(ctx context.Context, s scenario) *result {
	res := &result{Scenario: s.name, Bar: s.bar}
	start := time.Now()
	e.logf("%s: %s", s.name, s.about)
	r, err := e.newRig(ctx)
	if err == nil {
		err = s.run(ctx, e, r, res)
		if (err != nil && ctx.Err() == nil) || (e.verbose && !allOK(res.Checks)) {
			r.dumpLogs(e.progress, 20)
		}
		r.close()
	}
	if err != nil {
		res.Error = err.Error()
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			res.Error = "interrupted"
		}
	}
	res.Seconds = secs(time.Since(start))
	res.settle()
	return res
}

func allOK(cs []check) bool {
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}

// rig is one scenario's Redis, SMS sink and gateways.
type rig struct {
	e     *env
	redis *redisServer
	sink  *Sink
	gws   []*gatewayProc
}

func (e *env) newRig(ctx context.Context) (*rig, error) {
	red, err := startRedis(ctx, e.dir)
	if err != nil {
		return nil, err
	}
	sink := NewSink([]byte(smsSecret))
	if err := sink.Start(); err != nil {
		red.Close()
		return nil, fmt.Errorf("sms sink: %w", err)
	}
	return &rig{e: e, redis: red, sink: sink}, nil
}

// gateway starts a gateway on the rig's Redis and sink: the http SMS
// sender, the admin token, TIKASETU_AT_ALLOW=127.0.0.1/32 and JSON logs,
// then set (a key set to "" is left unset).
func (r *rig) gateway(ctx context.Context, name string, set map[string]string) (*gatewayProc, error) {
	all := map[string]string{
		"REDIS_URL": r.redis.URL, "TIKASETU_SECRET": gatewaySecret,
		"TIKASETU_SMS_SENDER": "http", "TIKASETU_SMS_HTTP_URL": r.sink.URL(), "TIKASETU_SMS_HTTP_SECRET": smsSecret,
		"TIKASETU_ADMIN_TOKEN": adminToken, "TIKASETU_AT_ALLOW": "127.0.0.1/32", "TIKASETU_LOG_FORMAT": "json",
	}
	for k, v := range set {
		all[k] = v
	}
	g, err := startGateway(ctx, r.e.bin, r.e.dir, name, all)
	if err != nil {
		return nil, err
	}
	r.gws = append(r.gws, g)
	return g, nil
}

// close stops the gateways, the sink and Redis.
func (r *rig) close() {
	for _, g := range r.gws {
		g.Kill() // nothing of a scenario needs a graceful end
	}
	r.sink.Close()
	r.redis.Close()
}

// dumpLogs prints the last n lines of each gateway's log.
func (r *rig) dumpLogs(w io.Writer, n int) {
	for _, g := range r.gws {
		lines := strings.Split(strings.TrimSpace(g.Log()), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(w, "--- gateway %s log (last %d lines)\n%s\n", g.Name, len(lines), strings.Join(lines, "\n"))
	}
}
