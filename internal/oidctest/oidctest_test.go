package oidctest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

const (
	redirectURI = "http://127.0.0.1:1/callback" // never fetched: Authorize stops at it
	password    = "correct horse"
)

func start(t *testing.T, style oidctest.ClaimStyle, mod func(*oidctest.Options)) *oidctest.Provider {
	t.Helper()
	opts := oidctest.Options{
		Style: style,
		Users: []oidctest.User{{Username: "alice", Password: password, Email: "alice@example.test",
			Claims: map[string]any{"groups": []string{"admins", "staff"}}}},
		Clients: []oidctest.Client{
			{ID: "web", Secret: "web-secret", RedirectURIs: []string{redirectURI}, Scopes: []string{"api/read", "api/write"},
				Claims: map[string]any{"tenant": "acme"}},
			{ID: "spa", RedirectURIs: []string{redirectURI}, Scopes: []string{"api/read"}},
		},
	}
	if mod != nil {
		mod(&opts)
	}
	return oidctest.Start(t, opts)
}

func webConfig(p *oidctest.Provider, scopes ...string) *oauth2.Config {
	return &oauth2.Config{ClientID: "web", ClientSecret: "web-secret", Endpoint: p.Endpoint(),
		RedirectURL: redirectURI, Scopes: scopes}
}

// login runs the code flow with PKCE as alice and exchanges the code.
func login(t *testing.T, p *oidctest.Provider, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	state := "st-" + t.Name()
	redirect, err := p.Authorize(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), "alice", password)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if got := redirect.Scheme + "://" + redirect.Host + redirect.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	if redirect.Query().Get("state") != state || redirect.Query().Get("code") == "" {
		t.Fatalf("redirect query %v lacks state or code", redirect.Query())
	}
	tok, err := cfg.Exchange(ctx, redirect.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// verifyAccess checks an access token against the JWKS with go-oidc, the
// way a resource server would, and returns its claims.
func verifyAccess(t *testing.T, p *oidctest.Provider, token string) map[string]any {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	idt, err := provider.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, token)
	if err != nil {
		t.Fatalf("verify access token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestDiscoveryAndJWKS(t *testing.T) {
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) { o.IssuerPath = "/us-east-1_TEST" })
	if !strings.HasSuffix(p.Issuer(), "/us-east-1_TEST") {
		t.Fatalf("issuer %q lacks the path", p.Issuer())
	}
	var doc struct {
		Issuer, JWKSURI, TokenEndpoint, AuthorizationEndpoint string
		CodeChallengeMethods                                  []string `json:"code_challenge_methods_supported"`
		GrantTypes                                            []string `json:"grant_types_supported"`
		Scopes                                                []string `json:"scopes_supported"`
	}
	getJSON(t, p.DiscoveryURL(), &doc)
	raw := map[string]any{}
	getJSON(t, p.DiscoveryURL(), &raw)
	doc.JWKSURI, _ = raw["jwks_uri"].(string)
	doc.TokenEndpoint, _ = raw["token_endpoint"].(string)
	doc.AuthorizationEndpoint, _ = raw["authorization_endpoint"].(string)
	if doc.Issuer != p.Issuer() || doc.JWKSURI != p.JWKSURL() || doc.TokenEndpoint != p.Endpoint().TokenURL ||
		doc.AuthorizationEndpoint != p.Endpoint().AuthURL {
		t.Errorf("discovery %+v does not match the provider's URLs", doc)
	}
	for _, want := range []string{"client_credentials", "refresh_token", "authorization_code"} {
		if !slices.Contains(doc.GrantTypes, want) {
			t.Errorf("grant_types_supported %v lacks %s", doc.GrantTypes, want)
		}
	}
	if !slices.Contains(doc.CodeChallengeMethods, "S256") || !slices.Contains(doc.Scopes, "api/read") {
		t.Errorf("discovery lacks S256 or api/read: %v %v", doc.CodeChallengeMethods, doc.Scopes)
	}
	var jwks struct {
		Keys []struct{ Kid, Alg, Use, Kty string }
	}
	getJSON(t, p.JWKSURL(), &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kid != p.KeyID() || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Kty != "RSA" {
		t.Errorf("jwks = %+v, want one RS256 key %s", jwks.Keys, p.KeyID())
	}
	if p.DiscoveryCalls() != 2 || p.JWKSCalls() != 1 {
		t.Errorf("counters: discovery %d, jwks %d; want 2, 1", p.DiscoveryCalls(), p.JWKSCalls())
	}
}

func TestAuthCodePKCECognitoStyle(t *testing.T) {
	// With an issuer path, as Cognito's https://cognito-idp.<region>.amazonaws.com/<pool>.
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) { o.IssuerPath = "/us-east-1_TEST" })
	tok := login(t, p, webConfig(p, "openid", "profile", "email", "api/read"))

	claims := verifyAccess(t, p, tok.AccessToken)
	if _, has := claims["aud"]; has {
		t.Errorf("Cognito-style access token has aud: %v", claims["aud"])
	}
	want := map[string]any{"client_id": "web", "token_use": "access", "username": "alice", "sub": "sub-alice",
		"scope": "openid profile email api/read", "iss": p.Issuer()}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if g, _ := claims["groups"].([]any); len(g) != 2 {
		t.Errorf("user claim groups = %v", claims["groups"])
	}

	// The ID token is the library's: aud is the client id.
	rawID, _ := tok.Extra("id_token").(string)
	provider, err := oidc.NewProvider(context.Background(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "web"}).Verify(context.Background(), rawID)
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	var idc map[string]any
	_ = idt.Claims(&idc)
	if idt.Subject != "sub-alice" || idc["email"] != "alice@example.test" || idc["token_use"] != "id" {
		t.Errorf("id token claims = %v", idc)
	}
	if tok.RefreshToken != "" {
		t.Errorf("refresh token issued without offline_access")
	}
	if n := p.TokenCalls(oidctest.GrantAuthorizationCode); n != 1 {
		t.Errorf("authorization_code calls = %d, want 1", n)
	}
}

