package netguard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPrivate(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.20.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "fd00::1": true, "fe80::1": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700::1111": false, "172.32.0.1": false,
	}
	for s, want := range cases {
		if got := Private(netip.MustParseAddr(s)); got != want {
			t.Errorf("Private(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestClientRefusesPrivateDestinations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "internal") }))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	cases := []struct {
		name   string
		policy Policy
		url    string
		ok     bool
	}{
		{"fail/loopback", Policy{}, srv.URL, false},
		{"fail/localhost-name", Policy{}, "http://localhost:" + strings.Split(addr, ":")[1], false},
		{"ok/allowed-private", Policy{AllowPrivate: true}, srv.URL, true},
		{"ok/self-address", Policy{Allow: []string{addr}}, srv.URL, true},
		{"ok/self-addresses-resolved", Policy{Allow: SelfAddresses(srv.URL)}, srv.URL, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.policy.Client(5 * time.Second).Get(tc.url)
			if tc.ok {
				if err != nil {
					t.Fatalf("allowed request failed: %v", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("request to a private address went through")
			}
			if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "--allow-private-network") {
				t.Fatalf("error = %v, want ErrBlocked naming the flag", err)
			}
		})
	}
}
