package oidctest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// tokenCrypto is the library's op.Crypto. The library's own JWT access
// tokens always carry aud (it falls back to the client id) and client_id,
// which makes neither Cognito's nor Auth0's shape possible. So clients use
// the "bearer" access token type, whose value the library obtains from
// Crypto.Encrypt("<token id>:<subject>"), and Encrypt returns a JWT with the
// configured claim style instead of ciphertext. Everything else (grants,
// PKCE, client authentication, rotation, responses) stays the library's.
// Encrypt is also used for authorization codes, which go to fallback.
type tokenCrypto struct {
	st       *state
	fallback op.Crypto
}

func (c *tokenCrypto) Encrypt(s string) (string, error) {
	id, _, isToken := strings.Cut(s, ":")
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	rec := c.st.access[id]
	if !isToken || rec == nil {
		return c.fallback.Encrypt(s)
	}
	jwt, err := signJWT(c.st.keys[len(c.st.keys)-1], c.st.accessClaims(rec), c.st.opts.Style == StyleAuth0)
	rec.jwt = jwt
	return jwt, err
}

// Decrypt maps an access token back to "<token id>:<subject>" for the
// userinfo, introspection and revocation endpoints. Only the exact token
// minted for that id maps, and only while it is unexpired and unrevoked.
func (c *tokenCrypto) Decrypt(s string) (string, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return c.fallback.Decrypt(s)
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return "", errors.New("oidctest: not an access token")
	}
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	rec := c.st.access[claims.JTI]
	if rec == nil || rec.jwt != s || time.Now().After(rec.expires) {
		return "", errors.New("oidctest: access token unknown, revoked or expired")
	}
	return rec.id + ":" + rec.subject, nil
}

func signJWT(key *signingKey, claims map[string]any, typ bool) (string, error) {
	opts := &jose.SignerOptions{}
	if typ {
		opts = opts.WithType("JWT")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg,
		Key: jose.JSONWebKey{Key: key.priv, KeyID: key.kid}}, opts)
	if err != nil {
		return "", fmt.Errorf("oidctest: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidctest: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oidctest: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// accessClaims renders an access token in the configured style. Extra
// claims go in first so they never replace a registered one.
func (st *state) accessClaims(rec *accessRecord) map[string]any {
	m := maps.Clone(rec.extra)
	if m == nil {
		m = map[string]any{}
	}
	m["iss"] = st.issuer
	m["iat"] = rec.issued.Unix()
	m["exp"] = rec.expires.Unix()
	m["jti"] = rec.id
	m["scope"] = strings.Join(rec.scopes, " ")
	m["sub"] = rec.subject
	switch st.opts.Style {
	case StyleAuth0:
		m["azp"] = rec.clientID
		aud := []string{st.opts.Audience}
		if slices.Contains(rec.scopes, oidc.ScopeOpenID) {
			aud = append(aud, st.issuer+"/userinfo")
		}
		if len(aud) == 1 {
			m["aud"] = aud[0]
		} else {
			m["aud"] = aud
		}
		if rec.username == "" {
			m["sub"] = rec.clientID + "@clients"
			m["gty"] = "client-credentials"
		}
	default:
		m["client_id"] = rec.clientID
		m["token_use"] = "access"
		m["auth_time"] = rec.authTime.Unix()
		m["version"] = 2
		if rec.username != "" {
			m["username"] = rec.username
		}
	}
	return m
}

// AccessTokenClaims returns the claims the provider would put in a fresh
// access token for clientID, on behalf of username (empty for a
// client_credentials token), with the given scopes. Tests edit them and
// mint with SignRaw: an expired token, a wrong issuer, a missing claim, ….
func (p *Provider) AccessTokenClaims(clientID, username string, scopes ...string) map[string]any {
	p.t.Helper()
	now := time.Now()
	rec := &accessRecord{
		id: randomID(), clientID: clientID, subject: clientID, scopes: scopes,
		issued: now, authTime: now, expires: now.Add(p.opts.AccessTokenLifetime),
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if username == "" {
		rec.extra = p.st.clients[clientID].Claims
	} else {
		u, ok := p.st.users[username]
		if !ok {
			p.t.Fatalf("oidctest: no user %q", username)
		}
		rec.subject, rec.username, rec.extra = u.Subject, u.Username, u.Claims
	}
	return p.st.accessClaims(rec)
}
