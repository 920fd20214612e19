package server

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
)

func TestParseTrustedProxy(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8":          "10.0.0.0/8",
		"192.0.2.10":          "192.0.2.10/32",
		"128.0.0.0/1":         "128.0.0.0/1",
		"2001:db8::/32":       "2001:db8::/32",
		"2001:db8::1":         "2001:db8::1/128",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
	} {
		p, err := ParseTrustedProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	const syntax = "use a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or one address"
	const trustAll = "a /0 trusts every address, so any client could name its own in X-Forwarded-For and escape the per-address limits; give the networks of your proxies only"
	for in, want := range map[string]string{
		"":                          syntax,
		"10.0.0.0/33":               syntax,
		"10.0.0/8":                  syntax,
		"vault.example.com":         syntax,
		"fe80::1%eth0":              syntax,
		" 10.0.0.0/8":               syntax,
		"10.0.0.0/8,192.168.0.0/16": syntax,
		"0.0.0.0/0":                 trustAll,
		"::/0":                      trustAll,
		"::ffff:0.0.0.0/96":         trustAll,
		"10.1.2.3/0":                trustAll,
		"10.1.2.3/8":                "host bits are set: write 10.0.0.0/8 for the network, or 10.1.2.3 for one address",
		"2001:db8::1/64":            "host bits are set: write 2001:db8::/64 for the network, or 2001:db8::1 for one address",
	} {
		if p, err := ParseTrustedProxy(in); err == nil || err.Error() != want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want the error %q", in, p, err, want)
		}
	}
}

