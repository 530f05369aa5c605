package oidctest

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequestLifetime bounds how long a user may take on the login form
// and how long an authorization code stays redeemable.
const authRequestLifetime = 10 * time.Minute

// storage is the op.Storage of the provider: the library calls it for
// every persistent decision (clients, codes, tokens, keys).
type storage struct{ st *state }

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.ClientCredentialsStorage  = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

var errNotFound = errors.New("oidctest: not found")

func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if s.st.opts.RequirePKCE && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge (PKCE, S256) is required")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	a := &authRequest{
		id: randomID(), clientID: req.ClientID, redirectURI: req.RedirectURI,
		scopes: slices.Clone(req.Scopes), state: req.State, nonce: req.Nonce,
		responseType: req.ResponseType, responseMode: req.ResponseMode, created: time.Now(),
	}
	if req.CodeChallenge != "" {
		a.codeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	c := s.st.clients[req.ClientID]
	if c.AlwaysIssueRefreshToken && slices.Contains(c.GrantTypes, GrantRefreshToken) &&
		!slices.Contains(a.scopes, oidc.ScopeOfflineAccess) {
		a.scopes = append(a.scopes, oidc.ScopeOfflineAccess)
	}
	s.st.authReqs[a.id] = a
	return a.copy(), nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	a, ok := s.st.authReqs[id]
	if !ok || time.Since(a.created) > authRequestLifetime {
		return nil, fmt.Errorf("auth request %w", errNotFound)
	}
	return a.copy(), nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.st.mu.Lock()
	id, ok := s.st.codes[code]
	s.st.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("code %w", errNotFound)
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if _, ok := s.st.authReqs[id]; !ok {
		return fmt.Errorf("auth request %w", errNotFound)
	}
	s.st.codes[code] = id
	return nil
}

// DeleteAuthRequest runs once the code is redeemed, which makes codes
// single-use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	delete(s.st.authReqs, id)
	for code, reqID := range s.st.codes {
		if reqID == id {
			delete(s.st.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	rec, err := s.st.newAccess(req)
	if err != nil {
		return "", time.Time{}, err
	}
	return rec.id, rec.expires, nil
}

// CreateAccessAndRefreshTokens rotates: the presented refresh token is
// consumed under the lock, so of two concurrent refreshes with the same
// token exactly one succeeds.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var old *refreshRecord
	if current != "" {
		old = s.st.refresh[current]
		if old == nil || time.Now().After(old.expires) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is invalid, expired or already used")
		}
	}
	rec, err := s.st.newAccess(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if old != nil && s.st.opts.KeepRefreshTokens {
		return rec.id, old.token, rec.expires, nil
	}
	if old != nil {
		delete(s.st.refresh, current)
	}
	rt := &refreshRecord{
		id: randomID(), token: randomID(), clientID: rec.clientID, subject: rec.subject,
		scopes: slices.Clone(req.GetScopes()), amr: []string{"pwd"}, authTime: rec.authTime,
		expires: time.Now().Add(s.st.opts.RefreshTokenLifetime),
	}
	if old != nil {
		rt.scopes = slices.Clone(old.scopes) // a narrowed refresh keeps the original grant
	}
	s.st.refresh[rt.token] = rt
	return rec.id, rt.token, rec.expires, nil
}

// newAccess records an access token for a request; the caller holds mu.
func (st *state) newAccess(req op.TokenRequest) (*accessRecord, error) {
	now := time.Now()
	rec := &accessRecord{
		id: randomID(), scopes: slices.Clone(req.GetScopes()), issued: now,
		expires: now.Add(st.opts.AccessTokenLifetime), subject: req.GetSubject(),
	}
	switch r := req.(type) {
	case *authRequest:
		rec.clientID, rec.authTime = r.clientID, r.authTime
	case *refreshRecord:
		rec.clientID, rec.authTime = r.clientID, r.authTime
	case *clientCredentialsRequest:
		rec.clientID, rec.authTime = r.clientID, now
		rec.extra = st.clients[r.clientID].Claims
	default:
		return nil, oidc.ErrUnsupportedGrantType().WithDescription("token request %T not supported", req)
	}
	if _, isCC := req.(*clientCredentialsRequest); !isCC {
		if u, ok := st.userBySubject(rec.subject); ok {
			rec.username, rec.extra = u.Username, u.Claims
		}
	}
	st.access[rec.id] = rec
	return rec, nil
}

func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	rt, ok := s.st.refresh[token]
	if !ok || time.Now().After(rt.expires) {
		return nil, fmt.Errorf("refresh token %w", errNotFound)
	}
	c := *rt
	c.scopes = slices.Clone(rt.scopes)
	return &c, nil
}

