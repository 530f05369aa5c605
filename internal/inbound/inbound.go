// Package inbound decides who may call an agent: JWT authorizers configured
// like AgentCore's customJWTAuthorizer (OIDC discovery, allowed audiences,
// clients and scopes, required claims) yield a Caller.
package inbound

import (
	"context"
	"errors"
	"time"
)

// JWTAuthorizerConfig is the customJWTAuthorizer shape of the AgentCore
// control plane (member names as on the wire).
type JWTAuthorizerConfig struct {
	DiscoveryURL    string        `json:"discoveryUrl"`
	AllowedAudience []string      `json:"allowedAudience,omitempty"`
	AllowedClients  []string      `json:"allowedClients,omitempty"`
	AllowedScopes   []string      `json:"allowedScopes,omitempty"`
	CustomClaims    []CustomClaim `json:"customClaims,omitempty"`
}

// CustomClaim requires a claim of the inbound token to match a value.
type CustomClaim struct {
	InboundTokenClaimName      string     `json:"inboundTokenClaimName"`
	InboundTokenClaimValueType string     `json:"inboundTokenClaimValueType"` // STRING | STRING_ARRAY
	AuthorizingClaimMatchValue ClaimMatch `json:"authorizingClaimMatchValue"`
}

// ClaimMatch is how a custom claim must match.
type ClaimMatch struct {
	ClaimMatchValue    ClaimMatchValue `json:"claimMatchValue"`
	ClaimMatchOperator string          `json:"claimMatchOperator"` // EQUALS | CONTAINS | CONTAINS_ANY
}

// ClaimMatchValue is a union: exactly one member is set.
type ClaimMatchValue struct {
	MatchValueString     *string  `json:"matchValueString,omitempty"`
	MatchValueStringList []string `json:"matchValueStringList,omitempty"`
}

// Caller is an authenticated end user (or client) behind a bearer JWT.
type Caller struct {
	Issuer    string
	Subject   string
	ClientID  string // client_id, else azp
	Audience  []string
	Scopes    []string
	ExpiresAt time.Time
	Claims    map[string]any
}

// UserID is the stable user identity AgentCore derives from a JWT: the
// issuer and subject joined by "|".
func (c Caller) UserID() string { return c.Issuer + "|" + c.Subject }

// ErrRejected is wrapped by every refusal of a token; the message says why
// (never echoing the token). Callers branch on it with errors.Is.
var ErrRejected = errors.New("inbound: token rejected")

// JWTValidator validates a bearer token against an authorizer
// configuration. Implementations cache discovery documents and keys.
type JWTValidator interface {
	Validate(ctx context.Context, cfg JWTAuthorizerConfig, token string) (Caller, error)
}
