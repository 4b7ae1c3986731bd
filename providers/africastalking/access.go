package africastalking

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tikasetu/tikasetu/providers/internal/clientip"
)

// ParseNetworks reads the comma-separated form of Options.Allow and
// Options.TrustedProxies: CIDRs and bare addresses (one address, /32 or
// /128), e.g. "196.201.214.0/24, 2001:db8::7". A blank string is no
// networks.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	return clientip.Parse(s)
}

// CheckBasicAuth reports whether s is a usable Options.BasicAuth:
// "user:password", both parts non-empty and the user without a colon (the
// first colon separates them, as in a URL's user information).
func CheckBasicAuth(s string) error {
	user, pass, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return errors.New(`must be "user:password" (no colon found)`)
	case user == "" || pass == "":
		return errors.New(`must be "user:password" with neither part empty`)
	}
	return nil
}

// guard refuses requests from outside Options.Allow (403) and without the
// credentials of Options.BasicAuth (401), before the handler runs.
type guard struct {
	allow, trusted []netip.Prefix
	// Hashes of the expected credentials: comparing hashes of equal length
	// in constant time tells nothing of the credentials' length either.
	user, pass [sha256.Size]byte
	auth       bool
	log        *slog.Logger
}

func newGuard(opt Options) (*guard, error) {
	g := &guard{allow: opt.Allow, trusted: opt.TrustedProxies, log: opt.Logger}
	if opt.BasicAuth != "" {
		if err := CheckBasicAuth(opt.BasicAuth); err != nil {
			return nil, errors.New("BasicAuth " + err.Error())
		}
		user, pass, _ := strings.Cut(opt.BasicAuth, ":")
		g.user, g.pass, g.auth = sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass)), true
	}
	return g, nil
}

func (g *guard) check(c *gin.Context) {
	r := c.Request
	if len(g.allow) > 0 {
		addr, ok := clientip.Of(r, g.trusted)
		if !ok || !clientip.Contains(g.allow, addr) {
			client := "unreadable"
			if ok {
				client = addr.String()
			}
			g.log.Warn("ussd request refused: client address not allowed", "provider", Name,
				"client", client, "peer", r.RemoteAddr)
			c.Data(http.StatusForbidden, contentType, []byte("forbidden\n"))
			c.Abort()
			return
		}
	}
	if g.auth {
		user, pass, ok := r.BasicAuth()
		u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
		match := subtle.ConstantTimeCompare(u[:], g.user[:]) & subtle.ConstantTimeCompare(p[:], g.pass[:])
		if !ok || match != 1 {
			g.log.Warn("ussd request refused: basic auth missing or wrong", "provider", Name,
				"peer", r.RemoteAddr, "credentials_sent", ok)
			c.Header("WWW-Authenticate", `Basic realm="tikasetu", charset="UTF-8"`)
			c.Data(http.StatusUnauthorized, contentType, []byte("unauthorized\n"))
			c.Abort()
			return
		}
	}
	c.Next()
}
