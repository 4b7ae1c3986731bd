// Package outbound holds what the HTTP SMS senders (providers/smshttp and
// the Twilio sender) share: the transport they post through, how they read
// a status (a refusal of the message, a status worth retrying, a
// Retry-After) and how they retry one message (Retry).
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

// Refused reports whether an HTTP status refuses the message itself (400,
// 413, 422), which no retry changes. A refused credential (401, 403) is
// not: that is the operator's to fix, and the message waits for it.
func Refused(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge || status == http.StatusUnprocessableEntity
}
