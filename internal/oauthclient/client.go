// Package oauthclient is the outbound side of OAuth 2.0: it resolves a
// credential provider's endpoints (from the catalog, the stored metadata or
// a discovery document), builds authorization URLs with PKCE, and runs the
// token requests (authorization code, client credentials, refresh) with the
// vendor's quirks applied. It keeps no tokens: callers store what it returns.
package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
)

// Defaults of Options.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultDiscoveryTTL = time.Hour
	DefaultUserAgent    = "agentcore-identity/1 (+https://github.com/agentcore-identity/agentcore)"
	// maxBody bounds what is read of a discovery document.
	maxBody = 1 << 20
)

// Options tune a Client.
type Options struct {
	// HTTPClient sends every outbound request; nil means a client with
	// DefaultTimeout. Its Transport is wrapped, never modified.
	HTTPClient *http.Client
	// Now is the clock used for token lifetimes; nil means time.Now.
	Now func() time.Time
	// DiscoveryTTL is how long a discovery document is reused.
	DiscoveryTTL time.Duration
	// UserAgent is sent on every request (some vendors throttle anonymous
	// clients).
	UserAgent string
	Logger    *slog.Logger
}

// Client talks to the authorization servers of credential providers. It is
// safe for concurrent use.
type Client struct {
	http      *http.Client
	now       func() time.Time
	ttl       time.Duration
	userAgent string
	log       *slog.Logger

	mu   sync.Mutex
	docs map[string]cachedDoc
	// fetches collapses concurrent fetches of one discovery document.
	fetches singleflight.Group
}

type cachedDoc struct {
	md      metadata
	fetched time.Time
}

// New builds a client.
func New(opts Options) *Client {
	c := &Client{http: opts.HTTPClient, now: opts.Now, ttl: opts.DiscoveryTTL, userAgent: opts.UserAgent,
		log: opts.Logger, docs: map[string]cachedDoc{}}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ttl <= 0 {
		c.ttl = DefaultDiscoveryTTL
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Endpoints are where a provider's authorization server lives and how the
// client authenticates at its token endpoint.
type Endpoints struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	AuthStyle             oauth2.AuthStyle
}

// metadata is the part of an OpenID Provider / RFC 8414 metadata document
// that is used here.
type metadata struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint            string   `json:"token_endpoint"`
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// Endpoints resolves p's endpoints, fetching (and caching) its discovery
// document when it was configured by discovery URL.
func (c *Client) Endpoints(ctx context.Context, p credprovider.OAuth2Provider) (Endpoints, error) {
	ep := Endpoints{
		Issuer:                p.Endpoints.Issuer,
		AuthorizationEndpoint: p.Endpoints.AuthorizationEndpoint,
		TokenEndpoint:         p.Endpoints.TokenEndpoint,
	}
	method := p.TokenAuthMethod
	if p.DiscoveryURL != "" {
		md, err := c.discover(ctx, p.DiscoveryURL)
		if err != nil {
			return Endpoints{}, err
		}
		ep.Issuer, ep.AuthorizationEndpoint, ep.TokenEndpoint = md.Issuer, md.AuthorizationEndpoint, md.TokenEndpoint
		if method == "" {
			method = chooseAuthMethod(md.TokenEndpointAuthMethods)
		}
	}
	if ep.TokenEndpoint == "" {
		return Endpoints{}, &Error{Op: "discovery", Err: errors.New("the provider has no token endpoint")}
	}
	ep.AuthStyle = authStyle(method)
	return ep, nil
}

// chooseAuthMethod picks client_secret_basic when the server offers it
// (or says nothing, which per RFC 8414 means basic), else client_secret_post.
func chooseAuthMethod(supported []string) string {
	if len(supported) == 0 {
		return credprovider.AuthClientSecretBasic
	}
	for _, m := range supported {
		if m == credprovider.AuthClientSecretBasic {
			return m
		}
	}
	for _, m := range supported {
		if m == credprovider.AuthClientSecretPost {
			return m
		}
	}
	return credprovider.AuthClientSecretBasic
}

func authStyle(method string) oauth2.AuthStyle {
	if method == credprovider.AuthClientSecretPost {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// discover returns the metadata at url from the cache or the network. A
// fetch runs detached from any single caller's cancellation, so that one
// impatient caller does not fail the others waiting on the same fetch;
// each caller still stops waiting when its own ctx ends.
func (c *Client) discover(ctx context.Context, url string) (metadata, error) {
	c.mu.Lock()
	d, ok := c.docs[url]
	c.mu.Unlock()
	if ok && c.now().Sub(d.fetched) < c.ttl {
		return d.md, nil
	}
	ch := c.fetches.DoChan(url, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
		defer cancel()
		md, err := c.fetchMetadata(fctx, url)
		if err != nil {
			return metadata{}, err
		}
		c.mu.Lock()
		c.docs[url] = cachedDoc{md: md, fetched: c.now()}
		c.mu.Unlock()
		return md, nil
	})
	select {
	case <-ctx.Done():
		return metadata{}, &Error{Op: "discovery", Err: ctx.Err()}
	case res := <-ch:
		if res.Err != nil {
			return metadata{}, res.Err
		}
		return res.Val.(metadata), nil
	}
}

func (c *Client) fetchMetadata(ctx context.Context, url string) (metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return metadata{}, &Error{Op: "discovery", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return metadata{}, &Error{Op: "discovery", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return metadata{}, &Error{Op: "discovery", Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return metadata{}, &Error{Op: "discovery", Err: err}
	}
	var md metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return metadata{}, &Error{Op: "discovery", Err: fmt.Errorf("the discovery document is not JSON: %w", err)}
	}
	if md.TokenEndpoint == "" {
		return metadata{}, &Error{Op: "discovery", Err: errors.New("the discovery document has no token_endpoint")}
	}
	return md, nil
}

// httpContext returns ctx carrying the HTTP client x/oauth2 must use for
// provider p: ours, with p's quirks applied.
func (c *Client) httpContext(ctx context.Context, p credprovider.OAuth2Provider) context.Context {
	base := c.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{
		Transport: &quirkTransport{base: base, userAgent: c.userAgent, quirks: p.VendorInfo.Quirks},
		Timeout:   c.http.Timeout,
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}
