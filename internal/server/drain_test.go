package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// get fetches url on a fresh connection, so that a closed listener shows.
func get(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestServeDrainsBeforeShutdown(t *testing.T) {
	cases := []struct {
		name  string
		drain time.Duration
	}{
		{"ok/no-drain-delay", 0},
		{"ok/drain-delay", 700 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, servertest.Options{Configure: func(c *config.Config) { c.DrainDelay = tc.drain }})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + ln.Addr().String()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			served := make(chan error, 1)
			go func() { served <- env.Server.Serve(ctx, ln) }()
			if code, body, err := get(context.Background(), base+"/readyz"); err != nil || code != http.StatusOK {
				t.Fatalf("readyz before SIGTERM: %d %q %v", code, body, err)
			}

			stop() // what SIGTERM does to the server's context
			signalled := time.Now()
			if tc.drain > 0 {
				// While draining, /readyz turns 503 at once, yet the
				// server still accepts connections and serves them.
				code, body, err := get(context.Background(), base+"/readyz")
				if err != nil || code != http.StatusServiceUnavailable || body != "draining\n" {
					t.Fatalf("readyz while draining: %d %q %v", code, body, err)
				}
				if code, _, err := get(context.Background(), base+"/healthz"); err != nil || code != http.StatusOK {
					t.Fatalf("healthz while draining: %d %v", code, err)
				}
			}
			select {
			case err := <-served:
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
			case <-time.After(tc.drain + 10*time.Second):
				t.Fatal("Serve did not return after the drain delay")
			}
			if took := time.Since(signalled); took < tc.drain {
				t.Fatalf("Serve returned after %s, before the drain delay %s", took, tc.drain)
			}
			if _, _, err := get(context.Background(), base+"/healthz"); err == nil {
				t.Fatal("server still accepts connections after shutdown")
			}
		})
	}
}