func TestAuthCodeAuth0Style(t *testing.T) {
	p := start(t, oidctest.StyleAuth0, func(o *oidctest.Options) { o.Audience = "gateway123" })
	tok := login(t, p, webConfig(p, "openid", "api/read"))
	claims := verifyAccess(t, p, tok.AccessToken)
	aud, _ := claims["aud"].([]any)
	if len(aud) != 2 || aud[0] != "gateway123" || aud[1] != p.Issuer()+"/userinfo" {
		t.Errorf("aud = %v", claims["aud"])
	}
	if claims["azp"] != "web" || claims["scope"] != "openid api/read" {
		t.Errorf("azp/scope = %v/%v", claims["azp"], claims["scope"])
	}
	if _, has := claims["client_id"]; has {
		t.Errorf("Auth0-style token has client_id")
	}

	// Userinfo accepts the access token.
	provider, err := oidc.NewProvider(context.Background(), p.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	ui, err := provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != "sub-alice" {
		t.Errorf("userinfo = %+v, %v", ui, err)
	}
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	p := start(t, oidctest.StyleCognito, nil)
	ctx := context.Background()
	cfg := &oauth2.Config{ClientID: "spa", Endpoint: p.Endpoint(), RedirectURL: redirectURI, Scopes: []string{"openid"}}

	redirect, err := p.Authorize(ctx, cfg.AuthCodeURL("s"), "alice", password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, redirect.Query().Get("code")); err == nil {
		t.Fatal("public client exchanged a code without PKCE")
	}

	v := oauth2.GenerateVerifier()
	redirect, err = p.Authorize(ctx, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "alice", password)
	if err != nil {
		t.Fatal(err)
	}
	code := redirect.Query().Get("code")
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("wrong code_verifier accepted")
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("right verifier: %v", err)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("code redeemed twice")
	}
}

