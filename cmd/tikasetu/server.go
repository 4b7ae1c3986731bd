package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/cmd/tikasetu/admission"
	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/africastalking"
	"github.com/tikasetu/tikasetu/providers/dispatch"
	"github.com/tikasetu/tikasetu/providers/outbox"
	"github.com/tikasetu/tikasetu/providers/partner"
	"github.com/tikasetu/tikasetu/providers/twilio"
	"github.com/tikasetu/tikasetu/store"
	"github.com/tikasetu/tikasetu/store/cowin"
)

// gateway is everything the HTTP routes need, wired once at start.
type gateway struct {
	cfg      config
	store    *store.Store
	calendar *store.CalendarCache // the registry with centres cached in process
	engine   *dialog.Engine
	dispatch *dispatch.Dispatcher // delivers the SMS queued in the store
	metrics  *metrics
	outbox   *outbox.Outbox // nil unless SMS go to the in-process outbox
	log      *slog.Logger
	clock    dialog.Clock
	gate     *admission.Gate // nil when admission control is off
	handoff  *handoffWatch   // USSD sessions left on a CON screen; nil when TIKASETU_HANDOFF_AFTER is 0
	id       string          // this process in the surge queue (gatewayID)

	partners     *partner.Config // nil without TIKASETU_PARTNERS_FILE
	partnerSends sync.WaitGroup  // partners' asynchronous SMS replies
}

// maxCalendarBytes bounds an uploaded calendar (the largest real district
// response is well under 1 MiB).
const maxCalendarBytes = 32 << 20

// router builds the gateway's HTTP routes (the README lists them).
func (g *gateway) router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), g.metrics.middleware)
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", g.ready)
	r.GET("/metrics", gin.WrapH(g.metrics.handler()))

	if at, ok := g.atRoute(); ok {
		africastalking.Register(r, g.handler(), africastalking.Options{
			ScreenLimit: g.cfg.USSDLimit, UCS2Limit: g.cfg.USSDUCS2,
			Logger: g.log, OnTurn: g.metrics.onTurn,
			Allow: at.allow, TrustedProxies: at.trusted, BasicAuth: at.basicAuth,
		})
	}
	if g.cfg.TwilioToken != "" {
		twilio.Register(r, g.handler(), twilio.Options{
			AuthToken: g.cfg.TwilioToken, PublicURL: g.cfg.PublicURL, Logger: g.log,
			OnTurn: g.metrics.onTurn, OnStatus: g.smsStatus,
		})
	}
	if g.partners != nil {
		partner.Register(r, g.handler(), *g.partners, partner.Options{
			Logger: g.log, OnTurn: g.metrics.onTurn, Busy: g.engine.Busy, Pending: &g.partnerSends,
		})
	}
	if g.outbox != nil {
		g.outbox.Register(r)
	}
	if g.cfg.AdminToken != "" {
		admin := r.Group("/admin/v1", g.adminAuth)
		admin.GET("/stats", g.stats)
		admin.GET("/queue", g.queueState)
		admin.POST("/calendar", g.importCalendar)
	}
	return r
}

// loopback is where the embedded demo's Africa's Talking route may be
// called from without settings: the sim and tests on this machine.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// atRoute decides who may call the Africa's Talking route, whose requests
// are not signed and name the caller they act for: those the settings
// allow; without settings, loopback clients in the embedded demo and nobody
// in production (ok false: the route is not mounted, and the log says why).
func (g *gateway) atRoute() (at atRestrictions, ok bool) {
	at, err := g.cfg.atAccess()
	if err != nil { // config.check refuses this before the start
		g.log.Error("POST "+africastalking.Path+" not mounted", "err", err)
		return at, false
	}
	switch {
	case len(at.allow) > 0 || at.basicAuth != "":
		return at, true
	case g.cfg.RedisURL != "":
		g.log.Warn("POST " + africastalking.Path + " not mounted: Africa's Talking does not sign its callbacks, so anyone could act for any phone number; " +
			"set TIKASETU_AT_ALLOW (the aggregator's networks) or TIKASETU_AT_BASIC_AUTH (credentials in the callback URL) to mount it")
		return at, false
	}
	g.log.Info("POST " + africastalking.Path + " open to loopback clients only (embedded demo); set TIKASETU_AT_ALLOW to call it from elsewhere")
	at.allow = loopback
	return at, true
}

