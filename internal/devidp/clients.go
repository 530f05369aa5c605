package devidp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// OAuth flows of an app client, as Cognito spells them.
const (
	FlowCode              = "code"
	FlowImplicit          = "implicit"
	FlowClientCredentials = "client_credentials"
)

// Client is an app client. Secret is sealed; empty for a public client.
type Client struct {
	ID                         string    `json:"id"`
	PoolID                     string    `json:"poolId"`
	Name                       string    `json:"name"`
	Secret                     []byte    `json:"secret,omitempty"`
	ExplicitAuthFlows          []string  `json:"explicitAuthFlows,omitempty"`
	AllowedOAuthFlows          []string  `json:"allowedOAuthFlows,omitempty"`
	AllowedOAuthScopes         []string  `json:"allowedOAuthScopes,omitempty"`
	OAuthEnabled               bool      `json:"oauthEnabled"`
	CallbackURLs               []string  `json:"callbackURLs,omitempty"`
	LogoutURLs                 []string  `json:"logoutURLs,omitempty"`
	SupportedIdentityProviders []string  `json:"supportedIdentityProviders,omitempty"`
	Created                    time.Time `json:"created"`
	Modified                   time.Time `json:"modified"`
}

// ClientSpec is the settable part of a client. Like Cognito's
// UpdateUserPoolClient, an update replaces every setting.
type ClientSpec struct {
	Name                       string
	GenerateSecret             bool // create only
	ExplicitAuthFlows          []string
	AllowedOAuthFlows          []string
	AllowedOAuthScopes         []string
	OAuthEnabled               bool
	CallbackURLs               []string
	LogoutURLs                 []string
	SupportedIdentityProviders []string
}

var (
	knownAuthFlows = []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH",
		"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_AUTH",
		"ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH", "CUSTOM_AUTH_FLOW_ONLY"}
	// Cognito's default when ExplicitAuthFlows is not given.
	defaultAuthFlows = []string{"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"}
)

func secretAAD(clientID string) []byte { return seal.AAD(kindClient, storeAccount, clientID, "secret") }

// CreateClient adds an app client to a pool and returns it with its
// plaintext secret ("" for a public client).
func (s *Service) CreateClient(ctx context.Context, account, poolID string, spec ClientSpec) (Client, string, error) {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return Client{}, "", err
	}
	now := s.now().UTC()
	c := Client{ID: randomString(lowerAlnum, 26), PoolID: poolID, Created: now, Modified: now}
	if err := s.applySpec(ctx, &c, spec, spec.GenerateSecret); err != nil {
		return Client{}, "", err
	}
	secret := ""
	if spec.GenerateSecret {
		secret = randomString(lowerAlnum, 51)
		sealed, err := s.sealer.Seal(ctx, []byte(secret), secretAAD(c.ID))
		if err != nil {
			return Client{}, "", fmt.Errorf("devidp: seal client secret: %w", err)
		}
		c.Secret = sealed
	}
	return c, secret, s.create(ctx, kindClient, c.ID, c, 0)
}

// applySpec validates spec and copies it into c.
func (s *Service) applySpec(ctx context.Context, c *Client, spec ClientSpec, hasSecret bool) error {
	if spec.Name == "" || len(spec.Name) > 128 {
		return InvalidParameter("ClientName must be 1-128 characters.")
	}
	flows := spec.ExplicitAuthFlows
	if len(flows) == 0 {
		flows = defaultAuthFlows
	}
	for _, f := range flows {
		if !slices.Contains(knownAuthFlows, f) {
			return InvalidParameter("Unknown explicit auth flow %q.", f)
		}
	}
	for _, f := range spec.AllowedOAuthFlows {
		if f != FlowCode && f != FlowImplicit && f != FlowClientCredentials {
			return InvalidParameter("Unknown OAuth flow %q.", f)
		}
	}
	if slices.Contains(spec.AllowedOAuthFlows, FlowClientCredentials) {
		if len(spec.AllowedOAuthFlows) > 1 {
			return InvalidParameter("client_credentials flow can not be selected along with code flow or implicit flow.")
		}
		if !hasSecret {
			return InvalidParameter("client_credentials flow can not be selected if client does not have a client secret.")
		}
	}
	if spec.OAuthEnabled && len(spec.AllowedOAuthFlows) == 0 {
		return InvalidParameter("AllowedOAuthFlows is required when AllowedOAuthFlowsUserPoolClient is true.")
	}
	needsCallback := slices.Contains(spec.AllowedOAuthFlows, FlowCode) || slices.Contains(spec.AllowedOAuthFlows, FlowImplicit)
	if spec.OAuthEnabled && needsCallback && len(spec.CallbackURLs) == 0 {
		return InvalidParameter("CallbackURLs is required for the code and implicit flows.")
	}
	for _, u := range append(slices.Clone(spec.CallbackURLs), spec.LogoutURLs...) {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Fragment != "" {
			return InvalidParameter("%q is not an absolute URL without fragment.", u)
		}
	}
	poolScopes, err := s.poolScopes(ctx, c.PoolID)
	if err != nil {
		return err
	}
	for _, sc := range spec.AllowedOAuthScopes {
		if !slices.Contains(StandardScopes(), sc) && !slices.Contains(poolScopes, sc) {
			return cognitoErr(CodeScopeNotExist, "Invalid scope requested: %s", sc)
		}
	}
	c.Name, c.ExplicitAuthFlows, c.AllowedOAuthFlows = spec.Name, flows, spec.AllowedOAuthFlows
	c.AllowedOAuthScopes, c.OAuthEnabled, c.CallbackURLs = spec.AllowedOAuthScopes, spec.OAuthEnabled, spec.CallbackURLs
	c.LogoutURLs, c.SupportedIdentityProviders = spec.LogoutURLs, spec.SupportedIdentityProviders
	return nil
}

