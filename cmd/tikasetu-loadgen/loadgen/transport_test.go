package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func echoForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "CON %s %s", r.Method, r.PostForm.Get("text"))
}

func postText(ctx context.Context, t *testing.T, c *http.Client, url, text string) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("text="+text))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(body), err
}

// TestTransportKeepsConnections: answers come back right, and requests in a
// row or in bursts reuse connections instead of dialling one each; a body
// left unread still lets its connection serve again.
func TestTransportKeepsConnections(t *testing.T) {
	tests := []struct {
		name      string
		burst     int // requests at once
		rounds    int
		readBody  bool
		maxIdle   int
		wantConns int64 // at most
	}{
		{"in a row", 1, 30, true, 100, 1},
		{"bursts of 8", 8, 10, true, 100, 8},
		{"body not read", 1, 10, false, 100, 1},
		{"idle bounded", 8, 10, true, 2, 8 * 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, conns := countingServer(t, echoForm)
			c := &http.Client{Transport: NewTransport(tt.maxIdle)}
			for r := range tt.rounds {
				var wg sync.WaitGroup
				errs := make(chan error, tt.burst)
				for i := range tt.burst {
					wg.Go(func() {
						text := fmt.Sprintf("%d-%d", r, i)
						req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("text="+text))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						resp, err := c.Do(req)
						if err != nil {
							errs <- err
							return
						}
						defer resp.Body.Close()
						if !tt.readBody {
							return
						}
						body, err := io.ReadAll(resp.Body)
						if err != nil || string(body) != "CON POST "+text {
							errs <- fmt.Errorf("answer %q, %v; want %q", body, err, "CON POST "+text)
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
			}
			got := conns.Load()
			if got > tt.wantConns {
				t.Errorf("%d connections for %d requests, want at most %d", got, tt.burst*tt.rounds, tt.wantConns)
			}
			if tt.maxIdle < tt.burst && got <= int64(tt.burst) {
				t.Errorf("%d connections with %d idle kept and bursts of %d: idle connections were not bounded", got, tt.maxIdle, tt.burst)
			}
		})
	}
}

// TestTransportEndsWithTheContext: a request whose context deadline passes
// fails with context.DeadlineExceeded (as net/http's Transport reports it,
// which is how journeys tell a timeout from an error), one whose context is
// cancelled fails with context.Canceled, in both cases without waiting for
// the slow server; and the connection is not used again.
func TestTransportEndsWithTheContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var slowAnswered atomic.Int64 // only after 10 s, or at the end of the test
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			slowAnswered.Add(1)
		}
		echoForm(w, r)
	})
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Transport: NewTransport(10)}
			if _, err := postText(context.Background(), t, c, srv.URL, "warm"); err != nil {
				t.Fatal(err)
			}
			before := conns.Load()
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := postText(ctx, t, c, srv.URL+"/slow", "x")
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if n := slowAnswered.Load(); n != 0 {
				t.Errorf("the slow server had answered %d times: the request waited for it, not for the context", n)
			}
			if _, err := postText(context.Background(), t, c, srv.URL, "after"); err != nil {
				t.Fatal(err)
			}
			if got := conns.Load() - before; got != 1 {
				t.Errorf("%d new connections after the failed request, want 1 (the failed one not reused)", got)
			}
		})
	}
}

// TestTransportResendsOnAClosedKeptConnection: a server that closes a kept
// connection without saying so (as one does after its idle timeout) costs
// the next request nothing but a new connection; a connection that fails
// while new is not retried.
func TestTransportResendsOnAClosedKeptConnection(t *testing.T) {
	tests := []struct {
		name      string
		answers   int // requests a connection answers before it is closed silently
		wantErr   bool
		wantConns int64
	}{
		{"closed after one answer", 1, false, 2},
		{"closed before any answer", 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var conns atomic.Int64
			go func() {
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					conns.Add(1)
					go func() {
						defer nc.Close()
						br := bufio.NewReader(nc)
						for range tt.answers {
							req, err := http.ReadRequest(br)
							if err != nil {
								return
							}
							io.Copy(io.Discard, req.Body)
							io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nCON ok")
						}
					}()
				}
			}()
			c := &http.Client{Transport: NewTransport(10)}
			url := "http://" + ln.Addr().String()
			if tt.answers > 0 {
				if got, err := postText(context.Background(), t, c, url, "1"); err != nil || got != "CON ok" {
					t.Fatalf("first request: %q, %v", got, err)
				}
				time.Sleep(50 * time.Millisecond) // the server closes the connection
			}
			got, err := postText(context.Background(), t, c, url, "2")
			if tt.wantErr != (err != nil) {
				t.Fatalf("second request: %q, %v; want error %v", got, err, tt.wantErr)
			}
			if !tt.wantErr && got != "CON ok" {
				t.Errorf("second request answered %q", got)
			}
			if n := conns.Load(); n != tt.wantConns {
				t.Errorf("%d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

// TestTransportFallsBackForHTTPS: an https URL goes to the fallback
// transport; with none, it is refused with a clear error.
func TestTransportFallsBackForHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(echoForm))
	defer srv.Close()
	tr := NewTransport(10)
	tr.Fallback = srv.Client().Transport
	if got, err := postText(context.Background(), t, &http.Client{Transport: tr}, srv.URL, "tls"); err != nil || got != "CON POST tls" {
		t.Fatalf("through the fallback: %q, %v", got, err)
	}
	tr.Fallback = nil
	if _, err := postText(context.Background(), t, &http.Client{Transport: tr}, srv.URL, "tls"); err == nil || !strings.Contains(err.Error(), `scheme "https"`) {
		t.Fatalf("without a fallback: %v, want the scheme refused", err)
	}
}

// closeRecorder is a request body that records being closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// TestTransportClosesTheBodyItDidNotSend: a request that never reaches the
// wire (nobody listening; a scheme with no fallback) fails and its body is
// closed, as http.RoundTripper requires.
func TestTransportClosesTheBodyItDidNotSend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct{ name, url string }{
		{"nobody listening", closedPort},
		{"https without a fallback", "https://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTransport(10)
			tr.Fallback = nil
			body := &closeRecorder{Reader: strings.NewReader("text=1")}
			req, err := http.NewRequest(http.MethodPost, tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.RoundTrip(req); err == nil {
				t.Fatal("no error")
			}
			if !body.closed {
				t.Error("request body left open")
			}
		})
	}
}
