package hosted

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/devidp/docs"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// storage is the op.Storage of every pool's provider; the pool comes from
// the request context (poolFrom). Every decision is read from and written
// to the store, so any replica can serve any step of a flow.
type storage struct{ p *Provider }

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.ClientCredentialsStorage  = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

var errNotFound = errors.New("devidp: not found")

func (st *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	p := poolFrom(ctx)
	a := &authRequest{
		ID: rand.Text(), PoolID: p.ID, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		Scopes: slices.Clone(req.Scopes), State: req.State, Nonce: req.Nonce, ResponseType: req.ResponseType,
		ResponseMode: req.ResponseMode, Challenge: req.CodeChallenge, ChallengeMethod: req.CodeChallengeMethod,
		Created: st.p.now().UTC(),
	}
	// Cognito always returns a refresh token from the code flow; the
	// library issues one only for offline_access (removed from tokens).
	if !slices.Contains(a.Scopes, oidc.ScopeOfflineAccess) {
		a.Scopes = append(a.Scopes, oidc.ScopeOfflineAccess)
	}
	if err := st.p.create(ctx, kindAuthReq, p.ID+"/"+a.ID, a, authReqTTL); err != nil {
		return nil, err
	}
	return a, nil
}

func (st *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return st.p.authRequest(ctx, poolFrom(ctx).ID, id)
}

func (p *Provider) authRequest(ctx context.Context, poolID, id string) (*authRequest, error) {
	var a authRequest
	if _, err := docs.Get(ctx, p.st, kindAuthReq, poolID+"/"+id, &a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("auth request %w", errNotFound)
		}
		return nil, err
	}
	return &a, nil
}

// AuthRequestByCode consumes the code: deleting it is what makes a code
// single-use, even across replicas racing on it.
func (st *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	p := poolFrom(ctx)
	var c struct {
		ID string `json:"id"`
	}
	key := p.ID + "/" + devidp.HashToken(code)
	if _, err := docs.Get(ctx, st.p.st, kindCode, key, &c); err != nil {
		return nil, fmt.Errorf("code %w: %w", errNotFound, err)
	}
	if err := docs.Delete(ctx, st.p.st, kindCode, key); err != nil {
		return nil, fmt.Errorf("code %w: %w", errNotFound, err)
	}
	return st.p.authRequest(ctx, p.ID, c.ID)
}

func (st *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return st.p.create(ctx, kindCode, poolFrom(ctx).ID+"/"+devidp.HashToken(code), map[string]string{"id": id}, authReqTTL)
}