// Client returns a client of a pool of account with its plaintext secret.
func (s *Service) Client(ctx context.Context, account, poolID, clientID string) (Client, string, error) {
	if _, err := s.Pool(ctx, account, poolID); err != nil {
		return Client{}, "", err
	}
	c, err := s.ClientByID(ctx, clientID)
	if err == nil && c.PoolID != poolID {
		err = cognitoErr(CodeNotFound, "User pool client %s does not exist.", clientID)
	}
	if err != nil {
		return Client{}, "", err
	}
	secret, err := s.clientSecret(ctx, &c)
	return c, secret, err
}

// UpdateClient replaces a client's settings; its id and secret stay.
// Validation reads the pool's scopes, so it runs before the row is
// locked (a store read inside Update would wait on itself on SQLite).
func (s *Service) UpdateClient(ctx context.Context, account, poolID, clientID string, spec ClientSpec) (Client, string, error) {
	cur, _, err := s.Client(ctx, account, poolID, clientID)
	if err != nil {
		return Client{}, "", err
	}
	if spec.Name == "" {
		spec.Name = cur.Name
	}
	next := cur
	if err := s.applySpec(ctx, &next, spec, len(cur.Secret) > 0); err != nil {
		return Client{}, "", err
	}
	c, err := update(ctx, s, kindClient, clientID, func(c *Client) error {
		c.Name, c.ExplicitAuthFlows, c.AllowedOAuthFlows = next.Name, next.ExplicitAuthFlows, next.AllowedOAuthFlows
		c.AllowedOAuthScopes, c.OAuthEnabled, c.CallbackURLs = next.AllowedOAuthScopes, next.OAuthEnabled, next.CallbackURLs
		c.LogoutURLs, c.SupportedIdentityProviders = next.LogoutURLs, next.SupportedIdentityProviders
		c.Modified = s.now().UTC()
		return nil
	})
	if err != nil {
		return Client{}, "", notFoundAs(err, cognitoErr(CodeNotFound, "User pool client %s does not exist.", clientID))
	}
	secret, err := s.clientSecret(ctx, &c)
	return c, secret, err
}

// DeleteClient removes a client.
func (s *Service) DeleteClient(ctx context.Context, account, poolID, clientID string) error {
	if _, _, err := s.Client(ctx, account, poolID, clientID); err != nil {
		return err
	}
	return notFoundAs(s.st.Delete(ctx, kindClient, storeAccount, clientID),
		cognitoErr(CodeNotFound, "User pool client %s does not exist.", clientID))
}

// ClientByID finds a client by its globally unique id, as the public
// endpoints do.
func (s *Service) ClientByID(ctx context.Context, clientID string) (Client, error) {
	var c Client
	_, err := s.get(ctx, kindClient, clientID, &c)
	if errors.Is(err, store.ErrNotFound) {
		return Client{}, cognitoErr(CodeNotFound, "User pool client %s does not exist.", clientID)
	}
	return c, err
}

func (s *Service) clientSecret(ctx context.Context, c *Client) (string, error) {
	if len(c.Secret) == 0 {
		return "", nil
	}
	b, err := s.sealer.Open(ctx, c.Secret, secretAAD(c.ID))
	if err != nil {
		return "", fmt.Errorf("devidp: open secret of client %s: %w", c.ID, err)
	}
	return string(b), nil
}

// SecretMatches compares a presented secret in constant time; a public
// client never matches.
func (s *Service) SecretMatches(ctx context.Context, c *Client, presented string) (bool, error) {
	want, err := s.clientSecret(ctx, c)
	if err != nil || want == "" {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(presented)) == 1, nil
}

// StandardScopes are the scopes every pool knows, besides resource server
// scopes.
func StandardScopes() []string {
	return []string{"openid", "email", "phone", "profile", userAdminScope}
}
