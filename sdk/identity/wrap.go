package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentcore-identity/agentcore/sdk/internal/reqctx"
)

// AccessTokenOptions configure RequiresAccessToken and Client.AccessToken.
type AccessTokenOptions struct {
	// Provider is the OAuth2 credential provider's name (required).
	Provider string
	Scopes   []string
	// Flow is FlowUserFederation (3LO, on behalf of the user), FlowM2M
	// (client credentials) or FlowOnBehalfOf (required).
	Flow Flow
	// OnAuthURL is called once, and awaited, when the user must consent:
	// show the URL to the user (stream it to the chat UI, print it). The
	// wrapper then polls until the user has consented. When OnAuthURL is nil
	// the wrapper does not wait: it returns an *AuthorizationRequiredError
	// carrying the URL, so a tool can hand the URL back to the user and be
	// called again later. An error from OnAuthURL aborts the call.
	OnAuthURL func(ctx context.Context, url string) error
	// ForceAuthentication starts a new consent even if a token is stored
	// (only on the first request; polls never force).
	ForceAuthentication bool
	// CallbackURL is the resourceOauth2ReturnUrl; empty means the runtime's
	// OAuth2CallbackUrl from the context, as in the Python SDK.
	CallbackURL      string
	CustomState      string
	CustomParameters map[string]string
	Resources        []string
	Audiences        []string
	// PollInterval is the default poller's interval (DefaultPollInterval).
	PollInterval time.Duration
	// PollTimeout bounds the wait when ctx has no deadline
	// (DefaultPollTimeout). A deadline on ctx always applies.
	PollTimeout time.Duration
	// Poller replaces the default IntervalPoller.
	Poller Poller
}

// Validate reports invalid options (the wrappers panic on them).
func (o AccessTokenOptions) Validate() error {
	switch {
	case o.Provider == "":
		return errors.New("identity: AccessTokenOptions.Provider is required")
	case o.Flow != FlowUserFederation && o.Flow != FlowM2M && o.Flow != FlowOnBehalfOf:
		return fmt.Errorf("identity: AccessTokenOptions.Flow %q is not USER_FEDERATION, M2M or ON_BEHALF_OF_TOKEN_EXCHANGE", o.Flow)
	case o.PollInterval < 0 || o.PollTimeout < 0:
		return errors.New("identity: AccessTokenOptions.PollInterval and PollTimeout must not be negative")
	}
	return nil
}

// AccessToken runs the whole token flow of RequiresAccessToken and returns
// the provider's access token: ask once; if the user must consent, call
// OnAuthURL and poll with the session URI until the token is vended, ctx
// ends, or the poll timeout passes (*AuthorizationTimeoutError).
func (c *Client) AccessToken(ctx context.Context, opts AccessTokenOptions) (string, error) {
	if err := opts.Validate(); err != nil {
		return "", err
	}
	wat, err := c.ResolveWorkloadAccessToken(ctx)
	if err != nil {
		return "", err
	}
	req := TokenRequest{
		Provider: opts.Provider, Scopes: opts.Scopes, Flow: opts.Flow, CallbackURL: opts.CallbackURL,
		ForceAuthentication: opts.ForceAuthentication, CustomState: opts.CustomState,
		CustomParameters: opts.CustomParameters, Resources: opts.Resources, Audiences: opts.Audiences,
	}
	first, err := c.oauth2Once(ctx, wat, req)
	if err != nil {
		return "", err
	}
	tok, err := first.unwrap(req.Provider, "")
	var ar *AuthorizationRequiredError
	if !errors.As(err, &ar) || opts.OnAuthURL == nil {
		return tok, err
	}
	if ar.SessionURI == "" {
		return "", fmt.Errorf("identity: provider %q: the service sent an authorization URL without a session URI to poll", req.Provider)
	}
	if err := opts.OnAuthURL(ctx, ar.URL); err != nil {
		return "", fmt.Errorf("identity: OnAuthURL: %w", err)
	}

	// Polls repeat the request with the session URI, never forcing.
	req.ForceAuthentication, req.SessionURI = false, ar.SessionURI
	pollCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		timeout := opts.PollTimeout
		if timeout == 0 {
			timeout = DefaultPollTimeout
		}
		var cancel context.CancelFunc
		pollCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	poller := opts.Poller
	if poller == nil {
		poller = IntervalPoller{Interval: opts.PollInterval}
	}
	start := time.Now()
	tok, err = poller.Poll(pollCtx, func(ctx context.Context) (string, error) {
		res, err := c.oauth2Once(ctx, wat, req)
		switch {
		case err != nil:
			return "", err
		case res.token != "":
			return res.token, nil
		case res.failed:
			return "", fmt.Errorf("identity: provider %q: %w", req.Provider, ErrAuthorizationFailed)
		}
		return "", nil // still waiting for the user
	})
	switch {
	case err == nil && tok == "":
		return "", fmt.Errorf("identity: poller for provider %q returned neither a token nor an error", req.Provider)
	case errors.Is(err, context.DeadlineExceeded):
		return "", &AuthorizationTimeoutError{Provider: req.Provider, URL: ar.URL, SessionURI: ar.SessionURI, Waited: time.Since(start), Err: err}
	case isContextErr(err):
		return "", fmt.Errorf("identity: waiting for user authorization of provider %q: %w", req.Provider, err)
	}
	return tok, err
}

