// Package oidctest runs a real OpenID provider inside tests.
//
// The provider is github.com/zitadel/oidc/v3/pkg/op (a certified OpenID
// provider library) served by an httptest.Server, backed by an in-memory
// op.Storage of this package. It is for tests only: passwords and secrets
// are compared in plain text and nothing is persisted.
//
// What it serves (all under Issuer()):
//
//	/.well-known/openid-configuration   discovery
//	/keys                               JWKS
//	/authorize                          authorization endpoint (code flow, PKCE S256)
//	/login                              HTML login form (GET shows it, POST signs in)
//	/oauth/token                        token endpoint: authorization_code, refresh_token
//	                                    (rotating), client_credentials
//	/userinfo, /oauth/introspect, /revoke
//
// Access tokens are JWTs signed with the provider's key, in one of two claim
// styles (see ClaimStyle): Cognito-like (client_id, token_use, scope,
// username, no aud) or Auth0/Okta-like (aud, azp, scope). ID tokens are
// minted by the library with aud = the client id.
//
// A typical test:
//
//	p := oidctest.Start(t, oidctest.Options{
//		Style: oidctest.StyleCognito,
//		Users: []oidctest.User{{Username: "alice", Password: "pw"}},
//		Clients: []oidctest.Client{{ID: "app", Secret: "s3cret",
//			RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Scopes: []string{"read"}}},
//	})
//	cfg := oauth2.Config{ClientID: "app", ClientSecret: "s3cret", Endpoint: p.Endpoint(), ...}
//	redirect, err := p.Authorize(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(v)), "alice", "pw")
//	tok, err := cfg.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(v))
//
// Test hooks: RotateKeys, SignRaw (hostile tokens signed with the real key),
// SetDown (503 on everything), per-grant token endpoint counters, JWKS and
// discovery counters, AddClient/AddUser (e.g. once a callback URL is known)
// and RevokeRefreshTokens.
package oidctest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"
)

// ClaimStyle selects the shape of access tokens.
type ClaimStyle int

const (
	// StyleCognito mints access tokens like Amazon Cognito: sub, iss,
	// client_id, token_use=access, scope, auth_time, iat, exp, jti,
	// version=2 and, for user tokens, username. There is no aud, so an
	// authorizer must use allowedClients, not allowedAudience.
	StyleCognito ClaimStyle = iota
	// StyleAuth0 mints access tokens like Auth0 or Okta: aud =
	// Options.Audience (an array that also holds the userinfo endpoint when
	// openid was granted), azp = the client id, scope, iat, exp, jti and no
	// client_id. Client-credentials tokens have sub "<client>@clients" and
	// gty=client-credentials.
	StyleAuth0
)

// Grant types, as counted by TokenCalls.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Defaults used when Options leaves a field empty.
const (
	DefaultAudience             = "https://api.example.test"
	DefaultAccessTokenLifetime  = time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	DefaultAlgorithm            = "RS256"
)

// User is an end user who can sign in on the login form.
type User struct {
	Username string
	Password string
	// Subject is the sub claim; it defaults to "sub-" + Username.
	Subject string
	Email   string
	// Claims are added to this user's access and ID tokens (e.g. groups).
	// They never override the registered claims of the style.
	Claims map[string]any
}

// Client is an OAuth client registered at the provider.
type Client struct {
	ID string
	// Secret is empty for a public client (token_endpoint_auth_method
	// none; the library then requires PKCE at the token endpoint).
	// Confidential clients may authenticate with client_secret_basic or
	// client_secret_post.
	Secret string
	// RedirectURIs must match exactly; http URIs are allowed.
	RedirectURIs []string
	// GrantTypes default to authorization_code and refresh_token, plus
	// client_credentials for a confidential client.
	GrantTypes []string
	// Scopes are the non-OIDC scopes the client may be granted (openid,
	// profile, email, phone, address and offline_access always are). A
	// client_credentials request without scope gets all of them, like
	// Cognito; asking for another one fails with invalid_scope.
	Scopes []string
	// Claims are added to the client's client_credentials access tokens.
	Claims map[string]any
	// AlwaysIssueRefreshToken issues a refresh token from the code flow
	// even when offline_access was not requested, as Cognito does (the
	// granted scope then includes offline_access).
	AlwaysIssueRefreshToken bool
}

// Options configure Start. The zero value is a usable Cognito-style
// provider without users or clients.
type Options struct {
	Style ClaimStyle
	// Audience is the API audience of StyleAuth0 access tokens.
	Audience string
	// IssuerPath is appended to the server URL to form the issuer, e.g.
	// "/us-east-1_TEST" gives a Cognito-like issuer with a path.
	IssuerPath string
	Users      []User
	Clients    []Client
	// AccessTokenLifetime; short values make refresh tests quick.
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	// Algorithm of the signing keys: RS256 (default), PS256, ES256 or EdDSA.
	Algorithm string
	// RequirePKCE refuses authorization requests without an S256
	// code_challenge, so a test fails if a client forgets PKCE. (Without
	// it, confidential clients may skip PKCE; "plain" is always refused.)
	RequirePKCE bool
	// KeepRefreshTokens turns rotation off: a refresh returns the same
	// refresh token, which stays valid.
	KeepRefreshTokens bool
}

// Provider is a running OpenID provider. Its methods are safe for
// concurrent use.
type Provider struct {
	t      testing.TB
	opts   Options
	issuer string
	op     *op.Provider
	st     *state
	host   string // host:port of the server, to tell our redirects apart
}

