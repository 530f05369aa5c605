package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"sync/atomic"
	"testing"
	"time"
)

// healthInterval is how often the balancer polls every backend's /readyz.
const healthInterval = 100 * time.Millisecond

// backend is one replica as the balancer sees it.
type backend struct {
	addr    string
	healthy atomic.Bool
	served  atomic.Int64 // responses it returned through the balancer
}

// balancer is a round-robin reverse proxy like a cloud load balancer:
// a backend whose dial fails is skipped and marked down at once (passive
// health), every backend's /readyz is polled (active health) and only
// those answering 200 get traffic, and a request cut off mid-flight is
// answered 502.
type balancer struct {
	srv      *httptest.Server
	backends []*backend
	next     atomic.Uint64
	cut      atomic.Int64 // 502s: requests that reached a backend and were lost
	lastCut  atomic.Value // string: the last cut, for failure messages
	upstream *http.Transport
}

func newBalancer(ctx context.Context, t *testing.T, addrs []string) *balancer {
	t.Helper()
	b := &balancer{upstream: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	for _, a := range addrs {
		b.backends = append(b.backends, &backend{addr: a})
	}
	rp := &httputil.ReverseProxy{
		// The Host header stays the balancer's: SigV4 signed it.
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme = "http" },
		Transport: b,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil { // else the client hung up: not a cut
				b.cut.Add(1)
				b.lastCut.Store(fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Buffer the body so that a request can be replayed on another
		// backend when the dial to the first one fails.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		rp.ServeHTTP(w, r)
	}))
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); b.checkHealth(hctx) }()
	t.Cleanup(func() {
		stop()
		<-done
		b.srv.Close()
		b.upstream.CloseIdleConnections()
	})
	return b
}

func (b *balancer) url() string { return b.srv.URL }

// checkHealth polls /readyz of every backend until ctx ends.
func (b *balancer) checkHealth(ctx context.Context) {
	probe := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(healthInterval)
	defer tick.Stop()
	for {
		for _, be := range b.backends {
			be.healthy.Store(ready(ctx, probe, "http://"+be.addr))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitHealthy waits until n backends are in rotation.
func (b *balancer) waitHealthy(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(b.healthy()) >= n {
			return
		}
	}
	t.Fatalf("the balancer sees %d healthy backends, want %d", len(b.healthy()), n)
}

// healthy lists the backends in rotation.
func (b *balancer) healthy() []*backend {
	var out []*backend
	for _, be := range b.backends {
		if be.healthy.Load() {
			out = append(out, be)
		}
	}
	return out
}

// healthyIndexes lists the positions of the backends in rotation.
func (b *balancer) healthyIndexes() []int {
	var out []int
	for i, be := range b.backends {
		if be.healthy.Load() {
			out = append(out, i)
		}
	}
	return out
}

// pick returns the next healthy backend not yet tried, round robin.
func (b *balancer) pick(tried map[*backend]bool) *backend {
	n := uint64(len(b.backends))
	start := b.next.Add(1)
	for i := range n {
		be := b.backends[(start+i)%n]
		if be.healthy.Load() && !tried[be] {
			return be
		}
	}
	return nil
}

var errNoBackend = errors.New("balancer: no healthy backend")

// RoundTrip sends req to a healthy backend; a refused dial moves on to the
// next one (nothing was sent), any other failure is the caller's 502.
func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	tried := map[*backend]bool{}
	for {
		be := b.pick(tried)
		if be == nil {
			return nil, errNoBackend
		}
		tried[be] = true
		out := req.Clone(req.Context())
		out.URL.Host = be.addr
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			out.Body = body
		}
		resp, err := b.upstream.RoundTrip(out)
		if err == nil {
			be.served.Add(1)
			return resp, nil
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			return nil, err
		}
		be.healthy.Store(false) // passive health: until /readyz says otherwise
	}
}

// served snapshots how many responses each backend returned.
func (b *balancer) served() []int64 {
	out := make([]int64, len(b.backends))
	for i, be := range b.backends {
		out[i] = be.served.Load()
	}
	return out
}

// countingClient is the SDK clients' HTTP client. It counts the attempts
// of a call whose context carries an attempt counter, to tell a retried
// write from a first one.
type countingClient struct{ hc *http.Client }

func newCountingClient() *countingClient {
	return &countingClient{hc: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

type attemptsKey struct{}

// withAttempts returns a context whose calls count their HTTP attempts.
func withAttempts(ctx context.Context) (context.Context, *atomic.Int32) {
	n := &atomic.Int32{}
	return context.WithValue(ctx, attemptsKey{}, n), n
}

func (c *countingClient) Do(req *http.Request) (*http.Response, error) {
	if n, ok := req.Context().Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
	return c.hc.Do(req)
}
