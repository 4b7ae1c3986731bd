package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tikasetu/tikasetu/cmd/internal/gcpercent"
	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/dispatch"
	"github.com/tikasetu/tikasetu/providers/outbox"
	"github.com/tikasetu/tikasetu/providers/partner"
	"github.com/tikasetu/tikasetu/providers/smpp"
	"github.com/tikasetu/tikasetu/providers/smshttp"
	"github.com/tikasetu/tikasetu/providers/twilio"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	bindConfig(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(stderr, "tikasetu:", err)
		return exitConfig
	}
	log := newLogger(cfg, stderr)
	gcpercent.Apply(os.Getenv)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu: listen:", err)
		return exitFail
	}
	defer ln.Close()
	if cfg.PublicURL == "" && cfg.RedisURL == "" { // embedded: the sim signs what it sends to this address
		cfg.PublicURL = localURL(ln.Addr().String())
	}
	g, closeAll, err := newGateway(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "tikasetu:", err)
		if errors.Is(err, errConfig) {
			return exitConfig
		}
		return exitFail
	}
	defer closeAll()

	srv := &http.Server{
		Handler:           g.router(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go g.repairLoop(ctx, time.Minute)
	go g.queueLoop(ctx, 5*time.Second)
	if g.queueOn() {
		go g.inviteLoop(ctx, inviteEvery)
	}
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	g.banner(stdout, ln.Addr().String())

	select {
	case err := <-errc:
		log.Error("server stopped", "err", err)
		return exitFail
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	g.partnerSends.Wait()
	g.engine.Drain()
	return exitOK
}

// servePprof exposes Go's profiler on its own address, never on the
// public router.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Warn("pprof server", "err", err)
	}
}

// repairLoop frees, every interval, seats held by bookings that a crash
// interrupted between their steps (store.Repair). It is idempotent, so
// every gateway process may run it.
func (g *gateway) repairLoop(ctx context.Context, every time.Duration) {
	ticks(ctx, every, func() {
		n, err := g.store.Repair(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			g.log.Warn("repair", "err", err)
		case n > 0:
			g.metrics.outcomes.WithLabelValues("seat_repaired").Add(float64(n))
			g.log.Info("repair freed seats held without an appointment", "seats", n)
		}
	})
}