// Open refuses an invalid network and a /0; it clears host bits.
func TestOpenTrustedProxies(t *testing.T) {
	for _, c := range []struct {
		p    netip.Prefix
		want string
	}{
		{netip.Prefix{}, "trusted proxy: not a network: invalid Prefix"},
		{netip.MustParsePrefix("0.0.0.0/0"), "trusted proxy: a /0 trusts every address, so any client could name its own in X-Forwarded-For and escape the per-address limits; give the networks of your proxies only"},
		{netip.MustParsePrefix("::/0"), "trusted proxy: a /0 trusts every address, so any client could name its own in X-Forwarded-For and escape the per-address limits; give the networks of your proxies only"},
	} {
		if _, err := Open(context.Background(), Config{DataDir: t.TempDir(), TrustedProxies: []netip.Prefix{c.p}}); err == nil || err.Error() != c.want {
			t.Errorf("Open with trusted proxy %v: %v; want %q", c.p, err, c.want)
		}
	}
	s, err := Open(context.Background(), Config{DataDir: t.TempDir(), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := fmt.Sprint(s.proxies); got != "[10.0.0.0/8]" {
		t.Errorf("trusted proxies %s; want [10.0.0.0/8]", got)
	}
}

// The client's address, from the socket peer and X-Forwarded-For, with the
// proxies of 10.0.0.0/8 and 2001:db8:ffff::/48 trusted.
func TestClientIP(t *testing.T) {
	s := &Server{proxies: trustedProxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer, spoofed header ignored", "192.0.2.1:5000", []string{"198.51.100.9"}, "192.0.2.1"},
		{"untrusted peer, trusted address spoofed", "192.0.2.1:5000", []string{"198.51.100.9, 10.0.0.2"}, "192.0.2.1"},
		{"trusted peer, no header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"trusted peer, one client", "10.0.0.1:5000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client's own entries are not believed", "10.0.0.1:5000", []string{"203.0.113.1, 198.51.100.9"}, "198.51.100.9"},
		{"chain of proxies", "10.0.0.1:5000", []string{"203.0.113.1, 198.51.100.9, 10.0.0.2, 10.0.0.3"}, "198.51.100.9"},
		{"one header line per proxy", "10.0.0.1:5000", []string{"203.0.113.1, 198.51.100.9", "10.0.0.2"}, "198.51.100.9"},
		{"every entry trusted: the leftmost", "10.0.0.1:5000", []string{"10.0.0.5, 10.0.0.2"}, "10.0.0.5"},
		{"spaces and tabs", "10.0.0.1:5000", []string{" 198.51.100.9 ,\t10.0.0.2 "}, "198.51.100.9"},
		{"garbage from a proxy", "10.0.0.1:5000", []string{"198.51.100.9, garbage"}, "10.0.0.1"},
		{"garbage left of the client is not read", "10.0.0.1:5000", []string{"garbage, 198.51.100.9"}, "198.51.100.9"},
		{"empty entry", "10.0.0.1:5000", []string{"198.51.100.9, , 10.0.0.2"}, "10.0.0.1"},
		{"empty header line", "10.0.0.1:5000", []string{""}, "10.0.0.1"},
		{"address with a port", "10.0.0.1:5000", []string{"198.51.100.9:4711"}, "10.0.0.1"},
		{"address with a zone", "10.0.0.1:5000", []string{"fe80::1%eth0"}, "10.0.0.1"},
		{"IPv6 client", "10.0.0.1:5000", []string{"2001:db8:1:2::7"}, "2001:db8:1:2::7"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:5000", []string{"198.51.100.9, 2001:db8:ffff::2"}, "198.51.100.9"},
		{"IPv6 peer outside the trusted network", "[2001:db8:fffe::1]:5000", []string{"198.51.100.9"}, "2001:db8:fffe::1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:5000", []string{"198.51.100.9"}, "198.51.100.9"},
		{"IPv4-mapped entries", "10.0.0.1:5000", []string{"::ffff:198.51.100.9, ::ffff:10.0.0.2"}, "198.51.100.9"},
	} {
		r := &http.Request{RemoteAddr: c.remote, Header: http.Header{}}
		if c.xff != nil {
			r.Header["X-Forwarded-For"] = c.xff
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("%s: clientIP = %s; want %s", c.name, got, c.want)
		}
	}
}

// A forwarded IPv6 client is keyed by its /64, as a direct one is.
func TestClientNetForwarded(t *testing.T) {
	s := &Server{proxies: trustedProxies{netip.MustParsePrefix("10.0.0.0/8")}}
	r := &http.Request{RemoteAddr: "10.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"2001:db8:1:2:3:4:5:6"}}}
	if got := s.clientNet(r); got != "2001:db8:1:2::/64" {
		t.Errorf("clientNet = %s; want 2001:db8:1:2::/64", got)
	}
}

// The rate limits key on the forwarded client when the peer is a trusted
// proxy, and on the peer otherwise, whatever the header says. The request
// log's client_ip is the same address.
func TestRateLimitForwardedClient(t *testing.T) {
	revoke := func(f *fixture, xff string) int {
		hdr := []string{"Content-Type", "application/x-www-form-urlencoded"}
		if xff != "" {
			hdr = append(hdr, "X-Forwarded-For", xff)
		}
		return f.do("POST", "/oauth/revoke", "", url.Values{"token": {"not-a-token"}}.Encode(), hdr...).StatusCode
	}
	// clientIPs counts the request log's client_ip values, once every
	// request has been answered.
	clientIPs := func(f *fixture) map[string]int {
		f.close()
		n := map[string]int{}
		for _, l := range f.requestLines() {
			n[fmt.Sprint(l["client_ip"])]++
		}
		return n
	}
	burst := requestsPerIP.burst

	t.Run("trusted peer", func(t *testing.T) {
		f := newFixture(t, netip.MustParsePrefix("127.0.0.0/8"))
		for i := 0; i < burst; i++ {
			if got := revoke(f, "198.51.100.9"); got != 200 {
				t.Fatalf("request %d: %d; want 200", i+1, got)
			}
		}
		for _, xff := range []string{"198.51.100.9", "203.0.113.1, 198.51.100.9"} {
			if got := revoke(f, xff); got != 429 {
				t.Errorf("X-Forwarded-For %q after %d requests: %d; want 429", xff, burst, got)
			}
		}
		if got := revoke(f, "198.51.100.10"); got != 200 {
			t.Errorf("another client: %d; want 200", got)
		}
		if got := revoke(f, ""); got != 200 {
			t.Errorf("the proxy itself: %d; want 200", got)
		}
		want := map[string]int{"198.51.100.9": burst + 2, "198.51.100.10": 1, "127.0.0.1": 1}
		if got := clientIPs(f); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("client_ip in the log: %v; want %v", got, want)
		}
	})
	for name, proxies := range map[string][]netip.Prefix{
		"no trusted proxy":      nil,
		"peer not in the CIDRs": {netip.MustParsePrefix("10.0.0.0/8")},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, proxies...)
			for i := 0; i < burst; i++ {
				if got := revoke(f, fmt.Sprintf("198.51.100.%d", i)); got != 200 {
					t.Fatalf("request %d: %d; want 200", i+1, got)
				}
			}
			if got := revoke(f, "198.51.100.200"); got != 429 {
				t.Errorf("a new spoofed address after %d requests: %d; want 429", burst, got)
			}
			want := map[string]int{"127.0.0.1": burst + 1}
			if got := clientIPs(f); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("client_ip in the log: %v; want %v", got, want)
			}
		})
	}
}
