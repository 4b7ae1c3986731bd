package outbound

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestTransportReusesConnections posts in bursts of concurrent requests and
// counts the connections the server accepts: a pool of two idle
// connections (http.DefaultTransport's) opens new ones for every burst;
// ours keeps them, and opens little more than one burst's worth.
func TestTransportReusesConnections(t *testing.T) {
	const burst, rounds = 32, 10
	tests := []struct {
		name      string
		transport http.RoundTripper
		maxConns  int64
		minConns  int64
	}{
		// A connection goes back to the idle pool from the transport's own
		// goroutine, just after its caller read the body: the next burst
		// may start before all are back and dial a few more. Kept ones
		// stay well under two bursts' worth; with two idle per host, every
		// burst but the first dials 30 new ones (over 300 in all).
		{"outbound", Transport(), 2 * burst, 1},
		{"two idle per host (http.DefaultTransport's default)", &http.Transport{MaxIdleConnsPerHost: 2}, 1 << 30, 4 * burst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := &http.Client{Transport: tt.transport}
			for range rounds {
				var wg sync.WaitGroup
				for range burst {
					wg.Go(func() {
						resp, err := c.Post(srv.URL, "application/json", nil)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					})
				}
				wg.Wait()
			}
			if n := conns.Load(); n > tt.maxConns || n < tt.minConns {
				t.Errorf("%d requests in bursts of %d opened %d connections, want %d..%d", burst*rounds, burst, n, tt.minConns, tt.maxConns)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{400, true}, {413, true}, {422, true},
		{401, false}, {403, false}, {404, false}, {429, false}, {500, false},
	}
	for _, tc := range tests {
		if got := Refused(tc.status); got != tc.want {
			t.Errorf("Refused(%d) = %v, want %v", tc.status, got, tc.want)
		}
	}
}
