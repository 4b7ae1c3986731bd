package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin"
)

// importBatch is how many centres go to the store per call, so that the
// progress line moves on a large district file.
const importBatch = 50

// importCmd loads Co-WIN calendar files into the store named by REDIS_URL.
// A malformed file is reported with its name and the reason, and nothing of
// it is imported; the other files still are, and the exit status is 1.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis-url", envOr("REDIS_URL", ""), "Redis URL of the store (REDIS_URL)")
	secret := fs.String("secret", envOr("TIKASETU_SECRET", ""), "the gateway's TIKASETU_SECRET (TIKASETU_SECRET)")
	shift := fs.Bool("shift-dates", false, "move the earliest session date to tomorrow, keeping the gaps")
	quiet := fs.Bool("quiet", false, "no progress line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tikasetu import [flags] FILE…")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitConfig
	}
	if *redisURL == "" {
		fmt.Fprintln(stderr, "tikasetu import: REDIS_URL is required: the embedded store lives only inside `tikasetu serve` (use POST /admin/v1/calendar there)")
		return exitConfig
	}
	if len(*secret) < store.MinSecretLen {
		fmt.Fprintln(stderr, "tikasetu import: TIKASETU_SECRET (at least 32 characters, the gateway's) is required")
		return exitConfig
	}

	var all []dialog.Centre
	status := exitOK
	for _, path := range fs.Args() {
		centres, err := cowin.ParseFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "tikasetu import:", err)
			status = exitFail
			continue
		}
		all = append(all, centres...)
	}
	if *shift {
		cowin.ShiftDates(all, tomorrow(time.Now()))
	}

	st, err := store.Open(ctx, store.Config{URL: *redisURL, Secret: []byte(*secret)})
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu import:", err)
		return exitFail
	}
	defer st.Close()
	n, err := importCentres(ctx, st, all, stderr, *quiet)
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu import:", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "imported %d centres, %d sessions from %d file(s)\n", len(all), n, fs.NArg())
	if err := importAlerts(ctx, st, all, stdout, stderr); err != nil { // alerts.go
		fmt.Fprintln(stderr, "tikasetu import:", err)
		status = exitFail
	}
	return status
}

// importCentres writes centres in batches behind a progress line and returns
// the number of sessions written.
func importCentres(ctx context.Context, st *store.Store, all []dialog.Centre, progress io.Writer, quiet bool) (int, error) {
	if quiet || len(all) <= importBatch {
		progress = nil
	}
	bar := newProgressLine(progress, "importing centres", len(all))
	sessions := 0
	for i := 0; i < len(all); i += importBatch {
		batch := all[i:min(i+importBatch, len(all))]
		if _, err := st.ImportCentres(ctx, batch); err != nil {
			return sessions, fmt.Errorf("import centres %d–%d: %w", i+1, i+len(batch), err)
		}
		for _, c := range batch {
			sessions += len(c.Sessions)
		}
		bar.Add(len(batch))
	}
	bar.Finish()
	return sessions, nil
}
