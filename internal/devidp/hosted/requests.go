package hosted

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/agentcore-identity/agentcore/internal/devidp"
)

// poolCtxKey carries the pool of the request (from the URL path) to the
// storage callbacks, which the library calls with the request's context.
type poolCtxKey struct{}

func withPool(ctx context.Context, p *devidp.Pool) context.Context {
	return context.WithValue(ctx, poolCtxKey{}, p)
}

func poolFrom(ctx context.Context) *devidp.Pool {
	p, _ := ctx.Value(poolCtxKey{}).(*devidp.Pool)
	if p == nil {
		return &devidp.Pool{} // never matches a stored record
	}
	return p
}

// authRequest is a stored authorization request: pending on the login
// page, then on the consent page, then done (redeemable for a code).
type authRequest struct {
	ID              string                   `json:"id"`
	PoolID          string                   `json:"poolId"`
	ClientID        string                   `json:"clientId"`
	RedirectURI     string                   `json:"redirectUri"`
	Scopes          []string                 `json:"scopes"`
	State           string                   `json:"state,omitempty"`
	Nonce           string                   `json:"nonce,omitempty"`
	ResponseType    oidc.ResponseType        `json:"responseType"`
	ResponseMode    oidc.ResponseMode        `json:"responseMode,omitempty"`
	Challenge       string                   `json:"challenge,omitempty"`
	ChallengeMethod oidc.CodeChallengeMethod `json:"challengeMethod,omitempty"`
	Subject         string                   `json:"subject,omitempty"`
	Username        string                   `json:"username,omitempty"`
	AuthTime        time.Time                `json:"authTime,omitzero"`
	Consented       bool                     `json:"consented"`
	Created         time.Time                `json:"created"`
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.Challenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.Challenge, Method: a.ChallengeMethod}
}
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.Subject }
func (a *authRequest) Done() bool                         { return a.Subject != "" && a.Consented }

// clientCredentialsRequest is a client_credentials token request; the
// client is its own subject.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (c *clientCredentialsRequest) GetSubject() string    { return c.clientID }
func (c *clientCredentialsRequest) GetAudience() []string { return []string{c.clientID} }
func (c *clientCredentialsRequest) GetScopes() []string   { return c.scopes }

// client adapts a Client to op.Client.
type client struct {
	devidp.Client
	hasSecret bool
}

var _ op.Client = client{}

func (c client) GetID() string                       { return c.ID }
func (c client) RedirectURIs() []string              { return c.CallbackURLs }
func (c client) PostLogoutRedirectURIs() []string    { return c.LogoutURLs }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod {
	if !c.hasSecret {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes maps Cognito's OAuth flows; the code flow always allows
// refresh, as Cognito always returns a refresh token.
func (c client) GrantTypes() []oidc.GrantType {
	var out []oidc.GrantType
	if slices.Contains(c.AllowedOAuthFlows, devidp.FlowCode) {
		out = append(out, oidc.GrantTypeCode, oidc.GrantTypeRefreshToken)
	}
	if slices.Contains(c.AllowedOAuthFlows, devidp.FlowClientCredentials) {
		out = append(out, oidc.GrantTypeClientCredentials)
	}
	return out
}

// LoginURL is an absolute path: the library redirects the browser there.
func (c client) LoginURL(id string) string {
	return devidp.PathPrefix + c.PoolID + loginPath + "?" + reqParam + "=" + url.QueryEscape(id)
}
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return time.Hour }

// DevMode allows http callback URLs, which local quickstarts use.
func (c client) DevMode() bool { return true }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(scope string) bool {
	return slices.Contains(c.AllowedOAuthScopes, scope)
}

// IDTokenUserinfoClaimsAssertion puts email and cognito:username into ID
// tokens, as Cognito does.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }
