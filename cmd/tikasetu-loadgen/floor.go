package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tikasetu/tikasetu/cmd/internal/gcpercent"
	"github.com/tikasetu/tikasetu/cmd/tikasetu-loadgen/loadgen"
	"github.com/tikasetu/tikasetu/store"
)

// floorCmd serves the floor handler: the least a USSD request can cost on
// this machine (HTTP through gin, one Redis GET and one SET), for
// "tikasetu-loadgen run --floor" to measure.
func floorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	redisURL := fs.String("redis-url", envOr("REDIS_URL", ""), "Redis URL (REDIS_URL)")
	ttl := fs.Duration("ttl", loadgen.FloorTTL, "expiry of each caller's key")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 || *redisURL == "" || *ttl <= 0 {
		fmt.Fprintln(stderr, "tikasetu-loadgen floor: needs --redis-url (REDIS_URL), a positive --ttl, and no arguments")
		return exitConfig
	}
	gcpercent.Apply(os.Getenv) // as the gateway runs
	rdb, err := store.NewClient(*redisURL)
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu-loadgen floor:", err)
		return exitConfig
	}
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu-loadgen floor: redis:", err)
		return exitFail
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu-loadgen floor: listen:", err)
		return exitFail
	}
	srv := &http.Server{
		Handler:           loadgen.FloorHandler(rdb, *ttl),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 90 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "floor handler listening on http://%s%s\n", ln.Addr(), loadgen.USSDPath)
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "tikasetu-loadgen floor:", err)
			return exitFail
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return exitOK
}
