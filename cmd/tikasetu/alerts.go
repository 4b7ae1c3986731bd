package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/store"
)

// Seat alerts after a calendar import: every PIN code where the import
// left seats is handed to the engine (dialog.Engine.SeatsFreed), which
// alerts its subscribers. A cancellation alerts from the engine itself.

// importAlertTimeout bounds the alerts of one import.
const importAlertTimeout = time.Minute

// serviceCode is the USSD short code the alerts name.
func (g *gateway) serviceCode() string { return cmp.Or(g.cfg.USSDCode, defaultUSSDCode) }

// alertImported alerts the subscribers of the PIN codes of centres, just
// imported through the admin route: queued and sent by this gateway. The
// import stands whatever happens here, so a failure is logged. It runs to
// its own deadline: an admin client that hangs up stops no alert half-way.
func (g *gateway) alertImported(ctx context.Context, centres []dialog.Centre) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), importAlertTimeout)
	defer cancel()
	n, err := seatsFreed(ctx, g.engine, centres)
	if err != nil {
		g.log.Warn("seat alerts after a calendar import", "sent", n, "err", err)
		return
	}
	if n > 0 {
		g.log.Info("seat alerts after a calendar import", "sent", n)
	}
}

// importAlerts alerts the subscribers of the PIN codes of centres, just
// imported by `tikasetu import`. That command has no dispatcher: the SMS
// are queued only, and a gateway sends them when their lease runs out.
func importAlerts(ctx context.Context, st *store.Store, centres []dialog.Centre, stdout, stderr io.Writer) error {
	eng, err := dialog.NewEngine(dialog.Config{Conversations: st, OTPs: st, Registry: st, Sealer: st,
		Outbox: queueOnly{}, Alerts: st, Notices: st, Logger: slog.New(slog.NewTextHandler(stderr, nil)),
		ServiceCode: envOr("TIKASETU_USSD_CODE", defaultUSSDCode)})
	if err != nil {
		return fmt.Errorf("seat alerts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, importAlertTimeout)
	defer cancel()
	n, err := seatsFreed(ctx, eng, centres)
	if n > 0 {
		fmt.Fprintf(stdout, "queued %d seat alert SMS for the gateways to send\n", n)
	}
	return err
}

// alertPins is how many PIN codes' alerts go at once: an import may
// name thousands of PIN codes, and the admin route answers after them.
const alertPins = 16

// seatsFreed calls eng.SeatsFreed for every PIN code where centres have
// a session with first-dose capacity (the engine checks the live seats),
// and returns how many alerts were queued.
func seatsFreed(ctx context.Context, eng *dialog.Engine, centres []dialog.Centre) (int, error) {
	var (
		mu           sync.Mutex
		sent, failed int
		first        error // of the failures, the first: they tend to share a cause
	)
	var g errgroup.Group
	g.SetLimit(alertPins)
	for _, pin := range pinsWithSeats(centres) {
		g.Go(func() error {
			n, err := eng.SeatsFreed(ctx, pin)
			mu.Lock()
			defer mu.Unlock()
			sent += n
			if err != nil {
				if failed++; first == nil {
					first = err
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	if failed > 0 {
		return sent, fmt.Errorf("seat alerts failed at %d PIN codes, first: %w", failed, first)
	}
	return sent, nil
}

// pinsWithSeats lists, sorted and once each, the PIN codes of centres with
// a session that has first-dose capacity.
func pinsWithSeats(centres []dialog.Centre) []string {
	var pins []string
	for _, c := range centres {
		if slices.ContainsFunc(c.Sessions, func(s dialog.Session) bool { return s.Capacity[0] > 0 }) {
			pins = append(pins, c.Pincode)
		}
	}
	slices.Sort(pins)
	return slices.Compact(pins)
}

// queueOnly is the Outbox of a process without a dispatcher: what was
// queued waits for a gateway to claim it when its lease runs out.
type queueOnly struct{}

func (queueOnly) Deliver(string, []dialog.SMS) {}
func (queueOnly) Drain()                       {}
