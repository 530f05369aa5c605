package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/inbound/jwtauth"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func provider(t *testing.T, style oidctest.ClaimStyle, alg string) *oidctest.Provider {
	t.Helper()
	return oidctest.Start(t, oidctest.Options{
		Style: style, Audience: "gateway123", Algorithm: alg,
		Users: []oidctest.User{{Username: "alice", Password: "pw",
			Claims: map[string]any{"groups": []string{"admins", "staff"}, "tier": "gold"}}},
		Clients: []oidctest.Client{{ID: "web", Secret: "web-secret", Scopes: []string{"invoke", "read"},
			Claims: map[string]any{"groups": []any{"machines"}, "tier": "silver", "count": 3}}},
	})
}

// m2mToken gets a real client_credentials token from the provider.
func m2mToken(t *testing.T, p *oidctest.Provider, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: "web", ClientSecret: "web-secret", TokenURL: p.Endpoint().TokenURL, Scopes: scopes}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

func str(s string) *string { return &s }

func claim(name, typ, op string, one *string, list ...string) inbound.CustomClaim {
	return inbound.CustomClaim{InboundTokenClaimName: name, InboundTokenClaimValueType: typ,
		AuthorizingClaimMatchValue: inbound.ClaimMatch{ClaimMatchOperator: op,
			ClaimMatchValue: inbound.ClaimMatchValue{MatchValueString: one, MatchValueStringList: list}}}
}