// smsStatus takes Twilio's delivery reports: counted, and a failed code
// recorded so that the caller's OTP screen offers a new one at once.
func (g *gateway) smsStatus(ev twilio.StatusEvent) {
	g.metrics.smsStatus.WithLabelValues(ev.Status).Inc()
	if ev.Status != "failed" && ev.Status != "undelivered" {
		return
	}
	g.undelivered(ev.To, ev.Ref)
}

// handler is the engine behind admission control, built once, its turns
// watched for the USSD-to-SMS hand-off (handoff.go).
func (g *gateway) handler() dialog.Handler {
	if g.gate == nil {
		if g.cfg.MaxInflight <= 0 {
			return g.handoff.wrap(g.engine)
		}
		g.gate = admission.New(g.engine, g.cfg.MaxInflight, g.cfg.TargetInflight, g.engine.Busy, g.metrics.reg)
		if g.cfg.MaxJourneys > 0 {
			g.gate.FixJourneys(g.cfg.MaxJourneys)
		}
		if g.cfg.Queue {
			g.gate.SetQueue(g.store, g.engine.Queued, g.log)
		}
	}
	return g.handoff.wrap(g.gate)
}

// readyTimeout bounds /readyz: the answer comes within it, 503 when the
// store has not answered by then.
const readyTimeout = time.Second

func (g *gateway) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	// The ping runs aside and is not waited for past the deadline: the Redis
	// client may hold a call well beyond its context (socket timeouts,
	// retries), and a late answer is no answer for a load balancer.
	done := make(chan error, 1)
	go func() { done <- g.store.Ping(ctx) }()
	select {
	case err := <-done:
		if err == nil && ctx.Err() == nil {
			c.String(http.StatusOK, "ready\n")
			return
		}
	case <-ctx.Done():
	}
	c.String(http.StatusServiceUnavailable, "store not answering\n")
}

// adminAuth requires "Authorization: Bearer <TIKASETU_ADMIN_TOKEN>".
func (g *gateway) adminAuth(c *gin.Context) {
	got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(g.cfg.AdminToken)) != 1 {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "bearer token required"})
		return
	}
	c.Next()
}

func (g *gateway) stats(c *gin.Context) {
	s, err := g.store.Stats(c.Request.Context())
	if err != nil {
		g.log.Error("stats", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "store not answering"})
		return
	}
	c.JSON(http.StatusOK, s)
}

// importCalendar takes a Co-WIN calendar response, as `tikasetu import`
// does; ?shift_dates=1 moves the earliest date to tomorrow.
func (g *gateway) importCalendar(c *gin.Context) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxCalendarBytes)
	centres, err := cowin.Parse(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.JSON(http.StatusRequestEntityTooLarge, gin.H{"error": "calendar larger than 32 MiB"})
			return
		}
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	if v := c.Query("shift_dates"); v == "1" || v == "true" {
		cowin.ShiftDates(centres, tomorrow(g.clock.Now()))
	}
	res, err := g.calendar.ImportCentres(c.Request.Context(), centres)
	if err != nil {
		g.log.Error("calendar import", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "store not answering"})
		return
	}
	g.alertImported(c.Request.Context(), centres) // seat alerts where seats are free (alerts.go)
	c.JSON(http.StatusOK, res)
}

// tomorrow is the next calendar day in India.
func tomorrow(now time.Time) time.Time {
	y, m, d := now.In(dialog.IST).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, dialog.IST)
}