// RequiresAccessToken wraps a tool so it receives the provider's OAuth2
// access token and never touches a secret source. Each call resolves the
// workload access token from ctx (see ResolveWorkloadAccessToken) and runs
// Client.AccessToken; fn runs only with a token. Invalid options panic here,
// at wrap time, like the Python decorator raising at import.
func RequiresAccessToken[T any](c *Client, opts AccessTokenOptions, fn func(ctx context.Context, token string) (T, error)) func(ctx context.Context) (T, error) {
	g := RequiresAccessTokenArg(c, opts, func(ctx context.Context, token string, _ struct{}) (T, error) { return fn(ctx, token) })
	return func(ctx context.Context) (T, error) { return g(ctx, struct{}{}) }
}

// RequiresAccessTokenArg is RequiresAccessToken for a tool with an argument.
func RequiresAccessTokenArg[A, T any](c *Client, opts AccessTokenOptions, fn func(ctx context.Context, token string, arg A) (T, error)) func(ctx context.Context, arg A) (T, error) {
	mustWrap("RequiresAccessToken", c != nil && fn != nil, opts.Validate())
	return func(ctx context.Context, arg A) (T, error) {
		tok, err := c.AccessToken(ctx, opts)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, tok, arg)
	}
}

// RequiresAPIKey wraps a tool so it receives the API key stored by the
// provider (GetResourceApiKey).
func RequiresAPIKey[T any](c *Client, provider string, fn func(ctx context.Context, apiKey string) (T, error)) func(ctx context.Context) (T, error) {
	g := RequiresAPIKeyArg(c, provider, func(ctx context.Context, key string, _ struct{}) (T, error) { return fn(ctx, key) })
	return func(ctx context.Context) (T, error) { return g(ctx, struct{}{}) }
}

// RequiresAPIKeyArg is RequiresAPIKey for a tool with an argument.
func RequiresAPIKeyArg[A, T any](c *Client, provider string, fn func(ctx context.Context, apiKey string, arg A) (T, error)) func(ctx context.Context, arg A) (T, error) {
	var err error
	if provider == "" {
		err = errors.New("identity: the provider name is required")
	}
	mustWrap("RequiresAPIKey", c != nil && fn != nil, err)
	return func(ctx context.Context, arg A) (T, error) {
		key, err := c.GetAPIKey(ctx, provider)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, key, arg)
	}
}

// RequiresWorkloadAccessToken wraps a function so it receives the
// workload access token the runtime delivered with the invocation (the
// Python SDK's requires_wat). Unlike the other wrappers it never mints one:
// without a token on ctx it fails with ErrNoWorkloadAccessToken.
func RequiresWorkloadAccessToken[T any](fn func(ctx context.Context, wat string) (T, error)) func(ctx context.Context) (T, error) {
	mustWrap("RequiresWorkloadAccessToken", fn != nil, nil)
	return func(ctx context.Context) (T, error) {
		wat := reqctx.From(ctx).WorkloadAccessToken
		if wat == "" {
			var zero T
			return zero, fmt.Errorf("identity: %w: the context carries none (is this running inside runtime.App?)", ErrNoWorkloadAccessToken)
		}
		return fn(ctx, wat)
	}
}

func mustWrap(name string, ok bool, err error) {
	if !ok {
		panic("identity." + name + ": nil client or function")
	}
	if err != nil {
		panic("identity." + name + ": " + err.Error())
	}
}
