package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/agentcore-identity/agentcore/sdk/internal/reqctx"
)

// Flow is an OAuth2 flow (oauth2Flow).
type Flow string

// OAuth2 flows.
const (
	// FlowUserFederation is the authorization-code flow (3LO): the agent
	// acts for a user who consents once in a browser.
	FlowUserFederation Flow = "USER_FEDERATION"
	// FlowM2M is the client-credentials flow: the agent acts as itself.
	FlowM2M Flow = "M2M"
	// FlowOnBehalfOf exchanges the user's token (RFC 8693).
	FlowOnBehalfOf Flow = "ON_BEHALF_OF_TOKEN_EXCHANGE"
)

// UserOption names the user a workload access token is minted for, or the
// user completing an authorization session. Build it with WithUserID or
// WithUserToken.
type UserOption struct {
	id, token string
}

// WithUserID identifies the user by an id the caller vouches for
// (GetWorkloadAccessTokenForUserId).
func WithUserID(id string) UserOption { return UserOption{id: id} }

// WithUserToken identifies the user by a JWT from the workload's inbound
// identity provider, which the service validates
// (GetWorkloadAccessTokenForJWT).
func WithUserToken(jwt string) UserOption { return UserOption{token: jwt} }

// GetWorkloadAccessToken mints a workload access token for the workload,
// acting for the user when one is given. Like the Python SDK it picks
// GetWorkloadAccessTokenForJWT when a user token is given, else
// GetWorkloadAccessTokenForUserId when a user id is given, else the plain
// GetWorkloadAccessToken (the agent as itself). A token wins over an id.
func (c *Client) GetWorkloadAccessToken(ctx context.Context, workloadName string, user ...UserOption) (string, error) {
	var u UserOption
	for _, o := range user {
		if o.token != "" {
			u.token = o.token
		}
		if o.id != "" {
			u.id = o.id
		}
	}
	switch {
	case u.token != "":
		out, err := c.data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
			WorkloadName: aws.String(workloadName), UserToken: aws.String(u.token),
		})
		if err != nil {
			return "", wrapErr("GetWorkloadAccessTokenForJWT", err)
		}
		return aws.ToString(out.WorkloadAccessToken), nil
	case u.id != "":
		out, err := c.data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
			WorkloadName: aws.String(workloadName), UserId: aws.String(u.id),
		})
		if err != nil {
			return "", wrapErr("GetWorkloadAccessTokenForUserId", err)
		}
		return aws.ToString(out.WorkloadAccessToken), nil
	default:
		out, err := c.data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workloadName)})
		if err != nil {
			return "", wrapErr("GetWorkloadAccessToken", err)
		}
		return aws.ToString(out.WorkloadAccessToken), nil
	}
}

// TokenRequest asks for a provider's OAuth2 access token. The workload
// access token comes from the context (see ResolveWorkloadAccessToken).
type TokenRequest struct {
	// Provider is the credential provider's name.
	Provider string
	Scopes   []string
	Flow     Flow
	// CallbackURL is the resourceOauth2ReturnUrl for USER_FEDERATION: where
	// the browser lands after consent. It must be one of the workload
	// identity's return URLs. Empty means the runtime's OAuth2CallbackUrl
	// from the context, if any.
	CallbackURL string
	// ForceAuthentication starts a new consent even if a token is stored.
	ForceAuthentication bool
	// CustomState is echoed to the return URL (CSRF protection).
	CustomState string
	// CustomParameters are added to the authorization request.
	CustomParameters map[string]string
	Resources        []string
	Audiences        []string
	// SessionURI continues a started authorization (polling).
	SessionURI string
}

// AuthorizationSession is a started user authorization.
type AuthorizationSession struct {
	Provider   string
	URL        string
	SessionURI string
}

// oauth2Result is one GetResourceOauth2Token answer.
type oauth2Result struct {
	token      string
	url        string
	sessionURI string
	failed     bool
}

func (c *Client) oauth2Once(ctx context.Context, wat string, req TokenRequest) (oauth2Result, error) {
	if req.Provider == "" || req.Flow == "" {
		return oauth2Result{}, fmt.Errorf("identity: GetResourceOauth2Token: %w: Provider and Flow are required", ErrValidation)
	}
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken:          aws.String(wat),
		ResourceCredentialProviderName: aws.String(req.Provider),
		Scopes:                         req.Scopes,
		Oauth2Flow:                     dptypes.Oauth2FlowType(req.Flow),
		Resources:                      req.Resources,
		Audiences:                      req.Audiences,
		CustomParameters:               req.CustomParameters,
	}
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	callback := req.CallbackURL
	if callback == "" {
		callback = reqctx.From(ctx).CallbackURL
	}
	if callback != "" {
		in.ResourceOauth2ReturnUrl = aws.String(callback)
	}
	if req.ForceAuthentication {
		in.ForceAuthentication = aws.Bool(true)
	}
	if req.CustomState != "" {
		in.CustomState = aws.String(req.CustomState)
	}
	if req.SessionURI != "" {
		in.SessionUri = aws.String(req.SessionURI)
	}
	out, err := c.data.GetResourceOauth2Token(ctx, in)
	if err != nil {
		return oauth2Result{}, wrapErr("GetResourceOauth2Token", err)
	}
	return oauth2Result{
		token: aws.ToString(out.AccessToken), url: aws.ToString(out.AuthorizationUrl),
		sessionURI: aws.ToString(out.SessionUri), failed: out.SessionStatus == dptypes.SessionStatusFailed,
	}, nil
}

