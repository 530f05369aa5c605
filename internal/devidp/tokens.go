package devidp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Grant is what a token is issued for: a user (Username empty for client
// credentials) through a client, with scopes.
type Grant struct {
	Pool     *Pool
	ClientID string
	Subject  string // the user's sub, or the client id
	Username string
	Scopes   []string
	AuthTime time.Time
}

// RefreshToken is a stored refresh token (keyed by its hash). Its methods
// make it the OpenID provider library's RefreshTokenRequest.
type RefreshToken struct {
	ID       string    `json:"id"`
	PoolID   string    `json:"poolId"`
	ClientID string    `json:"clientId"`
	Subject  string    `json:"subject"`
	Username string    `json:"username,omitempty"`
	Scopes   []string  `json:"scopes"`
	AuthTime time.Time `json:"authTime"`
}

func (r *RefreshToken) GetAMR() []string                 { return []string{"pwd"} }
func (r *RefreshToken) GetAudience() []string            { return []string{r.ClientID} }
func (r *RefreshToken) GetAuthTime() time.Time           { return r.AuthTime }
func (r *RefreshToken) GetClientID() string              { return r.ClientID }
func (r *RefreshToken) GetScopes() []string              { return r.Scopes }
func (r *RefreshToken) GetSubject() string               { return r.Subject }
func (r *RefreshToken) SetCurrentScopes(scopes []string) { r.Scopes = slices.Clone(scopes) }

// AccessToken remembers an issued access token for userinfo and
// introspection; Hash (HashToken of the JWT) binds it to the exact token.
type AccessToken struct {
	ClientID string   `json:"clientId"`
	Subject  string   `json:"subject"`
	Username string   `json:"username,omitempty"`
	Scopes   []string `json:"scopes"`
	Hash     string   `json:"hash"`
}

// HashToken is the hex SHA-256 under which tokens and codes are stored.
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// TokenScopes drops offline_access: it only asks the library for a
// refresh token, and Cognito never lists it.
func TokenScopes(scopes []string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == oidc.ScopeOfflineAccess })
}

// MintAccess signs a Cognito-style access token (client_id, token_use,
// no aud) and records it for userinfo and revocation.
func (s *Service) MintAccess(ctx context.Context, g Grant) (string, time.Time, error) {
	key, err := s.SigningKey(ctx, g.Pool)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	exp := now.Add(s.accessTTL)
	jti := rand.Text()
	scopes := TokenScopes(g.Scopes)
	claims := map[string]any{
		"sub": g.Subject, "iss": s.Issuer(g.Pool.ID), "client_id": g.ClientID, "token_use": "access",
		"scope": strings.Join(scopes, " "), "auth_time": g.AuthTime.Unix(), "iat": now.Unix(),
		"exp": exp.Unix(), "jti": jti, "version": 2,
	}
	if g.Username != "" {
		claims["username"] = g.Username
	}
	jwt, err := signJWT(key, claims)
	if err != nil {
		return "", time.Time{}, err
	}
	rec := AccessToken{ClientID: g.ClientID, Subject: g.Subject, Username: g.Username, Scopes: scopes, Hash: HashToken(jwt)}
	if err := s.create(ctx, kindAccess, g.Pool.ID+"/"+jti, rec, s.accessTTL); err != nil {
		return "", time.Time{}, err
	}
	return jwt, exp, nil
}

// mintID signs an ID token for InitiateAuth; the OAuth endpoints have
// the library mint theirs from the same claims (see fillUserinfo).
func (s *Service) mintID(ctx context.Context, g Grant, u *User) (string, error) {
	key, err := s.SigningKey(ctx, g.Pool)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims := map[string]any{
		"sub": u.Sub, "aud": g.ClientID, "iss": s.Issuer(g.Pool.ID), "token_use": "id",
		"auth_time": g.AuthTime.Unix(), "iat": now.Unix(), "exp": now.Add(s.accessTTL).Unix(),
		"jti": rand.Text(),
	}
	for k, v := range UserClaims(u) {
		claims[k] = v
	}
	return signJWT(key, claims)
}

// UserClaims are the attribute claims of a user's ID token and userinfo.
func UserClaims(u *User) map[string]any {
	m := map[string]any{"cognito:username": u.Username}
	for k, v := range u.Attributes {
		switch k {
		case "email_verified", "phone_number_verified":
			m[k] = v == "true"
		default:
			m[k] = v
		}
	}
	return m
}

// MintRefresh stores a new opaque refresh token for g.
func (s *Service) MintRefresh(ctx context.Context, g Grant) (string, error) {
	tok := rand.Text() + rand.Text()
	rec := RefreshToken{ID: rand.Text(), PoolID: g.Pool.ID, ClientID: g.ClientID, Subject: g.Subject,
		Username: g.Username, Scopes: g.Scopes, AuthTime: g.AuthTime}
	if err := s.create(ctx, kindRefresh, g.Pool.ID+"/"+HashToken(tok), rec, s.refTTL); err != nil {
		return "", err
	}
	return tok, nil
}

// LookupRefresh loads a live refresh token of the pool.
func (s *Service) LookupRefresh(ctx context.Context, poolID, tok string) (*RefreshToken, error) {
	var rec RefreshToken
	if _, err := s.get(ctx, kindRefresh, poolID+"/"+HashToken(tok), &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// ConsumeRefresh deletes a refresh token; of concurrent rotations with the
// same token exactly one succeeds.
func (s *Service) ConsumeRefresh(ctx context.Context, poolID, tok string) error {
	return s.st.Delete(ctx, kindRefresh, storeAccount, poolID+"/"+HashToken(tok))
}

// LookupAccess loads the record of a live access token by jti.
func (s *Service) LookupAccess(ctx context.Context, poolID, jti string) (AccessToken, error) {
	var rec AccessToken
	_, err := s.get(ctx, kindAccess, poolID+"/"+jti, &rec)
	return rec, err
}