// ticks calls fn every interval until ctx ends.
func ticks(ctx context.Context, every time.Duration, fn func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// newLogger logs JSON in production, text on a developer's terminal.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	format := cfg.LogFormat
	if format == "" {
		format = "text"
		if cfg.RedisURL != "" {
			format = "json"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// newGateway opens the store, picks the SMS sender and builds the engine.
func newGateway(ctx context.Context, cfg config, log *slog.Logger) (*gateway, func(), error) {
	secret := []byte(cfg.Secret)
	if len(secret) == 0 { // embedded mode: nothing outlives the process, nor need the key
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	scfg := store.Config{URL: cfg.RedisURL, Secret: secret, MaxBeneficiaries: cfg.MaxPeople, RecentConversations: cfg.Recent,
		OTPRate: cfg.OTPRate, OTPProviderRate: cfg.OTPProviderRate, Batch: cfg.Batch}
	if cfg.Recent == 0 {
		scfg.RecentConversations = -1 // off
	}
	var (
		st      *store.Store
		closeSt func()
		err     error
	)
	if cfg.RedisURL == "" {
		st, closeSt, err = store.OpenEmbedded(ctx, scfg)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded store: %w", err)
		}
		if _, err := st.ImportCentres(ctx, cowin.Demo(time.Now())); err != nil {
			closeSt()
			return nil, nil, fmt.Errorf("demo calendar: %w", err)
		}
		log.Warn("embedded store with the demo calendar: nothing is kept after exit; set REDIS_URL for production")
		if cfg.TwilioToken == "" { // a token for this run, so that the sim can sign SMS webhooks
			cfg.TwilioToken = randomToken()
		}
	} else {
		st, err = store.Open(ctx, scfg)
		if err != nil {
			return nil, nil, fmt.Errorf("store: %w", err)
		}
		closeSt = func() { st.Close() }
	}
	g := &gateway{cfg: cfg, store: st, metrics: newMetrics(), log: log, clock: dialog.SystemClock}
	if cfg.Partners != "" {
		pc, err := partner.LoadConfig(cfg.Partners)
		if err != nil {
			closeSt()
			return nil, nil, fmt.Errorf("%w: %w", errConfig, err)
		}
		g.partners = &pc
	}
	var sender dialog.Sender
	switch cfg.SMSSender {
	case "outbox":
		g.outbox = outbox.New(outbox.Options{Logger: log})
		sender = g.outbox
	case "http":
		// One attempt per try: the SMS queue retries, with back-off.
		if sender, err = smshttp.New(cfg.SMSHTTPURL, []byte(cfg.SMSHTTPKey), smshttp.WithLogger(log), smshttp.WithAttempts(1)); err != nil {
			closeSt()
			return nil, nil, fmt.Errorf("%w: %w", errConfig, err)
		}
	case "twilio":
		if sender, err = twilio.NewSender(twilio.SenderOptions{
			AccountSID: cfg.TwilioSID, AuthToken: cfg.TwilioToken, From: cfg.TwilioFrom,
			MessagingServiceSID: cfg.TwilioMSID, StatusCallbackBase: cfg.PublicURL, Logger: log,
			Attempts: 1,
		}); err != nil {
			closeSt()
			return nil, nil, fmt.Errorf("%w: %w", errConfig, err)
		}
	case "smpp":
		sm, err := smpp.New(smpp.Options{
			Addr: cfg.SMPPAddr, SystemID: cfg.SMPPSystemID, Password: cfg.SMPPPassword, SystemType: cfg.SMPPSystemType,
			Source: cfg.SMPPSource, Binds: cfg.SMPPBinds, Rate: float64(cfg.SMPPRate), Payload: cfg.SMPPPayload,
			Logger: log, Count: g.metrics.Count, OnReceipt: g.receipt,
		})
		if err != nil {
			closeSt()
			return nil, nil, fmt.Errorf("%w: %w", errConfig, err)
		}
		closeStore := closeSt
		closeSt = func() { sm.Close(); closeStore() }
		sender = sm
	default:
		closeSt()
		return nil, nil, fmt.Errorf("%w: SMS sender %q is not available in this build", errConfig, cfg.SMSSender)
	}
	if sender, err = dltGuard(cfg.DLTFile, sender, g.metrics.Count, log); err != nil {
		closeSt()
		return nil, nil, err
	}
	if err := g.start(ctx, sender); err != nil {
		closeSt()
		return nil, nil, err
	}
	return g, func() { g.partnerSends.Wait(); g.handoff.close(); g.engine.Drain(); g.dispatch.Close(); closeSt() }, nil
}

// start builds the SMS dispatcher and the conversation engine on the
// gateway's store.
func (g *gateway) start(ctx context.Context, sender dialog.Sender) error {
	var err error
	g.id = gatewayID()
	g.calendar = store.NewCalendarCache(g.store, 0)
	g.dispatch = dispatch.New(ctx, g.store, sender, dispatch.Options{
		Rate: float64(g.cfg.SMSRate), Count: g.metrics.Count, Logger: g.log, Clock: g.clock,
		OnUndelivered: g.undelivered,
	})
	g.engine, err = dialog.NewEngine(dialog.Config{
		Conversations: g.store, OTPs: g.store, Registry: g.calendar, Sealer: g.store, Outbox: g.dispatch,
		Clock: g.clock, Observer: g.metrics, Logger: g.log, MaxBeneficiaries: g.cfg.MaxPeople,
		VerifiedFor: g.cfg.VerifiedTTL,
		Alerts:      g.store, Notices: g.store, ServiceCode: g.serviceCode(), // seat alerts (alerts.go)
	})
	if err != nil {
		g.dispatch.Close()
		return fmt.Errorf("engine: %w", err)
	}
	g.handoff = newHandoffWatch(g.cfg.HandoffAfter, g.clock, g.handOff, g.metrics.Count)
	return nil
}

// receipt takes an SMS centre's delivery receipt: a code that was not
// delivered makes the caller's OTP screen offer a new one at once. It runs
// on the bind's reading goroutine, so the store is written elsewhere.
func (g *gateway) receipt(r smpp.Receipt) {
	switch r.Stat {
	case smpp.StatDelivered, smpp.StatAccepted:
		return
	}
	go g.undelivered(r.To, r.Ref)
}

// undelivered takes an SMS the queue gave up: a code's screen then offers
// a new one at once.
func (g *gateway) undelivered(to, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := g.engine.DeliveryFailed(ctx, to, ref); err != nil {
		g.log.Warn("undelivered sms", "ref", ref, "err", err)
	}
}

// queueLoop keeps the queue's gauges current.
func (g *gateway) queueLoop(ctx context.Context, every time.Duration) {
	ticks(ctx, every, func() { g.queueGauges(ctx) })
}

// queueGauges reads the queue's depth and oldest age into the metrics.
func (g *gateway) queueGauges(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	q, err := g.store.SMSQueue(ctx)
	if err != nil {
		return // readiness and the turns say that Redis is away
	}
	g.metrics.smsQueued.Set(float64(q.Depth))
	g.metrics.smsOldest.Set(q.Oldest.Seconds())
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// banner tells whoever started the gateway how to reach it.
func (g *gateway) banner(w io.Writer, addr string) {
	url := localURL(addr)
	fmt.Fprintf(w, "TikaSetu gateway listening on %s\n", url)
	if g.cfg.RedisURL != "" {
		return
	}
	pins := map[string]bool{}
	for _, c := range cowin.Demo(time.Now()) {
		pins[c.Pincode] = true
	}
	list := make([]string, 0, len(pins))
	for p := range pins {
		list = append(list, p)
	}
	sort.Strings(list)
	fmt.Fprintf(w, `Embedded store and demo calendar: nothing is kept after exit.
Demo PIN codes: %s. OTP and slip SMS go to the outbox: %s/dev/outbox/<number>
Try it from another terminal, over USSD:
  go run ./cmd/tikasetu sim --url %s --msisdn 9876543210
or over SMS (the Twilio route, signed with this run's token):
  go run ./cmd/tikasetu sim --url %s --msisdn 9876543210 --sms --twilio-token %s
`, strings.Join(list, ", "), url, url, url, g.cfg.TwilioToken)
}

// localURL is how a client on this machine reaches a listen address.
func localURL(addr string) string {
	if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
		return "http://localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	return "http://" + addr
}