// GetOAuth2Token makes one GetResourceOauth2Token call. It returns the
// access token, or an *AuthorizationRequiredError (errors.Is
// ErrAuthorizationRequired) carrying the URL the user must open and the
// session URI to poll or complete. It does not wait: RequiresAccessToken
// does.
func (c *Client) GetOAuth2Token(ctx context.Context, req TokenRequest) (string, error) {
	wat, err := c.ResolveWorkloadAccessToken(ctx)
	if err != nil {
		return "", err
	}
	res, err := c.oauth2Once(ctx, wat, req)
	if err != nil {
		return "", err
	}
	return res.unwrap(req.Provider, req.SessionURI)
}

func (r oauth2Result) unwrap(provider, sessionURI string) (string, error) {
	switch {
	case r.token != "":
		return r.token, nil
	case r.failed:
		return "", fmt.Errorf("identity: provider %q: %w", provider, ErrAuthorizationFailed)
	case r.url != "":
		if r.sessionURI != "" {
			sessionURI = r.sessionURI
		}
		return "", &AuthorizationRequiredError{Provider: provider, URL: r.url, SessionURI: sessionURI}
	default:
		return "", fmt.Errorf("identity: GetResourceOauth2Token: provider %q answered neither a token nor an authorization URL", provider)
	}
}

// GetClientCredentialsToken returns a machine-to-machine (client
// credentials) token of the provider.
func (c *Client) GetClientCredentialsToken(ctx context.Context, provider string, scopes ...string) (string, error) {
	return c.GetOAuth2Token(ctx, TokenRequest{Provider: provider, Scopes: scopes, Flow: FlowM2M})
}

// GetAuthorizationURL starts a user authorization (USER_FEDERATION with
// forceAuthentication) and returns the URL to show the user. After the user
// consents, call CompleteAuthorization with the session URI and the same
// user artifact the workload access token was minted from, then
// GetOAuth2Token (or RequiresAccessToken) returns the token.
func (c *Client) GetAuthorizationURL(ctx context.Context, req TokenRequest) (*AuthorizationSession, error) {
	req.Flow, req.ForceAuthentication = FlowUserFederation, true
	_, err := c.GetOAuth2Token(ctx, req)
	var ar *AuthorizationRequiredError
	if errors.As(err, &ar) {
		return &AuthorizationSession{Provider: ar.Provider, URL: ar.URL, SessionURI: ar.SessionURI}, nil
	}
	if err == nil {
		err = fmt.Errorf("identity: provider %q returned a token although authentication was forced", req.Provider)
	}
	return nil, err
}

// CompleteAuthorization binds a consented session to the user
// (CompleteResourceTokenAuth). Call it from the return URL handler with the
// session_id query parameter, after checking that the signed-in user is the
// one who started the flow. user must be the exact artifact (same user id
// or same JWT) the workload access token was minted from.
func (c *Client) CompleteAuthorization(ctx context.Context, sessionURI string, user UserOption) error {
	var id dptypes.UserIdentifier
	switch {
	case user.token != "":
		id = &dptypes.UserIdentifierMemberUserToken{Value: user.token}
	case user.id != "":
		id = &dptypes.UserIdentifierMemberUserId{Value: user.id}
	default:
		return fmt.Errorf("identity: CompleteResourceTokenAuth: %w: a user id or user token is required", ErrValidation)
	}
	_, err := c.data.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(sessionURI), UserIdentifier: id,
	})
	return wrapErr("CompleteResourceTokenAuth", err)
}

// GetAPIKey returns the API key stored by the provider, using the context's
// workload access token.
func (c *Client) GetAPIKey(ctx context.Context, provider string) (string, error) {
	wat, err := c.ResolveWorkloadAccessToken(ctx)
	if err != nil {
		return "", err
	}
	out, err := c.data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
		WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String(provider),
	})
	if err != nil {
		return "", wrapErr("GetResourceApiKey", err)
	}
	return aws.ToString(out.ApiKey), nil
}