func (st *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	if err := docs.Delete(ctx, st.p.st, kindAuthReq, poolFrom(ctx).ID+"/"+id); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// grantOf turns a library token request into a grant.
func (st *storage) grantOf(ctx context.Context, req op.TokenRequest) (devidp.Grant, error) {
	g := devidp.Grant{Pool: poolFrom(ctx), Subject: req.GetSubject(), Scopes: req.GetScopes(), AuthTime: st.p.now()}
	switch r := req.(type) {
	case *authRequest:
		g.ClientID, g.Username, g.AuthTime = r.ClientID, r.Username, r.AuthTime
	case *devidp.RefreshToken:
		g.ClientID, g.Username, g.AuthTime = r.ClientID, r.Username, r.AuthTime
	case *clientCredentialsRequest:
		g.ClientID = r.clientID
	default:
		return g, oidc.ErrUnsupportedGrantType().WithDescription("token request %T not supported", req)
	}
	return g, nil
}

// CreateAccessToken returns the signed JWT as the token id; tokenCrypto
// hands it back unchanged as the token value.
func (st *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := st.grantOf(ctx, req)
	if err != nil {
		return "", time.Time{}, err
	}
	return st.p.idp.MintAccess(ctx, g)
}

// CreateAccessAndRefreshTokens rotates: the presented refresh token is
// deleted first, so of two concurrent refreshes exactly one succeeds.
func (st *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := st.grantOf(ctx, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if current != "" {
		if err := st.p.idp.ConsumeRefresh(ctx, g.Pool.ID, current); err != nil {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired or already used")
		}
	}
	access, exp, err := st.p.idp.MintAccess(ctx, g)
	if err != nil {
		return "", "", time.Time{}, err
	}
	refresh, err := st.p.idp.MintRefresh(ctx, g)
	return access, refresh, exp, err
}

func (st *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rec, err := st.p.idp.LookupRefresh(ctx, poolFrom(ctx).ID, token)
	if err != nil {
		return nil, fmt.Errorf("refresh token %w: %w", errNotFound, err)
	}
	return rec, nil
}

// TerminateSession is end_session; refresh tokens are left to expire.
func (st *storage) TerminateSession(context.Context, string, string) error { return nil }

func (st *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	p := poolFrom(ctx)
	if rec, err := st.p.idp.LookupRefresh(ctx, p.ID, tokenOrID); err == nil {
		if rec.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		_ = st.p.idp.ConsumeRefresh(ctx, p.ID, tokenOrID)
	}
	return nil // RFC 7009: unknown tokens are not an error
}

func (st *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rec, err := st.p.idp.LookupRefresh(ctx, poolFrom(ctx).ID, token)
	if err != nil || rec.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rec.Subject, rec.ID, nil
}

func (st *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return st.p.idp.SigningKey(ctx, poolFrom(ctx))
}

func (st *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (st *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	k, err := st.p.idp.SigningKey(ctx, poolFrom(ctx))
	if err != nil {
		return nil, err
	}
	return []op.Key{publicKey{k}}, nil
}

// publicKey is the JWKS entry of a pool's signing key.
type publicKey struct{ k *devidp.SigningKey }

func (p publicKey) ID() string                         { return p.k.ID() }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.SignatureAlgorithm() }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public() }

// GetClientByClientID finds only this pool's clients that may use the
// OAuth endpoints (AllowedOAuthFlowsUserPoolClient).
func (st *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := st.p.idp.ClientByID(ctx, id)
	if err != nil || c.PoolID != poolFrom(ctx).ID || !c.OAuthEnabled {
		return nil, fmt.Errorf("client %q %w", id, errNotFound)
	}
	return client{Client: c, hasSecret: len(c.Secret) > 0}, nil
}

func (st *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := st.ClientCredentials(ctx, id, secret)
	return err
}

func (st *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := st.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	cl := c.(client)
	if ok, err := st.p.idp.SecretMatches(ctx, &cl.Client, secret); err != nil || !ok {
		return nil, errors.New("devidp: invalid client credentials")
	}
	return c, nil
}

// ClientCredentialsTokenRequest grants the requested scopes, or, like
// Cognito, all of the client's scopes when none are asked for.
func (st *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := st.p.idp.ClientByID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = slices.Clone(c.AllowedOAuthScopes)
	}
	for _, sc := range scopes {
		if !slices.Contains(c.AllowedOAuthScopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", sc)
		}
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: scopes}, nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest
// does the work.
func (st *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (st *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := st.fillUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	info.AppendClaims("token_use", "id")
	return nil
}

func (st *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	rec, err := st.p.liveAccess(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return st.fillUserinfo(ctx, info, subject, rec.Scopes)
}

func (st *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	rec, err := st.p.liveAccess(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	resp.Active, resp.Scope, resp.ClientID, resp.Subject = true, rec.Scopes, rec.ClientID, subject
	return nil
}

// fillUserinfo sets the claims of the user with that sub; email claims
// need the email scope, as in Cognito.
func (st *storage) fillUserinfo(ctx context.Context, info *oidc.UserInfo, subject string, scopes []string) error {
	info.Subject = subject
	u, err := st.p.idp.UserBySub(ctx, poolFrom(ctx).ID, subject)
	if err != nil {
		return nil // client_credentials tokens have no user
	}
	for k, v := range devidp.UserClaims(&u) {
		if k == "email" || k == "email_verified" {
			if !slices.Contains(scopes, oidc.ScopeEmail) {
				continue
			}
		}
		info.AppendClaims(k, v)
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		info.PreferredUsername = u.Username
	}
	return nil
}

func (st *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil // access tokens are minted by devidp, not by the library
}

func (st *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devidp: JWT profile client authentication is not supported")
}

func (st *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (st *storage) Health(context.Context) error { return nil }