func TestValidate(t *testing.T) {
	cognito := provider(t, oidctest.StyleCognito, "")
	auth0 := provider(t, oidctest.StyleAuth0, "")
	es := provider(t, oidctest.StyleAuth0, "ES256")
	ed := provider(t, oidctest.StyleCognito, "EdDSA")
	attacker := provider(t, oidctest.StyleCognito, "")

	// claims returns fresh Cognito-style claims for the web client, edited.
	claims := func(p *oidctest.Provider, edit func(map[string]any)) map[string]any {
		c := p.AccessTokenClaims("web", "", "invoke")
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(p *oidctest.Provider, edit func(map[string]any), o oidctest.SignOptions) string {
		return p.SignRaw(claims(p, edit), o)
	}
	now := time.Now()
	cog := func(mod func(*inbound.JWTAuthorizerConfig)) inbound.JWTAuthorizerConfig {
		c := inbound.JWTAuthorizerConfig{DiscoveryURL: cognito.DiscoveryURL()}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	oldKid := auth0.KeyID()
	auth0.RotateKeys(true) // two published keys from here on
	var jkuHits atomic.Int32
	jku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { jkuHits.Add(1) }))
	defer jku.Close()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	attackerJWK := jose.JSONWebKey{Key: ecKey.Public(), KeyID: cognito.KeyID(), Algorithm: "ES256"}

	tests := []struct {
		name    string
		cfg     inbound.JWTAuthorizerConfig
		token   string
		wantErr string // substring of the error; "" means accepted
		check   func(*testing.T, inbound.Caller)
	}{
		{name: "ok/cognito access token with allowedClients",
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedClients = []string{"other", "web"} }), token: m2mToken(t, cognito),
			check: func(t *testing.T, c inbound.Caller) {
				if c.ClientID != "web" || c.Subject != "web" || c.Issuer != cognito.Issuer() || len(c.Audience) != 0 ||
					strings.Join(c.Scopes, " ") != "invoke read" || c.Claims["token_use"] != "access" || time.Until(c.ExpiresAt) < 50*time.Minute {
					t.Errorf("caller = %+v", c)
				}
			}},
		{name: "fail/cognito access token with allowedAudience only",
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedAudience = []string{"web"} }), token: m2mToken(t, cognito),
			wantErr: "token has no aud claim but allowedAudience requires one"},
		{name: "ok/auth0 token with allowedAudience",
			cfg:   inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL(), AllowedAudience: []string{"gateway123"}},
			token: m2mToken(t, auth0),
			check: func(t *testing.T, c inbound.Caller) {
				if c.ClientID != "web" || c.Subject != "web@clients" || len(c.Audience) != 1 || c.Audience[0] != "gateway123" {
					t.Errorf("caller = %+v", c)
				}
			}},
		{name: "ok/auth0 allowedClients matches azp", token: m2mToken(t, auth0),
			cfg: inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL(), AllowedClients: []string{"web"}}},
		{name: "fail/auth0 audience not allowed", token: m2mToken(t, auth0),
			cfg:     inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL(), AllowedAudience: []string{"other-api"}},
			wantErr: `audience ["gateway123"] not in allowedAudience`},
		{name: "fail/client not allowed", token: m2mToken(t, cognito),
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedClients = []string{"mobile"} }), wantErr: `client "web" not in allowedClients`},
		{name: "ok/no rules checks signature issuer and time only", cfg: cog(nil), token: m2mToken(t, cognito)},
		{name: "ok/ES256", token: m2mToken(t, es),
			cfg: inbound.JWTAuthorizerConfig{DiscoveryURL: es.DiscoveryURL(), AllowedAudience: []string{"gateway123"}}},
		{name: "ok/EdDSA", token: m2mToken(t, ed), cfg: inbound.JWTAuthorizerConfig{DiscoveryURL: ed.DiscoveryURL()}},

		{name: "fail/expired", cfg: cog(nil), wantErr: "token expired at " + now.Add(-2*time.Minute).UTC().Format(time.RFC3339),
			token: sign(cognito, func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }, oidctest.SignOptions{})},
		{name: "ok/expired within leeway", cfg: cog(nil),
			token: sign(cognito, func(c map[string]any) { c["exp"] = now.Add(-10 * time.Second).Unix() }, oidctest.SignOptions{})},
		{name: "fail/not yet valid", cfg: cog(nil), wantErr: "token not valid before",
			token: sign(cognito, func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }, oidctest.SignOptions{})},
		{name: "fail/issued in the future", cfg: cog(nil), wantErr: "token issued in the future",
			token: sign(cognito, func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }, oidctest.SignOptions{})},
		{name: "fail/no exp", cfg: cog(nil), wantErr: "token has no exp claim",
			token: sign(cognito, func(c map[string]any) { delete(c, "exp") }, oidctest.SignOptions{})},
		{name: "fail/wrong issuer", cfg: cog(nil), wantErr: `issuer "https://evil.example" does not match the discovery issuer`,
			token: sign(cognito, func(c map[string]any) { c["iss"] = "https://evil.example" }, oidctest.SignOptions{})},
		{name: "fail/token of another provider", cfg: cog(nil), wantErr: "unknown signing key id", token: m2mToken(t, attacker)},
		{name: "fail/no sub", cfg: cog(nil), wantErr: "token has no sub claim",
			token: sign(cognito, func(c map[string]any) { delete(c, "sub") }, oidctest.SignOptions{})},

		{name: "fail/alg none", cfg: cog(nil), wantErr: `unsigned token (alg "none")`,
			token: sign(cognito, nil, oidctest.SignOptions{Alg: "none"})},
		{name: "fail/HS256 signed with the public key", cfg: cog(nil), wantErr: `symmetric alg "HS256"`,
			token: sign(cognito, nil, oidctest.SignOptions{Alg: "HS256", HMACKey: cognito.PublicKeyPEM()})},
		{name: "fail/RS256 with kid of a different published key", wantErr: "signature verification failed",
			cfg:   inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL()},
			token: sign(auth0, nil, oidctest.SignOptions{KID: &oldKid})},
		{name: "ok/old key still published after rotation", cfg: inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL()},
			token: sign(auth0, nil, oidctest.SignOptions{SignWith: oldKid})},
		{name: "fail/no kid with two published keys", cfg: inbound.JWTAuthorizerConfig{DiscoveryURL: auth0.DiscoveryURL()},
			token: sign(auth0, nil, oidctest.SignOptions{KID: str("")}), wantErr: "token has no kid and the key set holds 2 keys"},
		{name: "ok/no kid with one published key", cfg: cog(nil), token: sign(cognito, nil, oidctest.SignOptions{KID: str("")})},
		{name: "fail/unknown kid", cfg: cog(nil), wantErr: `unknown signing key id "nope"`,
			token: sign(cognito, nil, oidctest.SignOptions{KID: str("nope")})},
		{name: "fail/alg not matching the key", cfg: cog(nil), wantErr: "alg PS256 is not advertised by the identity provider",
			token: sign(cognito, nil, oidctest.SignOptions{Alg: "PS256"})},
		{name: "ok/jku x5u and jwk headers are ignored", cfg: cog(nil),
			token: sign(cognito, nil, oidctest.SignOptions{Header: map[string]any{"jku": jku.URL, "x5u": jku.URL + "/cert", "jwk": attackerJWK}})},
		{name: "fail/attacker key embedded as jwk and jku", cfg: cog(nil), wantErr: "signature verification failed",
			token: sign(attacker, func(c map[string]any) { c["iss"] = cognito.Issuer() },
				oidctest.SignOptions{KID: str(cognito.KeyID()), Header: map[string]any{"jwk": attackerJWK, "jku": attacker.JWKSURL()}})},
		{name: "fail/nested JWT", cfg: cog(nil), wantErr: "nested JWTs",
			token: sign(cognito, nil, oidctest.SignOptions{Header: map[string]any{"cty": "JWT"}})},
		{name: "fail/crit header", cfg: cog(nil), wantErr: "crit",
			token: sign(cognito, nil, oidctest.SignOptions{Header: map[string]any{"crit": []string{"exp"}, "exp": 1}})},
		{name: "fail/oversized", cfg: cog(nil), wantErr: "more than the 16384 allowed",
			token: sign(cognito, func(c map[string]any) { c["pad"] = strings.Repeat("a", 17000) }, oidctest.SignOptions{})},
		{name: "fail/not three parts", cfg: cog(nil), token: "a.b.c.d.e", wantErr: "not a compact JWS"},
		{name: "fail/garbage header", cfg: cog(nil), token: "!!!.e30.", wantErr: "malformed token header"},
		{name: "fail/tampered payload", cfg: cog(nil), wantErr: "signature verification failed",
			token: func() string {
				parts := strings.Split(m2mToken(t, cognito), ".")
				other := strings.Split(sign(cognito, func(c map[string]any) { c["client_id"] = "admin" }, oidctest.SignOptions{}), ".")
				return parts[0] + "." + other[1] + "." + parts[2]
			}()},

		{name: "ok/scope matches", token: m2mToken(t, cognito, "read"),
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedScopes = []string{"write", "read"} })},
		{name: "fail/scopes mismatch", token: m2mToken(t, cognito, "read"), wantErr: `none of the token's scopes ["read"] is in allowedScopes`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedScopes = []string{"invoke"} })},
		{name: "ok/scp array", cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedScopes = []string{"invoke"} }),
			token: sign(cognito, func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"invoke", "x"} }, oidctest.SignOptions{})},
		{name: "fail/no scope claim", cfg: cog(func(c *inbound.JWTAuthorizerConfig) { c.AllowedScopes = []string{"invoke"} }),
			token: sign(cognito, func(c map[string]any) { delete(c, "scope") }, oidctest.SignOptions{}), wantErr: "token has no scope claim"},

		{name: "ok/custom STRING EQUALS", token: m2mToken(t, cognito),
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("tier", inbound.ClaimTypeString, inbound.OpEquals, str("silver"))}
			})},
		{name: "fail/custom STRING EQUALS mismatch", token: m2mToken(t, cognito), wantErr: `claim "tier" is "silver", not "gold"`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("tier", inbound.ClaimTypeString, inbound.OpEquals, str("gold"))}
			})},
		{name: "ok/custom STRING_ARRAY CONTAINS", token: m2mToken(t, cognito),
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("groups", inbound.ClaimTypeStringArray, inbound.OpContains, str("machines"))}
			})},
		{name: "fail/custom STRING_ARRAY CONTAINS missing value", token: m2mToken(t, cognito), wantErr: `claim "groups" does not contain "admins"`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("groups", inbound.ClaimTypeStringArray, inbound.OpContains, str("admins"))}
			})},
		{name: "ok/custom CONTAINS_ANY", token: m2mToken(t, cognito),
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("groups", inbound.ClaimTypeStringArray, inbound.OpContainsAny, nil, "admins", "machines")}
			})},
		{name: "fail/custom CONTAINS_ANY none", token: m2mToken(t, cognito), wantErr: `contains none of ["admins" "staff"]`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("groups", inbound.ClaimTypeStringArray, inbound.OpContainsAny, nil, "admins", "staff")}
			})},
		{name: "fail/custom claim missing", token: m2mToken(t, cognito), wantErr: `required claim "dept" is missing`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("dept", inbound.ClaimTypeString, inbound.OpEquals, str("x"))}
			})},
		{name: "fail/custom claim wrong type", token: m2mToken(t, cognito), wantErr: `claim "count" is not a string`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("count", inbound.ClaimTypeString, inbound.OpEquals, str("3"))}
			})},
		{name: "fail/custom claim array expected", token: m2mToken(t, cognito), wantErr: `claim "tier" is not a string array`,
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.CustomClaims = []inbound.CustomClaim{claim("tier", inbound.ClaimTypeStringArray, inbound.OpContains, str("silver"))}
			})},
		{name: "fail/all rules must hold", token: m2mToken(t, cognito), wantErr: "not in allowedClients",
			cfg: cog(func(c *inbound.JWTAuthorizerConfig) {
				c.AllowedClients = []string{"mobile"}
				c.CustomClaims = []inbound.CustomClaim{claim("tier", inbound.ClaimTypeString, inbound.OpEquals, str("silver"))}
			})},
	}
	v := jwtauth.New(jwtauth.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			caller, err := v.Validate(context.Background(), tc.cfg, tc.token)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if tc.check != nil {
					tc.check(t, caller)
				}
				return
			}
			if !errors.Is(err, inbound.ErrRejected) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrRejected containing %q", err, tc.wantErr)
			}
			if errors.Is(err, inbound.ErrUnavailable) {
				t.Errorf("token refusal marked as an IdP outage: %v", err)
			}
			if len(tc.token) > 40 && strings.Contains(err.Error(), tc.token[:40]) {
				t.Errorf("error echoes the token")
			}
		})
	}
	if jkuHits.Load() != 0 || attacker.JWKSCalls() != 0 {
		t.Errorf("token-supplied key URLs were fetched: jku %d, attacker JWKS %d", jkuHits.Load(), attacker.JWKSCalls())
	}
}
