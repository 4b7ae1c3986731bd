package dialogtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tikasetu/tikasetu/dialog"
)

// Ports are one backend's implementations of the engine's ports, empty.
type Ports struct {
	Conversations dialog.Conversations
	OTPs          dialog.OTPs
	Registry      dialog.Registry
	Sealer        dialog.Sealer
	// Alerts keeps seat-alert subscriptions. Engine leaves seat alerts off:
	// a test that wants them sets Alerts, Notices and ServiceCode in mod.
	Alerts dialog.Alerts
	Outbox dialog.Outbox // the engine's
	SMS    *SMSLog       // where Outbox's SMS end up
	// Import loads centres with their sessions, as cowin.Parse returns them.
	Import func(ctx context.Context, centres []dialog.Centre) error
	// Gateway returns the conversations as another process on the same
	// data sees them: its own Peek memory.
	Gateway func() dialog.Conversations
}

// Options are what a test asks of a Backend.
type Options struct {
	Clock dialog.Clock
	// OTPRate and OTPProviderRate are codes a second in all and per
	// provider (0: no limit).
	OTPRate, OTPProviderRate int
}

// Backend opens fresh, empty Ports for one test; whatever it starts stops
// when the test ends.
type Backend func(t testing.TB, o Options) Ports

// Memory is the Backend of this package: a Store, Alerts and an SMSLog,
// on o's Clock.
func Memory(_ testing.TB, o Options) Ports {
	s := New(Config{Clock: o.Clock, OTPRate: o.OTPRate, OTPProviderRate: o.OTPProviderRate})
	log := &SMSLog{}
	return Ports{Conversations: s, OTPs: s, Registry: s, Sealer: s, Alerts: NewAlerts(o.Clock), Outbox: log, SMS: log,
		Import:  s.ImportCentres,
		Gateway: func() dialog.Conversations { return s.Gateway() }}
}

// Engine is an engine on p with clock, quiet, configured further by mod
// (nil: not at all).
func (p Ports) Engine(t testing.TB, clock dialog.Clock, mod func(*dialog.Config)) *dialog.Engine {
	t.Helper()
	cfg := dialog.Config{Conversations: p.Conversations, OTPs: p.OTPs, Registry: p.Registry,
		Sealer: p.Sealer, Outbox: p.Outbox, Clock: clock, Logger: quietLogger}
	if mod != nil {
		mod(&cfg)
	}
	e, err := dialog.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Drain)
	return e
}

// Start is the time every Clock of this package's suites starts at: a
// Monday in September 2021, when Co-WIN was booking.
var Start = time.Date(2021, 9, 20, 10, 0, 0, 0, dialog.IST)

var quietLogger = slog.New(slog.DiscardHandler)
