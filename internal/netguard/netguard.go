// Package netguard keeps the server's outbound requests (OIDC discovery,
// JWKS, OAuth2 token endpoints) away from private networks unless an
// operator allows them: a discovery URL is attacker-influenced input, and
// without a guard it can make the server probe its own network (SSRF). The
// check runs on the address actually dialled, after DNS resolution, so a
// host name that resolves (or re-resolves) to a private address is caught.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrBlocked is wrapped by every refused connection.
var ErrBlocked = errors.New("netguard: destination not allowed")

// Policy says which destinations are allowed.
type Policy struct {
	// AllowPrivate allows loopback, private, link-local and other
	// non-public addresses.
	AllowPrivate bool
	// Allow lists dial addresses ("ip:port") that are always allowed, such
	// as this server's own listener (its built-in identity provider).
	Allow []string
}

// blocked are the prefixes that are not the public internet.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// Private reports whether addr is outside the public internet.
func Private(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range blocked {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Check decides one dial address ("ip:port").
func (p Policy) Check(address string) error {
	for _, a := range p.Allow {
		if a == address {
			return nil
		}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrBlocked, address)
	}
	if !p.AllowPrivate && Private(ap.Addr()) {
		return fmt.Errorf("%w: %s is a private, loopback or link-local address (the server refuses these unless started with --allow-private-network)", ErrBlocked, ap.Addr())
	}
	return nil
}

// Transport is an http.Transport whose every connection passes the policy.
func (p Policy) Transport() *http.Transport {
	d := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			return p.Check(address)
		},
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil // a proxy would dial on our behalf, past the check
	return t
}

// Client is an http.Client on Transport with the given timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: timeout}
}

// SelfAddresses resolves the host of a base URL (this server's public URL)
// to the dial addresses that reach it, for Policy.Allow.
func SelfAddresses(baseURL string) []string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, netip.AddrPortFrom(a.Unmap(), 0).Addr().String()+":"+port)
		}
	}
	return out
}
