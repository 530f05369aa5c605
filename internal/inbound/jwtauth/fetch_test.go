package jwtauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/inbound/jwtauth"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

func mustValidate(t *testing.T, v *jwtauth.Validator, cfg inbound.JWTAuthorizerConfig, token string) {
	t.Helper()
	if _, err := v.Validate(context.Background(), cfg, token); err != nil {
		t.Fatalf("rejected: %v", err)
	}
}

func mustReject(t *testing.T, v *jwtauth.Validator, cfg inbound.JWTAuthorizerConfig, token, want string) error {
	t.Helper()
	_, err := v.Validate(context.Background(), cfg, token)
	if !errors.Is(err, inbound.ErrRejected) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want ErrRejected containing %q", err, want)
	}
	return err
}

func TestKeyRotationRefetchIsRateLimited(t *testing.T) {
	p := provider(t, oidctest.StyleCognito, "")
	clk := newClock()
	v := jwtauth.New(jwtauth.Options{Now: clk.Now})
	cfg := inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL(), AllowedClients: []string{"web"}}

	mustValidate(t, v, cfg, m2mToken(t, p))
	if p.DiscoveryCalls() != 1 || p.JWKSCalls() != 1 {
		t.Fatalf("first use: discovery %d, jwks %d fetches; want 1, 1", p.DiscoveryCalls(), p.JWKSCalls())
	}
	mustValidate(t, v, cfg, m2mToken(t, p))
	if p.JWKSCalls() != 1 {
		t.Fatalf("cached keys refetched: %d", p.JWKSCalls())
	}

	p.RotateKeys(false)
	rotated := m2mToken(t, p)
	// Within the refetch interval of the first fetch the new kid is not
	// looked up again.
	mustReject(t, v, cfg, rotated, "unknown signing key id")
	if p.JWKSCalls() != 1 {
		t.Fatalf("refetch not rate-limited: %d JWKS fetches", p.JWKSCalls())
	}

	clk.Advance(jwtauth.DefaultRefetchInterval)
	mustValidate(t, v, cfg, rotated) // refetch finds the new key
	if p.JWKSCalls() != 2 {
		t.Fatalf("after rotation: %d JWKS fetches, want 2", p.JWKSCalls())
	}

	// A truly unknown kid: rejected, and a burst of them costs no fetch.
	bogus := p.SignRaw(p.AccessTokenClaims("web", ""), oidctest.SignOptions{KID: str("made-up")})
	for range 5 {
		mustReject(t, v, cfg, bogus, `unknown signing key id "made-up"`)
	}
	if p.JWKSCalls() != 2 {
		t.Fatalf("unknown kids caused %d JWKS fetches, want none beyond 2", p.JWKSCalls())
	}
	clk.Advance(jwtauth.DefaultRefetchInterval)
	mustReject(t, v, cfg, bogus, "unknown signing key id")
	if p.JWKSCalls() != 3 {
		t.Fatalf("after the interval: %d JWKS fetches, want 3", p.JWKSCalls())
	}
	// The old key was dropped from the JWKS.
	if p.DiscoveryCalls() != 1 {
		t.Errorf("discovery refetched %d times within its TTL", p.DiscoveryCalls()-1)
	}
}

func TestIdPDownAfterFirstFetchServesCachedKeys(t *testing.T) {
	p := provider(t, oidctest.StyleCognito, "")
	clk := newClock()
	v := jwtauth.New(jwtauth.Options{Now: clk.Now, CacheTTL: time.Minute, MaxStale: time.Hour, Leeway: 2 * time.Hour})
	cfg := inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL()}
	tok := m2mToken(t, p)
	mustValidate(t, v, cfg, tok)

	p.SetDown(true)
	clk.Advance(10 * time.Minute) // both cache entries expired
	mustValidate(t, v, cfg, tok)
	if p.DiscoveryCalls() != 2 {
		t.Errorf("expired discovery was not refetched (%d fetches)", p.DiscoveryCalls())
	}
	clk.Advance(2 * time.Hour) // beyond CacheTTL+MaxStale
	err := mustReject(t, v, cfg, tok, "503")
	if !errors.Is(err, inbound.ErrUnavailable) {
		t.Errorf("outage not marked ErrUnavailable: %v", err)
	}
	p.SetDown(false)
	clk.Advance(jwtauth.DefaultRefetchInterval)
	mustValidate(t, v, cfg, tok)
}

