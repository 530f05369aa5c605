package oauthclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
)

// Token is what a token endpoint granted.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	// ObtainedAt is when the token was received (by the client's clock).
	ObtainedAt time.Time
	// Expiry is when the access token stops working; zero when the server
	// did not say and the token is not a JWT with an exp claim.
	Expiry time.Time
	// Scopes are the scopes granted: the server's "scope" member, else
	// (RFC 6749 §5.1) the ones requested.
	Scopes []string
}

// Error is a failed request to an authorization server. It carries only
// what is safe to show a caller: the OAuth error code and description the
// server sent, or the HTTP status, or the transport failure. Response
// bodies are never kept, as they may echo credentials.
type Error struct {
	// Op is the grant ("authorization_code", "client_credentials",
	// "refresh_token") or "discovery".
	Op          string
	Status      int
	Code        string
	Description string
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauthclient: " + e.Op)
	switch {
	case e.Code != "":
		b.WriteString(": " + e.Code)
		if e.Description != "" {
			b.WriteString(": " + e.Description)
		}
	case e.Status != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Rejected reports whether the server refused the request (an OAuth error
// or a 4xx), as opposed to being unreachable or failing (5xx, network).
func (e *Error) Rejected() bool {
	return e.Code != "" || (e.Status >= 400 && e.Status < 500)
}

// InvalidGrant reports whether the server said the code or refresh token is
// no longer usable, so a new authorization is needed.
func InvalidGrant(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "invalid_grant"
}

// Exchange redeems an authorization code with its PKCE verifier.
func (c *Client) Exchange(ctx context.Context, p credprovider.OAuth2Provider, ep Endpoints, code, verifier, redirectURI string, requested []string) (Token, error) {
	conf := c.config(p, ep, redirectURI)
	t, err := conf.Exchange(c.httpContext(ctx, p), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Token{}, wrap("authorization_code", err)
	}
	return c.token(t, requested, p), nil
}

// Refresh redeems a refresh token. The server may rotate it: the returned
// Token carries the new one, or the old one when none was issued.
func (c *Client) Refresh(ctx context.Context, p credprovider.OAuth2Provider, ep Endpoints, refreshToken string, granted []string) (Token, error) {
	conf := c.config(p, ep, "")
	t, err := conf.TokenSource(c.httpContext(ctx, p), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return Token{}, wrap("refresh_token", err)
	}
	tok := c.token(t, granted, p)
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// ClientCredentials runs the client credentials grant. Resources and
// audiences go out as RFC 8707 "resource" and (Auth0-style) "audience"
// parameters.
func (c *Client) ClientCredentials(ctx context.Context, p credprovider.OAuth2Provider, ep Endpoints, scopes, resources, audiences []string) (Token, error) {
	params := url.Values{}
	if len(resources) > 0 {
		params["resource"] = slices.Clone(resources)
	}
	if len(audiences) > 0 {
		params["audience"] = slices.Clone(audiences)
	}
	conf := clientcredentials.Config{
		ClientID:       p.ClientID,
		ClientSecret:   p.ClientSecret.Reveal(),
		TokenURL:       ep.TokenEndpoint,
		Scopes:         NormalizeScopes(scopes),
		EndpointParams: params,
		AuthStyle:      ep.AuthStyle,
	}
	t, err := conf.Token(c.httpContext(ctx, p))
	if err != nil {
		return Token{}, wrap("client_credentials", err)
	}
	return c.token(t, scopes, p), nil
}

func (c *Client) config(p credprovider.OAuth2Provider, ep Endpoints, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret.Reveal(),
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   ep.AuthorizationEndpoint,
			TokenURL:  ep.TokenEndpoint,
			AuthStyle: ep.AuthStyle,
		},
	}
}

// wrap turns x/oauth2 errors into *Error without their response bodies.
func wrap(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Op: op, Code: printable(re.ErrorCode, 64), Description: printable(re.ErrorDescription, 256)}
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error names the endpoint, which is configuration, not secret.
		return &Error{Op: op, Err: ue}
	}
	// x/oauth2's own messages ("server response missing access_token")
	// never contain the response.
	return &Error{Op: op, Err: err}
}

// printable bounds and sanitizes server-provided text before it can reach
// a log line or an error message.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// token converts an x/oauth2 token, computing the expiry with our clock.
func (c *Client) token(t *oauth2.Token, requested []string, p credprovider.OAuth2Provider) Token {
	now := c.now()
	out := Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, ObtainedAt: now}
	if secs, ok := number(t.Extra("expires_in")); ok && secs > 0 {
		out.Expiry = now.Add(time.Duration(secs) * time.Second)
	} else if exp, ok := jwtExpiry(t.AccessToken); ok {
		out.Expiry = exp
	}
	out.Scopes = NormalizeScopes(requested)
	if s, ok := t.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		out.Scopes = splitScopes(s, p.VendorInfo.Quirks.ScopeSeparator)
	}
	return out
}

func number(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// jwtExpiry reads exp from an access token that happens to be a JWT. The
// signature is not checked: the value only decides how long to cache a
// token we were just given by the server itself.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(body, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// splitScopes splits a granted-scope string; a vendor separator (Slack's
// comma) is accepted alongside the standard space.
func splitScopes(s, sep string) []string {
	if sep != "" && sep != " " {
		s = strings.ReplaceAll(s, sep, " ")
	}
	return NormalizeScopes(strings.Fields(s))
}

// NormalizeScopes sorts and de-duplicates scopes, dropping empty ones, so
// that equal sets compare equal.
func NormalizeScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Covers reports whether granted includes every scope of requested.
func Covers(granted, requested []string) bool {
	for _, r := range requested {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(granted, r) {
			return false
		}
	}
	return true
}
