// Command identity-quickstart is the Go counterpart of the AgentCore
// Identity quickstart agent, without an LLM: one deterministic tool asks
// the token vault for the user's token of an OAuth2 provider and reports
// either the token's length or the authorization URL the user must open.
//
// It serves the runtime contract (POST /invocations, GET /ping) on
// 127.0.0.1:$PORT (default 8080). Configure it with the environment:
//
//	PROVIDER_NAME     OAuth2 credential provider (default ExternalServiceProvider)
//	PROVIDER_SCOPES   space-separated scopes (default "openid")
//	AGENTCORE_ENDPOINT, AWS_REGION and AWS credentials, to reach the server
//
// Under `agentcore launch` (or a server-started local runtime) the runtime
// passes the workload access token and the OAuth2 return URL with each
// invocation.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

// result is what one invocation answers; the invocation fields let a
// caller see what the runtime delivered.
type result struct {
	Response         string `json:"response"`
	AuthorizationURL string `json:"authorizationUrl,omitempty"`
	TokenLength      int    `json:"tokenLength,omitempty"`
	SessionID        string `json:"sessionId"`
	RequestID        string `json:"requestId"`
	HasWAT           bool   `json:"hasWorkloadAccessToken"`
	CallbackURL      string `json:"callbackUrl,omitempty"`
}

func run(ctx context.Context) error {
	port := runtime.DefaultPort
	if s := os.Getenv("PORT"); s != "" {
		p, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("PORT %q: %w", s, err)
		}
		port = p
	}
	provider := envOr("PROVIDER_NAME", "ExternalServiceProvider")
	scopes := strings.Fields(envOr("PROVIDER_SCOPES", "openid"))

	// Inside a runtime the token comes with each invocation; never fall
	// back to a local identity file.
	client, err := identity.New(identity.Options{LocalDev: &identity.LocalDev{Disabled: true}})
	if err != nil {
		return err
	}
	checkExternalService := identity.RequiresAccessToken(client, identity.AccessTokenOptions{
		Provider: provider, Scopes: scopes, Flow: identity.FlowUserFederation,
	}, func(_ context.Context, token string) (int, error) {
		return len(token), nil // a real tool would call the external API here
	})

	app := runtime.NewApp(runtime.Options{Port: port, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		out := result{
			SessionID: runtime.SessionID(ctx), RequestID: runtime.RequestID(ctx),
			HasWAT: runtime.WorkloadAccessToken(ctx) != "", CallbackURL: runtime.CallbackURL(ctx),
		}
		n, err := checkExternalService(ctx)
		var authz *identity.AuthorizationRequiredError
		switch {
		case errors.As(err, &authz):
			out.AuthorizationURL = authz.URL
			out.Response = "Authorization required: open " + authz.URL +
				" in your browser, then invoke again with the same session id."
		case err != nil:
			out.Response = "Failed to authenticate: " + err.Error()
		default:
			out.TokenLength = n
			out.Response = fmt.Sprintf("Authenticated to %s: token of %d characters.", provider, n)
		}
		return out, nil
	})
	return app.Run(ctx)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