// Start runs a provider until the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if opts.RefreshTokenLifetime <= 0 {
		opts.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if opts.Algorithm == "" {
		opts.Algorithm = DefaultAlgorithm
	}
	opts.IssuerPath = strings.TrimSuffix(opts.IssuerPath, "/")
	if opts.IssuerPath != "" && !strings.HasPrefix(opts.IssuerPath, "/") {
		opts.IssuerPath = "/" + opts.IssuerPath
	}

	// The listener exists before Start, so the issuer is known before the
	// handler is built and no request can race with the set-up.
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	p := &Provider{t: t, opts: opts, host: srv.Listener.Addr().String()}
	p.issuer = "http://" + p.host + opts.IssuerPath

	st, err := newState(opts, p.issuer)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	p.st = st
	for _, u := range opts.Users {
		p.AddUser(u)
	}
	for _, c := range opts.Clients {
		p.AddClient(c)
	}

	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:]) // never fails (crypto/rand, Go 1.24+)
	cfg := &op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       supportedScopes(opts.Clients),
	}
	provider, err := op.NewProvider(cfg, &storage{st: st}, op.StaticIssuer(p.issuer),
		op.WithAllowInsecure(),
		op.WithCrypto(&tokenCrypto{st: st, fallback: op.NewAES256GCMCrypto(cryptoKey, "codes")}))
	if err != nil {
		t.Fatalf("oidctest: new provider: %v", err)
	}
	p.op = provider
	srv.Config.Handler = p.handler()
	srv.Start()
	return p
}

func supportedScopes(clients []Client) []string {
	scopes := []string{"openid", "profile", "email", "phone", "address", "offline_access"}
	for _, c := range clients {
		for _, s := range c.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return scopes
}

// handler puts the outage switch and the counters in front of the login
// page and the library's router.
func (p *Provider) handler() http.Handler {
	mux := http.NewServeMux()
	login := op.NewIssuerInterceptor(p.op.IssuerFromRequest).HandlerFunc(p.serveLogin)
	mux.HandleFunc(p.opts.IssuerPath+loginPath, login)
	if p.opts.IssuerPath == "" {
		mux.Handle("/", p.op)
	} else {
		mux.Handle(p.opts.IssuerPath+"/", http.StripPrefix(p.opts.IssuerPath, p.op))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.st.count(r, p.opts.IssuerPath)
		if p.st.isDown() {
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Issuer is the issuer identifier (the iss of every token).
func (p *Provider) Issuer() string { return p.issuer }

// DiscoveryURL is the OpenID discovery document's URL.
func (p *Provider) DiscoveryURL() string { return p.issuer + "/.well-known/openid-configuration" }

// JWKSURL is the jwks_uri of the discovery document.
func (p *Provider) JWKSURL() string { return p.issuer + "/keys" }

// Endpoint is the provider's authorization and token endpoints for
// golang.org/x/oauth2.
func (p *Provider) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: p.issuer + "/authorize", TokenURL: p.issuer + "/oauth/token"}
}

// Audience is the API audience of StyleAuth0 access tokens.
func (p *Provider) Audience() string { return p.opts.Audience }

// AddUser registers or replaces a user.
func (p *Provider) AddUser(u User) {
	if u.Subject == "" {
		u.Subject = "sub-" + u.Username
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.users[u.Username] = u
}

// AddClient registers or replaces a client, e.g. once the redirect URI of
// a server started after the provider is known.
func (p *Provider) AddClient(c Client) {
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		if c.Secret != "" {
			c.GrantTypes = append(c.GrantTypes, GrantClientCredentials)
		}
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.clients[c.ID] = c
}

// SetDown makes every endpoint answer 503 (true) or serve again (false).
// Requests are still counted while down.
func (p *Provider) SetDown(down bool) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.down = down
}

// TokenCalls counts token endpoint requests with the given grant_type
// (GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, …),
// successful or not, including those refused while down.
func (p *Provider) TokenCalls(grantType string) int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.tokenCalls[grantType]
}

// JWKSCalls counts requests for the JWKS.
func (p *Provider) JWKSCalls() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.jwksCalls
}

// DiscoveryCalls counts requests for the discovery document.
func (p *Provider) DiscoveryCalls() int {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.discoveryCalls
}

// RevokeRefreshTokens invalidates every refresh token issued so far, as an
// IdP does when a user revokes consent; the next refresh fails with
// invalid_grant.
func (p *Provider) RevokeRefreshTokens() {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	clear(p.st.refresh)
}

// Authorize plays the user's browser: it opens authURL (which may first
// pass through other servers, e.g. our own authorize endpoint), signs in
// on the login form as username, and returns the URL the provider finally
// redirects to outside itself, normally the client's redirect URI with
// code and state (or error) in its query. It does not fetch that URL.
func (p *Provider) Authorize(ctx context.Context, authURL, username, password string) (*url.URL, error) {
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("oidctest: authorization URL: %w", err)
	}
	var leftWith *url.URL
	visited := start.Host == p.host
	hc := &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == p.host {
				visited = true
				return nil
			}
			if visited {
				leftWith = req.URL
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return fmt.Errorf("oidctest: too many redirects")
			}
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	form, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: open authorization URL: %w", err)
	}
	form.Body.Close()
	if leftWith != nil {
		return leftWith, nil // e.g. an error redirect before any login
	}
	if form.Request.URL.Host != p.host || form.Request.URL.Path != p.opts.IssuerPath+loginPath {
		return nil, fmt.Errorf("oidctest: %s did not lead to the login form (ended at %s, status %d)",
			authURL, form.Request.URL.Redacted(), form.StatusCode)
	}
	vals := url.Values{
		"id":       {form.Request.URL.Query().Get(loginRequestParam)},
		"username": {username},
		"password": {password},
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, form.Request.URL.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: post login form: %w", err)
	}
	resp.Body.Close()
	if leftWith == nil {
		return nil, fmt.Errorf("oidctest: login as %q did not redirect to the client (status %d)", username, resp.StatusCode)
	}
	return leftWith, nil
}
