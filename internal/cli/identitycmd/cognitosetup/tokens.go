package cognitosetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
)

// Credentials sign in to a pool's app client.
type Credentials struct {
	PoolID, ClientID, ClientSecret, Username, Password string
	// Scopes (space-separated) are requested in the client-credentials grant.
	Scopes string
}

// Token is a token response.
type Token struct {
	AccessToken string `json:"accessToken"`
	IDToken     string `json:"idToken,omitempty"`
	ExpiresIn   int32  `json:"expiresIn,omitempty"`
	TokenType   string `json:"tokenType,omitempty"`
}

// PasswordToken signs in with InitiateAuth USER_PASSWORD_AUTH, adding
// SECRET_HASH when the client has a secret.
func PasswordToken(ctx context.Context, c *cip.Client, f Credentials) (*Token, error) {
	if f.Username == "" || f.Password == "" {
		return nil, errors.New("no credentials: give --username and --password or set RUNTIME_USERNAME and RUNTIME_PASSWORD")
	}
	params := map[string]string{"USERNAME": f.Username, "PASSWORD": f.Password}
	if f.ClientSecret != "" {
		params["SECRET_HASH"] = secretHash(f.ClientSecret, f.Username+f.ClientID)
	}
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(f.ClientID), AuthParameters: params,
	})
	if err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", f.Username, err)
	}
	r := out.AuthenticationResult
	if r == nil || aws.ToString(r.AccessToken) == "" {
		return nil, fmt.Errorf("sign in as %s: the pool asked for challenge %q, which this command does not answer", f.Username, out.ChallengeName)
	}
	return &Token{AccessToken: aws.ToString(r.AccessToken), IDToken: aws.ToString(r.IdToken), ExpiresIn: r.ExpiresIn, TokenType: aws.ToString(r.TokenType)}, nil
}

// ClientCredentialsToken runs the client-credentials grant at the pool's
// token endpoint.
func ClientCredentialsToken(ctx context.Context, t *connect.Target, f Credentials) (*Token, error) {
	if f.PoolID == "" || f.ClientSecret == "" {
		return nil, errors.New("--auth-flow m2m needs --pool-id and --client-secret (or RUNTIME_POOL_ID and RUNTIME_CLIENT_SECRET)")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if f.Scopes != "" {
		form.Set("scope", f.Scopes)
	}
	endpoint := TokenEndpoint(ctx, t, f.PoolID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.ClientID), url.QueryEscape(f.ClientSecret))
	resp, err := t.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int32  `json:"expires_in"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("token response from %s (HTTP %d): %w", endpoint, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return nil, fmt.Errorf("token request to %s failed (HTTP %d): %s %s", endpoint, resp.StatusCode, body.Error, body.Description)
	}
	return &Token{AccessToken: body.AccessToken, ExpiresIn: body.ExpiresIn, TokenType: body.TokenType}, nil
}

// AddCallback appends url to an app client's callback URLs.
// UpdateUserPoolClient resets every field it is not given, so the current
// settings are copied over.
func AddCallback(ctx context.Context, t *connect.Target, poolID, clientID, url string) error {
	cog := t.Cognito()
	out, err := cog.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
	if err != nil {
		return fmt.Errorf("describe app client: %w", err)
	}
	c := out.UserPoolClient
	if slices.Contains(c.CallbackURLs, url) {
		return nil
	}
	_, err = cog.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
		ClientName: c.ClientName, CallbackURLs: append(c.CallbackURLs, url), LogoutURLs: c.LogoutURLs,
		DefaultRedirectURI: c.DefaultRedirectURI, AllowedOAuthFlows: c.AllowedOAuthFlows,
		AllowedOAuthScopes: c.AllowedOAuthScopes, AllowedOAuthFlowsUserPoolClient: aws.ToBool(c.AllowedOAuthFlowsUserPoolClient),
		ExplicitAuthFlows: c.ExplicitAuthFlows, SupportedIdentityProviders: c.SupportedIdentityProviders,
		ReadAttributes: c.ReadAttributes, WriteAttributes: c.WriteAttributes,
		RefreshTokenValidity: c.RefreshTokenValidity, AccessTokenValidity: c.AccessTokenValidity,
		IdTokenValidity: c.IdTokenValidity, TokenValidityUnits: c.TokenValidityUnits,
		AuthSessionValidity: c.AuthSessionValidity, PreventUserExistenceErrors: c.PreventUserExistenceErrors,
		EnableTokenRevocation: c.EnableTokenRevocation, AnalyticsConfiguration: c.AnalyticsConfiguration,
		EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData,
		RefreshTokenRotation:                     c.RefreshTokenRotation,
	})
	if err != nil {
		return fmt.Errorf("update app client: %w", err)
	}
	return nil
}
