package clientip

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []string // "" entries: none
		err  bool
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: "192.0.2.7", want: []string{"192.0.2.7/32"}},
		{in: "2001:db8::1", want: []string{"2001:db8::1/128"}},
		{in: " 10.1.2.3/8 , 2001:db8::/32,", want: []string{"10.0.0.0/8", "2001:db8::/32"}},
		{in: "::ffff:192.0.2.0/120", want: []string{"192.0.2.0/24"}},
		{in: "::ffff:192.0.2.9", want: []string{"192.0.2.9/32"}},
		{in: ",", err: true},
		{in: "10.0.0.0/33", err: true},
		{in: "10.0.0", err: true},
		{in: "example.com", err: true},
		{in: "10.0.0.0/8;10.1.0.0/16", err: true},
		{in: "fe80::1%eth0", err: true},
		{in: "10.0.0.0/8,nope", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("Parse(%q) error %v, want error %v", tt.in, err, tt.err)
			}
			var gs []string
			for _, p := range got {
				gs = append(gs, p.String())
			}
			if !slices.Equal(gs, tt.want) {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, gs, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.200.0.1", true},
		{"11.0.0.1", false},
		{"2001:db8:1::5", true},
		{"2001:db9::5", false},
	}
	for _, tt := range tests {
		if got := Contains(nets, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if Contains(nil, netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty list contains an address")
	}
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1"} {
		if !Contains(Loopback, netip.MustParseAddr(a)) {
			t.Errorf("Loopback lacks %s", a)
		}
	}
}

func TestOf(t *testing.T) {
	trusted, err := Parse("10.0.0.0/8, 2001:db8:ff::/48")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		peer   string
		xff    []string // header lines
		want   string   // "" when the address cannot be read
		noList bool     // no trusted proxies at all
	}{
		{name: "peer, no header", peer: "192.0.2.1:1234", want: "192.0.2.1"},
		{name: "header from an untrusted peer is ignored", peer: "192.0.2.1:1234", xff: []string{"198.51.100.7"}, want: "192.0.2.1"},
		{name: "trusted peer: the header's right-most entry", peer: "10.0.0.2:1234", xff: []string{"203.0.113.5, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "trusted proxies in the chain are skipped", peer: "10.0.0.2:1234", xff: []string{"203.0.113.5, 198.51.100.7, 10.0.0.9"}, want: "198.51.100.7"},
		{name: "several header lines read as one list", peer: "10.0.0.2:1234", xff: []string{"203.0.113.5", "198.51.100.7, 10.1.1.1"}, want: "198.51.100.7"},
		{name: "a forged left-most entry does not win", peer: "10.0.0.2:1234", xff: []string{"127.0.0.1, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "every entry trusted: the left-most", peer: "10.0.0.2:1234", xff: []string{"10.0.0.7, 10.0.0.9"}, want: "10.0.0.7"},
		{name: "trusted peer without a header: the peer", peer: "10.0.0.2:1234", want: "10.0.0.2"},
		{name: "entry with a port", peer: "10.0.0.2:1234", xff: []string{"198.51.100.7:4711"}, want: "198.51.100.7"},
		{name: "IPv6 entry in brackets with a port", peer: "[2001:db8:ff::1]:443", xff: []string{"[2001:db8:1::7]:4711"}, want: "2001:db8:1::7"},
		{name: "IPv4-mapped peer", peer: "[::ffff:192.0.2.1]:1234", want: "192.0.2.1"},
		{name: "unreadable entry before a client", peer: "10.0.0.2:1234", xff: []string{"unknown"}, want: ""},
		{name: "unreadable entry left of the client is not read", peer: "10.0.0.2:1234", xff: []string{"junk, 198.51.100.7"}, want: "198.51.100.7"},
		{name: "no trusted proxies", peer: "10.0.0.2:1234", xff: []string{"198.51.100.7"}, want: "10.0.0.2", noList: true},
		{name: "unreadable peer", peer: "pipe", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			tr := trusted
			if tt.noList {
				tr = nil
			}
			got, ok := Of(r, tr)
			if tt.want == "" {
				if ok {
					t.Fatalf("Of = %v, want unreadable", got)
				}
				return
			}
			if !ok || got != netip.MustParseAddr(tt.want) {
				t.Fatalf("Of = %v (%v), want %s", got, ok, tt.want)
			}
		})
	}
}
