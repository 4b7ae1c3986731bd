package main

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series. It implements dialog.Observer.
type metrics struct {
	reg       *prometheus.Registry
	turns     *prometheus.CounterVec
	outcomes  *prometheus.CounterVec
	failures  *prometheus.CounterVec
	requests  *prometheus.HistogramVec
	smsStatus *prometheus.CounterVec
	smsQueued prometheus.Gauge
	smsOldest prometheus.Gauge

	// The children of the vectors counted on every request, by their
	// label values (see children).
	turnsBy    children[[2]string, prometheus.Counter]
	outcomesBy children[string, prometheus.Counter]
	requestsBy children[routeCode, prometheus.Observer]
}

type routeCode struct {
	route string
	code  int
}

// children finds a vector's child by its label values with a read lock and
// one map lookup. The vector's own WithLabelValues hashes and compares the
// values on every call and formats the status code; on the per-request
// path that took 2% of the gateway's CPU. The label values come from
// small fixed sets (routes, screens, outcomes), so the map stays small.
type children[K comparable, M any] struct {
	mu   sync.RWMutex
	m    map[K]M
	make func(K) M
}

func (c *children[K, M]) get(k K) M {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = c.make(k)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[K]M)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_turns_total", Help: "Turns answered, by provider and the screen shown.",
		}, []string{"provider", "screen"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_outcomes_total", Help: "Outcomes: registered, booked, cancelled, otp_sent, otp_refused_<reason> (cooldown, hourly: the number's limits; other_numbers: the caller's budget; rate: the provider's or overall rate), slip_again, alert_subscribed and alert_sent (seat alerts), sms_sent, sms_retried, sms_expired and sms_rejected (the queue's deliveries), sms_undelivered (reported by the SMS gateway), dlt_refused (no matching DLT template: not sent), smpp_* (the smpp sender's submits, binds, throttling and receipts by status), handoff_sent, handoff_limited (one went within the hour), handoff_failed and handoff_untracked (too many sessions watched) (the SMS after a dropped USSD session), conflict, peek_stale and peek_refused (turns started from the conversation kept in memory and run again from Redis).",
		}, []string{"outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tikasetu_turn_failures_total", Help: "Turns answered with the busy screen because of an error or the deadline, by provider.",
		}, []string{"provider"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tikasetu_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"route", "code"}),
	}
	m.smsStatus = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tikasetu_sms_status_total", Help: "SMS delivery reports from Twilio, by status.",
	}, []string{"status"})
	m.smsQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tikasetu_sms_queue_depth", Help: "SMS in the queue in Redis, not yet delivered nor given up (every gateway's).",
	})
	m.smsOldest = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tikasetu_sms_queue_oldest_seconds", Help: "Age of the oldest SMS in the queue.",
	})
	m.turnsBy.make = func(k [2]string) prometheus.Counter { return m.turns.WithLabelValues(k[0], k[1]) }
	m.outcomesBy.make = func(k string) prometheus.Counter { return m.outcomes.WithLabelValues(k) }
	m.requestsBy.make = func(k routeCode) prometheus.Observer {
		return m.requests.WithLabelValues(k.route, strconv.Itoa(k.code))
	}
	m.reg.MustRegister(m.turns, m.outcomes, m.failures, m.requests, m.smsStatus, m.smsQueued, m.smsOldest,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Screen implements dialog.Observer.
func (m *metrics) Screen(provider, state string) { m.turnsBy.get([2]string{provider, state}).Inc() }

// Count implements dialog.Observer.
func (m *metrics) Count(outcome string) { m.outcomesBy.get(outcome).Inc() }

// onTurn is the providers' hook: a turn that ended on the busy screen.
func (m *metrics) onTurn(provider string, ok bool) {
	if !ok {
		m.failures.WithLabelValues(provider).Inc()
	}
}

// middleware times every request by its route pattern.
func (m *metrics) middleware(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requestsBy.get(routeCode{route, c.Writer.Status()}).Observe(time.Since(start).Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
