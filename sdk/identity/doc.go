// Package identity is the Go SDK for AgentCore Identity: it lets an agent
// call GitHub, Google, a company API or an AWS-federated service without
// ever holding a long-lived secret. It speaks the AWS wire protocol, so it
// works against this project's self-hosted server and against AWS.
//
// # Concepts
//
//   - A workload identity is the agent's identity. It lists the return URLs
//     a browser may be sent to after a user consents.
//   - A credential provider describes an outbound service: an OAuth2
//     client (vendor preset or custom) or a stored API key. Its secret is
//     write-only; nothing reads it back except the token vault.
//   - A workload access token (WAT) is a short-lived, opaque token binding
//     the agent (workload identity) and, optionally, the end user. Every
//     credential request presents one; tokens obtained for a user are kept
//     per (workload, user, provider) in the token vault.
//
// # Setting up
//
// Create a client and the resources once, from a setup program or the CLI:
//
//	client, err := identity.New(identity.Options{Endpoint: "http://127.0.0.1:8000"})
//	_, err = client.CreateWorkloadIdentity(ctx, "travel-agent", []string{"http://localhost:8081/oauth2/callback"})
//	gh, err := client.CreateOAuth2CredentialProvider(ctx, "github", identity.GitHubOAuth2(clientID, clientSecret))
//	// register gh.CallbackURL as the OAuth app's redirect URI
//	_, err = client.CreateAPIKeyCredentialProvider(ctx, "weather-api", apiKey)
//
// Options left empty come from the environment: AGENTCORE_ENDPOINT (or the
// Python SDK's BEDROCK_AGENTCORE_DP_ENDPOINT / BEDROCK_AGENTCORE_CP_ENDPOINT,
// or AWS_ENDPOINT_URL_BEDROCK_AGENTCORE[_CONTROL]), AWS_REGION, and AWS keys
// from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the shared credentials file.
//
// # Giving a tool its credentials
//
// Wrap the tool function. The wrapper fetches the credential for every call
// and passes it in; the tool never sees where it came from:
//
//	listRepos := identity.RequiresAccessToken(client, identity.AccessTokenOptions{
//		Provider: "github", Scopes: []string{"repo"}, Flow: identity.FlowUserFederation,
//	}, func(ctx context.Context, token string) ([]string, error) {
//		return githubRepos(ctx, token)
//	})
//	repos, err := listRepos(ctx)
//
// RequiresAPIKey injects a stored API key; RequiresIAMAccessToken injects an
// AWS-signed JWT from STS GetWebIdentityToken (no secret and no WAT at all);
// RequiresWorkloadAccessToken injects the WAT itself. Each has an ...Arg
// variant for tools that take an argument. Wrappers check their options when
// they are built and panic on a misconfiguration, as the Python decorators
// raise at import time.
//
// # Where the workload access token comes from
//
// Explicitly, from the context.Context of the call. Inside an agent runtime
// the token arrives with each invocation as a header; runtime.App (or
// runtime.Middleware for your own HTTP server) puts it on the request's
// context, and the wrappers read it from the ctx you pass down. Code that
// receives the token some other way uses WithWorkloadAccessToken.
//
// Because the token travels in ctx, it reaches tools run in other
// goroutines, worker pools or streaming callbacks, as long as ctx is passed.
// The Python SDK keeps it in a contextvar, which is empty in a plain FastAPI
// app, in background threads and in tool threads ("Workload access token has
// not been set"); passing ctx removes that class of failure.
//
// Outside a runtime (local development, a service on ECS, tests) the context
// carries no token, so the client mints one itself for a local user: see
// LocalDev. Without options it behaves like the Python SDK, keeping the
// workload name and user id in ./.agentcore.json; unlike it, the workload
// name and user can be given explicitly.
//
// # Acting for a user: the 3LO flow
//
// With FlowUserFederation the first call for a user has no stored token, so
// the service answers with an authorization URL. Two styles:
//
//   - Hand the URL back. Leave OnAuthURL nil and the wrapper returns an
//     *AuthorizationRequiredError at once (errors.Is ErrAuthorizationRequired);
//     the tool returns its URL to the user and is simply called again later.
//   - Wait. Set OnAuthURL (stream the URL to the chat UI); it is awaited,
//     then the wrapper polls every PollInterval (5s) with the session URI
//     until the user has consented, the ctx deadline passes, or 600s pass
//     without one: *AuthorizationTimeoutError (ErrAuthorizationTimeout).
//
// After consent the browser lands on the workload's return URL with
// ?session_id=<session URI>. That handler checks the signed-in user is the
// one who started the flow and calls CompleteAuthorization with the same
// user id or JWT the WAT was minted from; only then is the token stored and
// returned to the polling (or repeated) call. FlowM2M needs none of this.
//
// # Errors
//
// Service errors are *APIError values that keep the AWS code and message and
// match one kind with errors.Is: ErrNotFound, ErrAccessDenied,
// ErrValidation, ErrConflict, ErrThrottled, ErrQuotaExceeded,
// ErrUnauthorized, ErrInternal, ErrUnsupported, ErrFederationDisabled.
//
// # Python SDK equivalents
//
//	requires_access_token(...)         RequiresAccessToken / Client.AccessToken
//	requires_api_key(...)              RequiresAPIKey / Client.GetAPIKey
//	requires_iam_access_token(...)     RequiresIAMAccessToken / GetIAMAccessToken
//	requires_wat(...)                  RequiresWorkloadAccessToken
//	IdentityClient.get_workload_access_token   Client.GetWorkloadAccessToken
//	IdentityClient.complete_resource_token_auth Client.CompleteAuthorization
//	IdentityClient.get_token                   Client.AccessToken
//	get_resource_oauth2_token (one call)       Client.GetOAuth2Token
//	create_oauth2_credential_provider          Client.CreateOAuth2CredentialProvider
//	create_api_key_credential_provider         Client.CreateAPIKeyCredentialProvider
//	create/get/update_workload_identity        Client.*WorkloadIdentity
//	agentcore identity list-credential-providers  Client.ListCredentialProviders
//
// Underlying AWS SDK clients are available from Client.Data, Client.Control
// and Client.STS for operations this package does not wrap.
package identity
