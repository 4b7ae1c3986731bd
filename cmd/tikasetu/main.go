// Command tikasetu is the TikaSetu gateway: USSD and SMS vaccination
// registration for any phone. Subcommands:
//
//	tikasetu serve              run the gateway (embedded store and demo calendar without REDIS_URL)
//	tikasetu import FILE…       load Co-WIN calendar JSON into the store
//	tikasetu sim                a terminal phone talking to a running gateway
//	tikasetu dlt templates      the DLT templates of every SMS, to register and fill in (India)
//
// Configuration is by environment variable, each with a flag of the same
// meaning; run a subcommand with -h to see them. The load generator that
// measures the gateway is a command of its own, cmd/tikasetu-loadgen.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2 // bad configuration or usage
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand; it is main without the process around it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitConfig
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr)
	case "sim":
		return sim(ctx, args[1:], stdin, stdout, stderr)
	case "dlt":
		return dltCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "tikasetu: unknown command %q\n", args[0])
	usage(stderr)
	return exitConfig
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tikasetu <command> [flags]

commands:
  serve         run the gateway (embedded store and demo calendar when REDIS_URL is empty)
  import FILE…  load Co-WIN calendar JSON files into the store (REDIS_URL)
  sim           a terminal phone: talk to a running gateway over USSD
  dlt templates the DLT templates of every SMS, as TIKASETU_DLT_FILE reads them, to register and fill in

Run "tikasetu <command> -h" for its flags. Every flag has an environment variable.
`)
}
