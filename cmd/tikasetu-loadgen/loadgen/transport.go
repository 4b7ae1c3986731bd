package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// Transport is the generator's http.RoundTripper for plain HTTP/1.1 with
// keep-alive: each request is written, and its answer read, on the caller's
// goroutine over a pooled connection.
//
// net/http's Transport gives every connection two goroutines of its own, one
// writing requests and one reading answers, and hands each request to both
// and back. The generator shares its machine with the gateway, so the CPU
// those hand-offs take is taken from the gateway, the more so for a caller
// turned away, whose whole cost is its HTTP. The wire format is still
// net/http's own: Request.Write and ReadResponse.
//
// Other schemes (https) go to Fallback.
type Transport struct {
	// MaxIdle bounds the idle connections kept per host.
	MaxIdle int
	// Fallback carries requests that are not plain http.
	Fallback http.RoundTripper

	dialer net.Dialer
	mu     sync.Mutex
	idle   map[string][]*pooledConn // by host:port, most recently used last
}

// NewTransport returns a Transport keeping up to maxIdle idle connections
// per host, with a net/http Transport as its fallback.
func NewTransport(maxIdle int) *Transport {
	t := &Transport{
		MaxIdle: maxIdle,
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
	}
	t.Fallback = &http.Transport{
		DialContext:  t.dialer.DialContext, // the same dial timeout and keep-alive
		MaxIdleConns: maxIdle, MaxIdleConnsPerHost: maxIdle,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}
	return t
}

type pooledConn struct {
	net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// aLongTimeAgo is a deadline that has passed: setting it makes a blocked
// read or write return at once.
var aLongTimeAgo = time.Unix(1, 0)

// RoundTrip sends req and reads the answer's header; the body is read from
// the connection as the caller reads it, and the connection goes back to
// the pool when the body has been read to its end and closed. The request's
// context deadline is the connection's deadline, for the body too; when the
// context ends the request ends with it.
//
// A request on a reused connection that the server had closed (nothing came
// back) is sent once more on a new connection, as net/http does.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		if t.Fallback == nil {
			closeBody(req)
			return nil, fmt.Errorf("loadgen transport: scheme %q not supported", req.URL.Scheme)
		}
		return t.Fallback.RoundTrip(req)
	}
	addr := req.URL.Host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		c, reused, err := t.conn(ctx, addr)
		if err != nil {
			closeBody(req)
			return nil, ctxErr(ctx, err)
		}
		resp, err := t.exchange(ctx, c, addr, req)
		if err == nil {
			return resp, nil
		}
		c.Close()
		if !reused || attempt > 0 || !closedByPeer(err) || req.GetBody == nil || ctx.Err() != nil {
			return nil, err
		}
		again := *req
		if again.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("loadgen transport: request body again: %w", err)
		}
		req = &again
	}
}

// closeBody closes a request's body that was not sent: a RoundTripper
// closes it either way.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// exchange writes req on c and reads the answer's header.
func (t *Transport) exchange(ctx context.Context, c *pooledConn, addr string, req *http.Request) (*http.Response, error) {
	deadline, _ := ctx.Deadline() // zero: none
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("loadgen transport: set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err == nil {
		_, err = c.br.Peek(1) // io.EOF here: the server had closed the connection
	}
	var resp *http.Response
	if err == nil {
		resp, err = http.ReadResponse(c.br, req)
	}
	if err != nil {
		stop()
		return nil, ctxErr(ctx, err)
	}
	resp.Body = &pooledBody{rc: resp.Body, c: c, t: t, addr: addr, ctx: ctx, stop: stop, keep: !resp.Close}
	return resp, nil
}

// conn returns an idle connection to addr, or a new one.
func (t *Transport) conn(ctx context.Context, addr string) (*pooledConn, bool, error) {
	t.mu.Lock()
	if l := t.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		l[len(l)-1] = nil
		t.idle[addr] = l[:len(l)-1]
		t.mu.Unlock()
		return c, true, nil
	}
	t.mu.Unlock()
	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, fmt.Errorf("loadgen transport: dial %s: %w", addr, err)
	}
	return &pooledConn{Conn: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, false, nil
}

// put keeps c for the next request to addr, or closes it when MaxIdle are
// already kept.
func (t *Transport) put(addr string, c *pooledConn) {
	t.mu.Lock()
	if t.idle == nil {
		t.idle = make(map[string][]*pooledConn)
	}
	if len(t.idle[addr]) < t.MaxIdle {
		t.idle[addr] = append(t.idle[addr], c)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	c.Close()
}

// CloseIdleConnections closes the connections kept idle, here and in the
// fallback; http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, l := range idle {
		for _, c := range l {
			c.Close()
		}
	}
	if f, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

// pooledBody is an answer's body; closing it after reading it to its end
// gives the connection back to the pool.
type pooledBody struct {
	rc   io.ReadCloser
	c    *pooledConn
	t    *Transport
	addr string
	ctx  context.Context
	stop func() bool // unregisters the context's hook
	keep bool        // the answer allows another request on the connection
	eof  bool
	done bool
}

func (b *pooledBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		err = ctxErr(b.ctx, err)
	}
	return n, err
}

// Close reads what is left of a short body (up to 64 KiB) so that the
// connection can serve again; otherwise, or when the context ended or the
// answer said "Connection: close", the connection is closed.
func (b *pooledBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	var err error
	if !b.eof {
		_, err = io.Copy(io.Discard, io.LimitReader(b, 64<<10))
	}
	hooked := b.stop() // false: the context ended and set a past deadline
	b.rc.Close()
	if b.eof && err == nil && hooked && b.keep {
		b.t.put(b.addr, b.c)
		return nil
	}
	return b.c.Close()
}

// ctxErr says why a request failed when its context is the reason: a
// connection deadline that is the context's deadline reads as
// context.DeadlineExceeded, as net/http's Transport reports it.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	if _, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

// closedByPeer reports whether err is what a request gets on a kept
// connection that the server closed meanwhile: nothing read back, or the
// write refused.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
