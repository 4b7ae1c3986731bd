package main

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The cached children count into the series WithLabelValues names, from
// many goroutines at once.
func TestMetricsChildren(t *testing.T) {
	m := newMetrics()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				m.Screen("africastalking", "home")
				m.Screen("twilio", "home")
				m.Count("booked")
			}
		})
	}
	wg.Wait()
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"turns africastalking home", testutil.ToFloat64(m.turns.WithLabelValues("africastalking", "home")), 800},
		{"turns twilio home", testutil.ToFloat64(m.turns.WithLabelValues("twilio", "home")), 800},
		{"turns africastalking lang", testutil.ToFloat64(m.turns.WithLabelValues("africastalking", "lang")), 0},
		{"outcome booked", testutil.ToFloat64(m.outcomes.WithLabelValues("booked")), 800},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// The middleware times each request under its route and status.
func TestMetricsMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := newMetrics()
	r := gin.New()
	r.Use(m.middleware)
	r.GET("/ok", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.GET("/teapot", func(c *gin.Context) { c.Status(http.StatusTeapot) })
	for _, path := range []string{"/ok", "/ok", "/teapot", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	counts := map[[2]string]uint64{}
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "tikasetu_http_request_duration_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			var k [2]string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case "route":
					k[0] = l.GetValue()
				case "code":
					k[1] = l.GetValue()
				}
			}
			counts[k] = mt.GetHistogram().GetSampleCount()
		}
	}
	want := map[[2]string]uint64{{"/ok", "200"}: 2, {"/teapot", "418"}: 1, {"unmatched", "404"}: 1}
	if !maps.Equal(counts, want) {
		t.Errorf("requests timed %v, want %v", counts, want)
	}
}
