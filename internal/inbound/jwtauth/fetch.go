package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/inbound"
)

// maxDocBytes bounds discovery documents and key sets.
const maxDocBytes = 1 << 20

// discovery is the part of an OpenID discovery document we use.
type discovery struct {
	Issuer  string   `json:"issuer"`
	JWKSURI string   `json:"jwks_uri"`
	Algs    []string `json:"id_token_signing_alg_values_supported"`
}

// keySet holds the usable public signing keys of a JWKS.
type keySet struct {
	keys []jose.JSONWebKey
}

// slot is one cached document: the last good value and when it was
// fetched, the last attempt (which rate-limits refetches) and its error,
// and, while a fetch runs, a channel closed when it ends.
type slot[T any] struct {
	val       T
	have      bool
	fetched   time.Time
	attempted time.Time
	err       error // of the last attempt; nil after a success
	running   chan struct{}
}

// load returns the document cached under key, fetching it when there is
// none, when it is older than ttl, or when force is set (unknown kid).
// Fetches are rate-limited to one per RefetchInterval per key, callers
// arriving during a fetch wait for it, and when a fetch fails a value no
// older than ttl+MaxStale is served instead, so a brief IdP outage goes
// unnoticed.
func load[T any](ctx context.Context, v *Validator, slots map[string]*slot[T], key string, force bool,
	fetch func(context.Context) (T, error)) (T, error) {
	now := v.now()
	v.mu.Lock()
	s := slots[key]
	if s == nil {
		s = &slot[T]{}
		slots[key] = s
	}
	done := s.running
	switch {
	case done != nil: // join the running fetch
	case s.have && !force && now.Sub(s.fetched) < v.ttl:
		val := s.val
		v.mu.Unlock()
		return val, nil
	case !s.attempted.IsZero() && now.Sub(s.attempted) < v.refetch:
		defer v.mu.Unlock()
		return s.result(ctx, v, key, now, true)
	default:
		done = make(chan struct{})
		s.running, s.attempted = done, now
		// The fetch outlives a caller that gives up, so the cache still
		// fills; its own timeout bounds it instead.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.fetchTimeout)
		go func() {
			defer cancel()
			val, err := fetch(fctx)
			v.mu.Lock()
			defer v.mu.Unlock()
			if err == nil {
				s.val, s.have, s.fetched = val, true, v.now()
			}
			s.err, s.running = err, nil
			close(done)
		}()
	}
	v.mu.Unlock()
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case <-done:
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return s.result(ctx, v, key, now, false)
}

// result is what a caller gets from the slot after the last attempt; the
// caller holds v.mu.
func (s *slot[T]) result(ctx context.Context, v *Validator, key string, now time.Time, limited bool) (T, error) {
	usable := s.have && now.Sub(s.fetched) < v.ttl+v.maxStale
	switch {
	case s.err == nil && s.have:
		return s.val, nil // fresh, or refetch rate-limited: serve what we have
	case usable:
		if !limited {
			v.log.WarnContext(ctx, "jwtauth: refetch failed, serving cached document", "doc", key, "err", s.err)
		}
		return s.val, nil
	case limited && s.err != nil:
		var zero T
		return zero, fmt.Errorf("%w (next attempt in %s)", s.err, v.refetch-now.Sub(s.attempted))
	case s.err != nil:
		var zero T
		return zero, s.err
	default:
		var zero T
		return zero, errors.New("cached document expired")
	}
}

// discover returns the discovery document at discoveryURL.
func (v *Validator) discover(ctx context.Context, discoveryURL string) (discovery, error) {
	d, err := load(ctx, v, v.discoveries, "discovery "+discoveryURL, false, func(ctx context.Context) (discovery, error) {
		var d discovery
		if err := v.getJSON(ctx, discoveryURL, &d); err != nil {
			return d, err
		}
		return d, checkDiscovery(d, discoveryURL)
	})
	if err != nil {
		return d, fmt.Errorf("%w: discovery document %s: %w", inbound.ErrUnavailable, discoveryURL, err)
	}
	return d, nil
}

// checkDiscovery refuses a document whose issuer is not the one the URL
// names (OpenID Connect Discovery 1.0 §4.3), so one provider cannot vouch
// for tokens of another. A trailing slash is ignored (Auth0's issuer has
// one, its discovery URL does not).
func checkDiscovery(d discovery, discoveryURL string) error {
	base := strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration")
	if d.Issuer == "" || strings.TrimSuffix(d.Issuer, "/") != strings.TrimSuffix(base, "/") {
		return fmt.Errorf("issuer %q does not match the discovery URL", d.Issuer)
	}
	if d.JWKSURI == "" {
		return errors.New("no jwks_uri")
	}
	return nil
}

// keys returns the key set at jwksURI; force refetches (rate-limited).
func (v *Validator) keys(ctx context.Context, jwksURI string, force bool) (keySet, error) {
	ks, err := load(ctx, v, v.keySets, "jwks "+jwksURI, force, func(ctx context.Context) (keySet, error) {
		var raw struct {
			Keys []json.RawMessage `json:"keys"`
		}
		err := v.getJSON(ctx, jwksURI, &raw)
		if v.onJWKSFetch != nil {
			v.onJWKSFetch(err == nil)
		}
		if err != nil {
			return keySet{}, err
		}
		return parseKeys(raw.Keys)
	})
	if err != nil {
		return ks, fmt.Errorf("%w: key set %s: %w", inbound.ErrUnavailable, jwksURI, err)
	}
	return ks, nil
}

// parseKeys keeps the public signing keys go-jose understands; one odd key
// (an unknown kty, an encryption key) must not disable the others.
func parseKeys(raw []json.RawMessage) (keySet, error) {
	var ks keySet
	for _, r := range raw {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil || k.Use == "enc" {
			continue
		}
		pub := k.Public() // drops private parts; invalid for symmetric keys
		if !pub.Valid() {
			continue
		}
		ks.keys = append(ks.keys, pub)
	}
	if len(ks.keys) == 0 {
		return ks, errors.New("no usable signing keys")
	}
	return ks, nil
}

// getJSON fetches a small JSON document, refusing URLs the SSRF guard
// rejects.
func (v *Validator) getJSON(ctx context.Context, rawURL string, out any) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	if v.allowURL != nil {
		if err := v.allowURL(u); err != nil {
			return fmt.Errorf("refused to fetch %s: %w", u.Redacted(), err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if len(body) > maxDocBytes {
		return fmt.Errorf("GET %s: document larger than %d bytes", u.Redacted(), maxDocBytes)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	return nil
}

// httpClient copies base and makes it apply the SSRF guard to redirects.
func httpClient(base *http.Client, allow func(*url.URL) error) *http.Client {
	c := *base
	prev := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if allow != nil {
			if err := allow(req.URL); err != nil {
				return fmt.Errorf("redirect to %s refused: %w", req.URL.Redacted(), err)
			}
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}
	return &c
}
