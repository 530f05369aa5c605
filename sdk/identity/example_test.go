package identity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// Setting up an agent's identity and credentials against a self-hosted
// server (or AWS, with Endpoint left empty).
func ExampleClient() {
	ctx := context.Background()
	client, err := identity.New(identity.Options{Endpoint: "http://127.0.0.1:8000", Region: "us-east-1"})
	if err != nil {
		log.Fatal(err)
	}

	// The agent's identity, with the URL the browser returns to after a
	// user consents (needed for the 3LO flow).
	if _, err := client.CreateWorkloadIdentity(ctx, "travel-agent", []string{"http://localhost:8081/oauth2/callback"}); err != nil {
		log.Fatal(err)
	}

	// An OAuth2 provider: register its CallbackURL at GitHub.
	gh, err := client.CreateOAuth2CredentialProvider(ctx, "github", identity.GitHubOAuth2("client-id", "client-secret"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("register this redirect URI at GitHub:", gh.CallbackURL)

	// An API key, stored write-only in the token vault.
	if _, err := client.CreateAPIKeyCredentialProvider(ctx, "weather-api", "wx-key-123"); err != nil {
		log.Fatal(err)
	}

	// A workload access token for a user, as the runtime would mint it.
	wat, err := client.GetWorkloadAccessToken(ctx, "travel-agent", identity.WithUserID("alice"))
	if err != nil {
		log.Fatal(err)
	}
	ctx = identity.WithWorkloadAccessToken(ctx, wat)
	key, err := client.GetAPIKey(ctx, "weather-api")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(key) > 0)
}

// Branching on the kind of a service error.
func ExampleAPIError() {
	ctx := context.Background()
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.GetWorkloadIdentity(ctx, "travel-agent")
	var apiErr *identity.APIError
	switch {
	case errors.Is(err, identity.ErrNotFound):
		_, err = client.CreateWorkloadIdentity(ctx, "travel-agent", nil)
	case errors.As(err, &apiErr):
		log.Fatalf("AWS said %s: %s", apiErr.Code, apiErr.Message)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// A tool that acts for the user at GitHub. OnAuthURL shows the consent URL
// (here: prints it; in a chat agent: streams it to the UI) and the wrapper
// waits until the user has consented.
func ExampleRequiresAccessToken() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	listRepos := identity.RequiresAccessToken(client, identity.AccessTokenOptions{
		Provider: "github",
		Scopes:   []string{"repo"},
		Flow:     identity.FlowUserFederation,
		OnAuthURL: func(ctx context.Context, url string) error {
			fmt.Println("Please authorize:", url)
			return nil
		},
	}, func(ctx context.Context, token string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user/repos", nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	})

	// ctx comes from runtime.App (it carries the user's workload access
	// token); outside a runtime the client's LocalDev fallback supplies one.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	repos, err := listRepos(ctx)
	if errors.Is(err, identity.ErrAuthorizationTimeout) {
		fmt.Println("the user did not authorize in time")
		return
	}
	fmt.Println(repos, err)
}

// The seed quickstart's check_external_service tool, without the
// "auth_url_holder" and task-cancel dance: with no OnAuthURL the wrapper
// returns the consent URL as an error right away, and the tool turns it
// into its answer. The user consents and asks again.
func ExampleRequiresAccessToken_handBackTheURL() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	getToken := identity.RequiresAccessToken(client, identity.AccessTokenOptions{
		Provider: "ExternalServiceProvider", Scopes: []string{"openid"}, Flow: identity.FlowUserFederation,
	}, func(ctx context.Context, token string) (string, error) { return token, nil })

	checkExternalService := func(ctx context.Context) string {
		token, err := getToken(ctx)
		var authz *identity.AuthorizationRequiredError
		switch {
		case errors.As(err, &authz):
			return "Authorization Required\n\nPlease open this URL in your browser to authorize:\n" + authz.URL
		case err != nil:
			return "Failed to authenticate: " + err.Error()
		}
		return fmt.Sprintf("Authenticated to external service\nToken length: %d characters", len(token))
	}
	fmt.Println(checkExternalService(context.Background()))
}

// The return URL handler of the 3LO flow: AgentCore redirects the browser
// here with ?session_id=...; the app checks that the signed-in user started
// the flow, then binds the session to that user.
func ExampleClient_CompleteAuthorization() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	signedInUser := func(r *http.Request) string { return r.Header.Get("X-Demo-User") } // your session lookup

	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/callback", func(w http.ResponseWriter, r *http.Request) {
		session := r.URL.Query().Get("session_id")
		if session == "" {
			http.Error(w, "missing session_id", http.StatusBadRequest)
			return
		}
		// The exact artifact the workload access token was minted from.
		err := client.CompleteAuthorization(r.Context(), session, identity.WithUserID(signedInUser(r)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Fprintln(w, "Authorization complete; return to the agent.")
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", mux))
}

// A tool that receives a stored API key.
func ExampleRequiresAPIKey() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	weather := identity.RequiresAPIKeyArg(client, "weather-api",
		func(ctx context.Context, apiKey string, city string) (string, error) {
			// call the weather API with apiKey
			return "sunny in " + city, nil
		})
	forecast, err := weather(context.Background(), "Lisbon")
	fmt.Println(forecast, err)
}

// The seed's authenticate_external_service tool: an AWS-signed JWT for an
// external audience, from STS GetWebIdentityToken. No secret, no user and
// no workload access token are involved.
func ExampleRequiresIAMAccessToken() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	authenticate := identity.RequiresIAMAccessToken(client.STS(), identity.IAMTokenOptions{
		Audience:         []string{"https://api.example.com"},
		SigningAlgorithm: identity.ES384,
		Duration:         300 * time.Second,
	}, func(ctx context.Context, token string) (string, error) {
		return fmt.Sprintf("AWS IAM JWT obtained (%d characters)", len(token)), nil
	})
	msg, err := authenticate(context.Background())
	if errors.Is(err, identity.ErrFederationDisabled) {
		log.Fatal("enable outbound web identity federation first (agentcore identity setup-aws-jwt)")
	}
	fmt.Println(msg)
}

// Options are checked when the tool is wrapped; validate first when they
// come from configuration.
func ExampleIAMTokenOptions_Validate() {
	opts := identity.IAMTokenOptions{Audience: []string{"https://api.example.com"}, Duration: 2 * time.Hour}
	fmt.Println(opts.Validate())
	// Output: identity: invalid IAMTokenOptions: the duration 2h0m0s must be whole seconds from 60s to 3600s
}

// Vendor names are accepted in the service's spelling and in the common
// ones.
func ExampleParseVendor() {
	for _, s := range []string{"github", "GitHubOauth2", "LinkedInOauth2", "cognito"} {
		v, _ := identity.ParseVendor(s)
		fmt.Println(s, "=>", v)
	}
	// Output:
	// github => GithubOauth2
	// GitHubOauth2 => GithubOauth2
	// LinkedInOauth2 => LinkedinOauth2
	// cognito => CognitoOauth2
}