func TestRequirePKCEAndPlainRefused(t *testing.T) {
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) { o.RequirePKCE = true })
	cfg := webConfig(p, "openid")
	redirect, err := p.Authorize(context.Background(), cfg.AuthCodeURL("s"), "alice", password)
	if err != nil {
		t.Fatal(err)
	}
	if redirect.Query().Get("error") != "invalid_request" || redirect.Query().Get("code") != "" {
		t.Errorf("without PKCE: redirect %v, want error=invalid_request", redirect.Query())
	}
	plain := cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs"),
		oauth2.SetAuthURLParam("code_challenge_method", "plain"))
	redirect, err = p.Authorize(context.Background(), plain, "alice", password)
	if err != nil {
		t.Fatal(err)
	}
	if redirect.Query().Get("code") != "" {
		t.Errorf("plain PKCE accepted: %v", redirect.Query())
	}
}

func TestLoginFormRejectsBadPassword(t *testing.T) {
	p := start(t, oidctest.StyleCognito, nil)
	cfg := webConfig(p, "openid")
	_, err := p.Authorize(context.Background(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "wrong")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad password: err = %v, want a 401", err)
	}

	// Driving the form by hand: GET shows it, POST signs in and redirects.
	hc := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != mustURL(t, p.Issuer()).Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="password"`) {
		t.Fatalf("GET login: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"id": {resp.Request.URL.Query().Get("authRequestID")}, "username": {"alice"}, "password": {password}}
	resp, err = hc.PostForm(resp.Request.URL.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("state") != "s2" {
		t.Fatalf("POST login: %d → %v", resp.StatusCode, loc)
	}
}

func TestRefreshRotation(t *testing.T) {
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) { o.AccessTokenLifetime = 2 * time.Second })
	ctx := context.Background()
	cfg := webConfig(p, "openid", "offline_access", "api/read")
	tok := login(t, p, cfg)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	if d := time.Until(tok.Expiry); d > 3*time.Second {
		t.Errorf("access token lifetime %v, want ~2s", d)
	}

	// Force a refresh by marking the token expired.
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &stale).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate the refresh token or mint a new access token")
	}
	if n := p.TokenCalls(oidctest.GrantRefreshToken); n != 1 {
		t.Errorf("refresh calls = %d, want 1", n)
	}
	if claims := verifyAccess(t, p, fresh.AccessToken); claims["username"] != "alice" || claims["scope"] != "openid offline_access api/read" {
		t.Errorf("refreshed claims = %v", claims)
	}

	// The old refresh token is dead; the new one works once.
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("reusing the old refresh token: %v, want invalid_grant", err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err != nil {
		t.Errorf("new refresh token: %v", err)
	}

	p.RevokeRefreshTokens()
	tok2 := login(t, p, cfg)
	p.RevokeRefreshTokens()
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err == nil {
		t.Error("revoked refresh token still works")
	}
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	p := start(t, oidctest.StyleCognito, nil)
	cfg := webConfig(p, "openid", "offline_access")
	tok := login(t, p, cfg)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d concurrent refreshes with one token succeeded, want 1", ok)
	}
}

func TestKeepRefreshTokensAndAlwaysIssue(t *testing.T) {
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) {
		o.KeepRefreshTokens = true
		o.Clients[0].AlwaysIssueRefreshToken = true
	})
	cfg := webConfig(p, "openid")
	tok := login(t, p, cfg)
	if tok.RefreshToken == "" {
		t.Fatal("AlwaysIssueRefreshToken: no refresh token")
	}
	for range 2 {
		got, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || got.RefreshToken != tok.RefreshToken {
			t.Fatalf("refresh without rotation: %v, token changed: %v", err, got != nil && got.RefreshToken != tok.RefreshToken)
		}
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
