// Package clientip finds the address of the client behind an HTTP request
// and matches it against lists of networks, for routes whose callers are
// known by their address rather than by a signature.
//
// The client is the TCP peer. X-Forwarded-For is read only when the peer is
// a trusted proxy, and then from the right: each trusted proxy appends the
// address it received the request from, so the right-most entry that is not
// itself a trusted proxy is the first one no trusted party vouches beyond.
// Entries to the left of it are whatever the client chose to send.
package clientip

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Parse reads a comma-separated list of networks: CIDRs ("10.0.0.0/8",
// "2001:db8::/32") and bare addresses (one address: /32 or /128). Blank
// entries are skipped, but a list that is not blank must name at least one
// network. IPv4-mapped IPv6 networks are read as IPv4 ones, as the addresses
// they are matched against are.
func Parse(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseOne(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 && strings.TrimSpace(s) != "" {
		return nil, errors.New("no network in the list")
	}
	return out, nil
}

func parseOne(item string) (netip.Prefix, error) {
	if strings.Contains(item, "%") {
		return netip.Prefix{}, fmt.Errorf("%q: zoned addresses are not supported", item)
	}
	if !strings.Contains(item, "/") {
		a, err := netip.ParseAddr(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR", item)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(item)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR", item)
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Loopback is 127.0.0.0/8 and ::1.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Contains reports whether a is in one of the networks.
func Contains(networks []netip.Prefix, a netip.Addr) bool {
	for _, p := range networks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of returns the address of the client that sent r: the TCP peer, or, when
// the peer is in trusted, the right-most address of X-Forwarded-For that is
// not itself in trusted (the left-most when all are; the peer when the header
// is absent). ok is false when the address cannot be read, for instance an
// entry of X-Forwarded-For that is not an address: such a request should be
// refused, not matched.
func Of(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = peer.Addr().Unmap().WithZone("")
	if !Contains(trusted, addr) {
		return addr, true
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		entries := strings.Split(hops[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			e := strings.TrimSpace(entries[j])
			if e == "" {
				continue
			}
			a, ok := parseHop(e)
			if !ok {
				return netip.Addr{}, false
			}
			addr = a
			if !Contains(trusted, a) {
				return addr, true
			}
		}
	}
	return addr, true
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711") or in brackets.
func parseHop(e string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(e); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
