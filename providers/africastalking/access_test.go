package africastalking

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/tikasetu/tikasetu/dialog"
	"github.com/tikasetu/tikasetu/providers/internal/providertest"
)

// TestAccess calls the route over real HTTP from loopback (the TCP peer is
// 127.0.0.1), with allow lists, trusted proxies and credentials around that.
func TestAccess(t *testing.T) {
	nets := func(s string) []netip.Prefix {
		p, err := ParseNetworks(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		opt      Options
		xff      []string
		userinfo *url.Userinfo // credentials in the URL, as Africa's Talking sends them
		code     int
	}{
		{name: "no restriction", code: http.StatusOK},
		{name: "peer in an allowed CIDR", opt: Options{Allow: nets("10.0.0.0/8, 127.0.0.0/8")}, code: http.StatusOK},
		{name: "peer as a bare allowed address", opt: Options{Allow: nets("127.0.0.1")}, code: http.StatusOK},
		{name: "peer outside the allowed networks", opt: Options{Allow: nets("192.0.2.0/24")}, code: http.StatusForbidden},
		{name: "X-Forwarded-For from an untrusted peer is ignored", opt: Options{Allow: nets("192.0.2.0/24")},
			xff: []string{"192.0.2.10"}, code: http.StatusForbidden},
		{name: "X-Forwarded-For from an untrusted peer does not refuse it either", opt: Options{Allow: nets("127.0.0.1")},
			xff: []string{"203.0.113.9"}, code: http.StatusOK},
		{name: "X-Forwarded-For through a trusted proxy is honoured", opt: Options{Allow: nets("192.0.2.0/24"), TrustedProxies: nets("127.0.0.1")},
			xff: []string{"192.0.2.10"}, code: http.StatusOK},
		{name: "through a trusted proxy, a client outside is refused", opt: Options{Allow: nets("192.0.2.0/24, 127.0.0.1"), TrustedProxies: nets("127.0.0.1")},
			xff: []string{"203.0.113.9"}, code: http.StatusForbidden},
		{name: "through a trusted proxy, a forged left-most entry is not the client", opt: Options{Allow: nets("192.0.2.0/24"), TrustedProxies: nets("127.0.0.1")},
			xff: []string{"192.0.2.10, 203.0.113.9"}, code: http.StatusForbidden},
		{name: "through a trusted proxy, an unreadable client is refused", opt: Options{Allow: nets("192.0.2.0/24"), TrustedProxies: nets("127.0.0.1")},
			xff: []string{"unknown"}, code: http.StatusForbidden},
		{name: "basic auth good", opt: Options{BasicAuth: "at:s3cret:with:colons"},
			userinfo: url.UserPassword("at", "s3cret:with:colons"), code: http.StatusOK},
		{name: "basic auth wrong password", opt: Options{BasicAuth: "at:s3cret"},
			userinfo: url.UserPassword("at", "s3cret!"), code: http.StatusUnauthorized},
		{name: "basic auth wrong user", opt: Options{BasicAuth: "at:s3cret"},
			userinfo: url.UserPassword("ta", "s3cret"), code: http.StatusUnauthorized},
		{name: "basic auth missing", opt: Options{BasicAuth: "at:s3cret"}, code: http.StatusUnauthorized},
		{name: "both: allowed and credentials good", opt: Options{Allow: nets("127.0.0.0/8"), BasicAuth: "at:s3cret"},
			userinfo: url.UserPassword("at", "s3cret"), code: http.StatusOK},
		{name: "both: credentials good, address outside", opt: Options{Allow: nets("192.0.2.0/24"), BasicAuth: "at:s3cret"},
			userinfo: url.UserPassword("at", "s3cret"), code: http.StatusForbidden},
		{name: "both: address allowed, credentials missing", opt: Options{Allow: nets("127.0.0.0/8"), BasicAuth: "at:s3cret"},
			code: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &providertest.Handler{Reply: dialog.Reply{Text: "ok"}}
			rig := newRig(t, h, tt.opt)
			req := post(form("ATUid_x", "+919876543210", ""))
			req.URL.User = tt.userinfo
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := rig.Do(t, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.code, rec.Body)
			}
			calls, turns := len(h.Calls()), len(rig.Outcomes())
			if tt.code != http.StatusOK {
				if calls != 0 || turns != 0 {
					t.Errorf("a refused request reached the handler (%d calls, %d turns)", calls, turns)
				}
			} else if calls != 1 || rec.Body.String() != "CON ok" {
				t.Errorf("an admitted request: %d handler calls, body %q", calls, rec.Body)
			}
			challenge := rec.Header().Get("WWW-Authenticate")
			if wantChallenge := tt.code == http.StatusUnauthorized; wantChallenge != strings.HasPrefix(challenge, "Basic ") {
				t.Errorf("WWW-Authenticate %q with status %d", challenge, rec.Code)
			}
			logs := rig.Logs.String()
			if strings.Contains(logs, "s3cret") || strings.Contains(logs, "9876543210") {
				t.Errorf("log holds a password or a full number: %s", logs)
			}
			if tt.code != http.StatusOK && !strings.Contains(logs, "refused") {
				t.Errorf("a refusal not logged: %s", logs)
			}
		})
	}
}

func TestCheckBasicAuth(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"user:password", true},
		{"user:pass:word", true},
		{"user", false},
		{":password", false},
		{"user:", false},
	}
	for _, tt := range tests {
		if err := CheckBasicAuth(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckBasicAuth(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

// A BasicAuth that CheckBasicAuth refuses stops Register rather than mounting
// a route no request could pass, or one any request could.
func TestRegisterRefusesBadBasicAuth(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Register accepted BasicAuth without a colon")
		}
	}()
	newRig(t, &providertest.Handler{}, Options{BasicAuth: "nocolon"})
}
