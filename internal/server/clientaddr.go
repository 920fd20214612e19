package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxies are the networks of the reverse proxies whose
// X-Forwarded-For header is believed. Empty, the default, believes none.
type trustedProxies []netip.Prefix

// ParseTrustedProxy reads a trusted proxy's network: a CIDR such as
// 10.0.0.0/8 or 2001:db8::/32, or a single address. An IPv4-mapped IPv6
// network becomes the IPv4 network it maps, as client addresses do. It
// refuses a CIDR with host bits set (10.0.0.1/8: the network or the one
// address?) and a /0, which would let any client name its own address.
// Its errors say what to write instead.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil || a.Zone() != "" {
			return netip.Prefix{}, errors.New("use a CIDR such as 10.0.0.0/8 or 2001:db8::/32, or one address")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p, err = unmapProxy(p)
	if err != nil {
		return netip.Prefix{}, err
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("host bits are set: write %s for the network, or %s for one address", m, p.Addr())
	}
	return p, nil
}

// errTrustAll refuses a /0 trusted proxy.
var errTrustAll = errors.New("a /0 trusts every address, so any client could name its own in X-Forwarded-For and escape the per-address limits; give the networks of your proxies only")

// normalProxy is p with its host bits cleared, IPv4-mapped networks as IPv4.
// A /0 is refused.
func normalProxy(p netip.Prefix) (netip.Prefix, error) {
	p, err := unmapProxy(p)
	return p.Masked(), err
}

// unmapProxy is p with an IPv4-mapped network as IPv4. It refuses an
// invalid prefix and a /0.
func unmapProxy(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("not a network: %v", p)
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, errTrustAll
	}
	return p, nil
}

func (t trustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client is the client's address given the socket peer's and the request's
// X-Forwarded-For header lines. The peer is the client unless it is a
// trusted proxy; then the header is read from the right, past the trusted
// proxies, and the first other address is the client (the leftmost when
// all are trusted). A malformed entry met on the way means the peer: what
// a trusted proxy wrote cannot be read, so nothing else is believed.
// Entries left of the client were written by the client and are not read.
func (t trustedProxies) client(peer netip.Addr, xff []string) netip.Addr {
	if len(t) == 0 || !t.contains(peer) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		list := xff[i]
		for end := len(list); ; {
			start := strings.LastIndexByte(list[:end], ',') + 1
			a, err := netip.ParseAddr(strings.TrimSpace(list[start:end]))
			if err != nil || a.Zone() != "" {
				return peer
			}
			a = a.Unmap()
			if !t.contains(a) {
				return a
			}
			client = a
			if start == 0 {
				break
			}
			end = start - 1
		}
	}
	return client
}

// clientAddr is the address of the client that sent r: the socket peer's,
// or the one its trusted proxies forwarded (see trustedProxies.client).
// Without trusted proxies no header is looked at. ok is false when
// RemoteAddr is not an address and port (never so on a TCP socket).
func (s *Server) clientAddr(r *http.Request) (a netip.Addr, ok bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	peer := ap.Addr().Unmap().WithZone("")
	if len(s.proxies) == 0 {
		return peer, true
	}
	// The key is in canonical form: the map is read as is.
	return s.proxies.client(peer, r.Header["X-Forwarded-For"]), true
}

// clientIP is the client's address as the request log shows it.
func (s *Server) clientIP(r *http.Request) string {
	a, ok := s.clientAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	return a.String()
}

// clientNet is the client's address as the rate limits key it: its IPv4
// address, or the /64 of its IPv6 address (one host commonly holds a whole
// /64).
func (s *Server) clientNet(r *http.Request) string {
	a, ok := s.clientAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