func TestIdPDownOnFirstFetch(t *testing.T) {
	p := provider(t, oidctest.StyleCognito, "")
	tok := m2mToken(t, p)
	clk := newClock()
	v := jwtauth.New(jwtauth.Options{Now: clk.Now})
	cfg := inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL()}

	p.SetDown(true)
	err := mustReject(t, v, cfg, tok, "discovery document "+p.DiscoveryURL()+": GET "+p.DiscoveryURL()+": HTTP 503")
	if !errors.Is(err, inbound.ErrUnavailable) {
		t.Errorf("not ErrUnavailable: %v", err)
	}
	p.SetDown(false)
	// The failure is remembered for the refetch interval.
	mustReject(t, v, cfg, tok, "next attempt in")
	if p.DiscoveryCalls() != 1 {
		t.Errorf("%d discovery fetches, want 1", p.DiscoveryCalls())
	}
	clk.Advance(jwtauth.DefaultRefetchInterval)
	mustValidate(t, v, cfg, tok)
}

func TestConcurrentColdStartFetchesOnce(t *testing.T) {
	p := provider(t, oidctest.StyleAuth0, "")
	v := jwtauth.New(jwtauth.Options{})
	cfg := inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL(), AllowedAudience: []string{"gateway123"}}
	tok := m2mToken(t, p)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Validate(context.Background(), cfg, tok); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p.DiscoveryCalls() != 1 || p.JWKSCalls() != 1 {
		t.Errorf("cold start: %d discovery and %d JWKS fetches, want 1 each", p.DiscoveryCalls(), p.JWKSCalls())
	}
}

func TestContextBoundsTheWait(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		http.Error(w, "late", http.StatusServiceUnavailable)
	}))
	defer slow.Close()
	defer close(release)
	v := jwtauth.New(jwtauth.Options{})
	p := provider(t, oidctest.StyleCognito, "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := v.Validate(ctx, inbound.JWTAuthorizerConfig{DiscoveryURL: slow.URL + "/.well-known/openid-configuration"}, m2mToken(t, p))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, inbound.ErrRejected) {
		t.Errorf("err = %v, want a rejection wrapping the deadline", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Validate ignored the context (%v)", time.Since(start))
	}
}

func TestAllowURLGuardsFetches(t *testing.T) {
	p := provider(t, oidctest.StyleCognito, "")
	refuse := errors.New("private address")
	v := jwtauth.New(jwtauth.Options{AllowURL: func(u *url.URL) error {
		if strings.HasPrefix(u.Host, "127.0.0.1") {
			return refuse
		}
		return nil
	}})
	_, err := v.Validate(context.Background(), inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL()}, m2mToken(t, p))
	if !errors.Is(err, refuse) || !errors.Is(err, inbound.ErrUnavailable) || p.DiscoveryCalls() != 0 {
		t.Errorf("err = %v, discovery fetches %d; want the guard's error and no fetch", err, p.DiscoveryCalls())
	}

	// A redirect to a refused target is refused too.
	redirector := httptest.NewServer(http.RedirectHandler(p.DiscoveryURL(), http.StatusFound))
	defer redirector.Close()
	v = jwtauth.New(jwtauth.Options{AllowURL: func(u *url.URL) error {
		if u.Host == mustParse(t, p.Issuer()).Host {
			return refuse
		}
		return nil
	}})
	_, err = v.Validate(context.Background(), inbound.JWTAuthorizerConfig{DiscoveryURL: redirector.URL + "/.well-known/openid-configuration"}, m2mToken(t, p))
	if !errors.Is(err, refuse) || p.DiscoveryCalls() != 0 {
		t.Errorf("redirect: err = %v, discovery fetches %d", err, p.DiscoveryCalls())
	}
}

// A discovery document that names another issuer (a mix-up or a hostile
// mirror) is not trusted, even though its keys would verify the token.
func TestDiscoveryIssuerMustMatchURL(t *testing.T) {
	p := provider(t, oidctest.StyleCognito, "")
	mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.Issuer(), "jwks_uri": p.JWKSURL()})
	}))
	defer mirror.Close()
	v := jwtauth.New(jwtauth.Options{})
	err := mustReject(t, v, inbound.JWTAuthorizerConfig{DiscoveryURL: mirror.URL + "/.well-known/openid-configuration"},
		m2mToken(t, p), "does not match the discovery URL")
	if !errors.Is(err, inbound.ErrUnavailable) {
		t.Errorf("not ErrUnavailable: %v", err)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
