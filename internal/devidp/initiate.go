package devidp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// AuthResult is what InitiateAuth returns. RefreshToken is empty on a
// refresh: like Cognito by default, refresh tokens are not rotated there.
type AuthResult struct {
	AccessToken, IDToken, RefreshToken string
	ExpiresIn                          int
}

// userAdminScope is the scope Cognito puts in tokens from the user pool
// API (as opposed to the OAuth endpoints).
const userAdminScope = "aws.cognito.signin.user.admin"

// InitiateAuth is Cognito's public sign-in API: USER_PASSWORD_AUTH and
// REFRESH_TOKEN_AUTH, with SECRET_HASH for clients that have a secret.
func (s *Service) InitiateAuth(ctx context.Context, flow, clientID string, params map[string]string) (AuthResult, error) {
	c, err := s.ClientByID(ctx, clientID)
	if err != nil {
		return AuthResult{}, err
	}
	var pool Pool
	if _, err := s.get(ctx, kindPool, c.PoolID, &pool); err != nil {
		return AuthResult{}, notFoundAs(err, cognitoErr(CodeNotFound, "User pool client %s does not exist.", clientID))
	}
	switch flow {
	case "USER_PASSWORD_AUTH":
		if !slices.Contains(c.ExplicitAuthFlows, "ALLOW_USER_PASSWORD_AUTH") && !slices.Contains(c.ExplicitAuthFlows, "USER_PASSWORD_AUTH") {
			return AuthResult{}, InvalidParameter("USER_PASSWORD_AUTH flow not enabled for this client")
		}
		username := params["USERNAME"]
		if username == "" || params["PASSWORD"] == "" {
			return AuthResult{}, InvalidParameter("Missing required parameter USERNAME or PASSWORD")
		}
		if err := s.checkSecretHash(ctx, &c, params["SECRET_HASH"], username); err != nil {
			return AuthResult{}, err
		}
		u, err := s.Authenticate(ctx, pool.ID, username, params["PASSWORD"])
		if err != nil {
			return AuthResult{}, err
		}
		g := Grant{Pool: &pool, ClientID: c.ID, Subject: u.Sub, Username: u.Username,
			Scopes: []string{userAdminScope}, AuthTime: s.now()}
		return s.userTokens(ctx, g, &u, true)
	case "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN":
		// Legacy flow names (without ALLOW_) imply refresh.
		if !slices.Contains(c.ExplicitAuthFlows, "ALLOW_REFRESH_TOKEN_AUTH") &&
			!slices.ContainsFunc(c.ExplicitAuthFlows, func(f string) bool { return !strings.HasPrefix(f, "ALLOW_") }) {
			return AuthResult{}, InvalidParameter("REFRESH_TOKEN_AUTH flow not enabled for this client")
		}
		rec, err := s.LookupRefresh(ctx, pool.ID, params["REFRESH_TOKEN"])
		if errors.Is(err, store.ErrNotFound) || (err == nil && rec.ClientID != c.ID) {
			return AuthResult{}, cognitoErr(CodeNotAuthorized, "Invalid Refresh Token")
		}
		if err != nil {
			return AuthResult{}, err
		}
		if err := s.checkSecretHash(ctx, &c, params["SECRET_HASH"], rec.Username, rec.Subject); err != nil {
			return AuthResult{}, err
		}
		u, err := s.UserBySub(ctx, pool.ID, rec.Subject)
		if err != nil {
			return AuthResult{}, cognitoErr(CodeNotAuthorized, "Invalid Refresh Token")
		}
		g := Grant{Pool: &pool, ClientID: c.ID, Subject: u.Sub, Username: u.Username,
			Scopes: rec.Scopes, AuthTime: rec.AuthTime}
		return s.userTokens(ctx, g, &u, false)
	default:
		return AuthResult{}, InvalidParameter("Unsupported AuthFlow %q: this identity provider supports USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.", flow)
	}
}

func (s *Service) userTokens(ctx context.Context, g Grant, u *User, withRefresh bool) (AuthResult, error) {
	access, _, err := s.MintAccess(ctx, g)
	if err != nil {
		return AuthResult{}, err
	}
	id, err := s.mintID(ctx, g, u)
	if err != nil {
		return AuthResult{}, err
	}
	res := AuthResult{AccessToken: access, IDToken: id, ExpiresIn: int(s.accessTTL.Seconds())}
	if withRefresh {
		if res.RefreshToken, err = s.MintRefresh(ctx, g); err != nil {
			return AuthResult{}, err
		}
	}
	return res, nil
}

// SecretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(secret,
// username + clientID)).
func SecretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSecretHash enforces SECRET_HASH for clients with a secret; any of
// the given names may have been hashed (a refresh may use the sub).
func (s *Service) checkSecretHash(ctx context.Context, c *Client, presented string, names ...string) error {
	secret, err := s.clientSecret(ctx, c)
	if err != nil || secret == "" {
		return err
	}
	if presented == "" {
		return cognitoErr(CodeNotAuthorized, "Client %s is configured with secret but SECRET_HASH was not received", c.ID)
	}
	for _, n := range names {
		if hmac.Equal([]byte(SecretHash(secret, n, c.ID)), []byte(presented)) {
			return nil
		}
	}
	return cognitoErr(CodeNotAuthorized, "Unable to verify secret hash for client %s", c.ID)
}
