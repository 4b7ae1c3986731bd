// Package outbound builds the HTTP transport the SMS senders post through.
//
// http.DefaultTransport keeps two idle connections per host. A gateway
// sending hundreds of OTPs a second from concurrent goroutines would then
// open (and, over HTTPS, handshake) a new connection for nearly every
// message and leave thousands of sockets in TIME_WAIT. Senders keep a pool
// of their own instead.
package outbound

import (
	"net"
	"net/http"
	"time"
)

// IdlePerHost is how many idle connections a sender keeps to its SMS
// gateway: enough for the messages of a busy second to reuse them.
const IdlePerHost = 64

// Transport returns a new transport with http.DefaultTransport's dial,
// proxy and timeout settings and a pool of IdlePerHost idle connections.
func Transport() *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * IdlePerHost,
		MaxIdleConnsPerHost:   IdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}
