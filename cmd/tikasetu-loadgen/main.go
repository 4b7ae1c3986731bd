// Command tikasetu-loadgen is TikaSetu's load lab: it measures a running
// gateway, apart from the gateway binary, which carries none of it.
// Subcommands:
//
//	tikasetu-loadgen run      simulated citizens doing whole USSD journeys against a gateway, for capacity and surge tests
//	tikasetu-loadgen floor    a minimal handler (HTTP, one Redis GET and one SET per request): the floor "run --floor" measures
//	tikasetu-loadgen compare  callers turned away in runs with --retry, side by side: a table and a chart
//
// docs/performance.md gives the commands of a measurement. Every flag with
// an environment variable names it in its help; run a subcommand with -h to
// see them.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2 // bad configuration or usage
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitConfig
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "floor":
		return floorCmd(ctx, args[1:], stdout, stderr)
	case "compare":
		return compareCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "tikasetu-loadgen: unknown command %q\n", args[0])
	usage(stderr)
	return exitConfig
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tikasetu-loadgen <command> [flags]

commands:
  run      simulated citizens doing whole USSD journeys against a running gateway (docs/performance.md)
  floor    the minimal handler (one Redis GET and SET per request) that "run --floor" measures as the floor
  compare  callers turned away in runs with "run --retry", side by side: a Markdown table and, with -o, a chart

Run "tikasetu-loadgen <command> -h" for its flags.
`)
}

// envOr returns the environment variable or a default.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// isTerminal tells whether w is a terminal (progress rewrites one line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