func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for tok, rt := range s.st.refresh {
		if rt.subject == userID && rt.clientID == clientID {
			delete(s.st.refresh, tok)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if rt, ok := s.st.refresh[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.st.refresh, tokenOrID)
		return nil
	}
	if at, ok := s.st.access[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.st.access, tokenOrID)
	}
	return nil // RFC 7009: unknown tokens are not an error
}

func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	rt, ok := s.st.refresh[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.id, nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.keys[len(s.st.keys)-1], nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.st.opts.Algorithm)}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	out := make([]op.Key, len(s.st.keys))
	for i, k := range s.st.keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	c, ok := s.st.clients[id]
	if !ok {
		return nil, fmt.Errorf("client %q %w", id, errNotFound)
	}
	return client{Client: c, issuerPath: s.st.opts.IssuerPath}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.ClientCredentials(ctx, id, secret)
	return err
}

func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	want := c.(client).Secret
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return nil, errors.New("oidctest: invalid client credentials")
	}
	return c, nil
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	c := s.st.clients[clientID]
	if len(scopes) == 0 {
		scopes = slices.Clone(c.Scopes)
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed for this client", sc)
		}
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: scopes}, nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest
// does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.fillUserinfo(info, req.GetSubject(), scopes)
	if s.st.opts.Style == StyleCognito {
		info.AppendClaims("token_use", "id")
	}
	return nil
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	at, err := s.st.liveAccess(tokenID, subject)
	if err == nil {
		s.st.fillUserinfo(info, subject, at.scopes)
	}
	return err
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	at, err := s.st.liveAccess(tokenID, subject)
	if err != nil {
		return err
	}
	info := new(oidc.UserInfo)
	s.st.fillUserinfo(info, subject, at.scopes)
	resp.SetUserInfo(info)
	resp.Active, resp.Scope, resp.ClientID, resp.Issuer = true, at.scopes, at.clientID, s.st.issuer
	resp.IssuedAt, resp.Expiration, resp.JWTID = oidc.FromTime(at.issued), oidc.FromTime(at.expires), at.id
	return nil
}

// liveAccess is an unexpired, unrevoked access token; the caller holds mu.
func (st *state) liveAccess(tokenID, subject string) (*accessRecord, error) {
	at, ok := st.access[tokenID]
	if !ok || at.subject != subject || time.Now().After(at.expires) {
		return nil, fmt.Errorf("access token %w", errNotFound)
	}
	return at, nil
}

// fillUserinfo sets the standard claims the scopes grant; the caller holds mu.
func (st *state) fillUserinfo(info *oidc.UserInfo, subject string, scopes []string) {
	info.Subject = subject
	u, ok := st.userBySubject(subject)
	if !ok {
		return
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
			info.Name = u.Username
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.Email, oidc.Bool(u.Email != "")
		}
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	if st.opts.Style == StyleCognito {
		info.AppendClaims("cognito:username", u.Username)
	}
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil // access tokens are minted by tokenCrypto, not by the library
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidctest: JWT profile client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (s *storage) Health(context.Context) error { return nil }
