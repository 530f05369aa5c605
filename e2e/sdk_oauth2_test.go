package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

const (
	sdkIdPClient   = "sdk-e2e-client"
	sdkIdPSecret   = "sdk-e2e-secret-51c2"
	sdkIdPPassword = "alice's long passphrase"
)

// sdkOAuth2Env is a real server, a real OpenID provider (oidctest), and an
// OAuth2 credential provider created through the SDK from the IdP's
// discovery document, with the IdP client registered for its callback.
type sdkOAuth2Env struct {
	env      *servertest.Env
	idp      *oidctest.Provider
	c        *identity.Client
	ctx      context.Context
	returnTo string
	sessions chan string // session_id values the return URL received
}

func newSDKOAuth2Env(t *testing.T) *sdkOAuth2Env {
	t.Helper()
	x := &sdkOAuth2Env{sessions: make(chan string, 4)}
	x.env = servertest.Start(t, servertest.Options{})
	x.ctx = servertest.Context(t)
	x.c = sdkClient(t, x.env, nil)
	x.idp = oidctest.Start(t, oidctest.Options{Users: []oidctest.User{{Username: "alice", Password: sdkIdPPassword}}})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x.sessions <- r.URL.Query().Get("session_id")
		_, _ = io.WriteString(w, "You may close this window.")
	}))
	t.Cleanup(app.Close)
	x.returnTo = app.URL + "/oauth2/callback"

	prov, err := x.c.CreateOAuth2CredentialProvider(x.ctx, "corp-idp",
		identity.CustomOAuth2Discovery(x.idp.DiscoveryURL(), sdkIdPClient, sdkIdPSecret))
	if err != nil {
		t.Fatal(err)
	}
	x.idp.AddClient(oidctest.Client{ID: sdkIdPClient, Secret: sdkIdPSecret, RedirectURIs: []string{prov.CallbackURL}, Scopes: []string{"read"}})
	if _, err := x.c.CreateWorkloadIdentity(x.ctx, "sdk-agent", []string{x.returnTo}); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestSDKOAuth2ClientCredentials(t *testing.T) {
	x := newSDKOAuth2Env(t)
	wat, err := x.c.GetWorkloadAccessToken(x.ctx, "sdk-agent")
	if err != nil {
		t.Fatal(err)
	}
	call := identity.RequiresAccessToken(x.c, identity.AccessTokenOptions{Provider: "corp-idp", Scopes: []string{"read"}, Flow: identity.FlowM2M},
		func(ctx context.Context, token string) (map[string]any, error) {
			return servertest.JWTClaims(t, token), nil
		})
	watCtx := identity.WithWorkloadAccessToken(x.ctx, wat)
	claims, err := call(watCtx)
	sdkOK(t, err, "GetResourceOauth2Token (M2M)")
	if claims["iss"] != x.idp.Issuer() || claims["client_id"] != sdkIdPClient || claims["username"] != nil {
		t.Errorf("client-credentials token claims = %v", claims)
	}
	if n := x.idp.TokenCalls(oidctest.GrantClientCredentials); n != 1 {
		t.Errorf("client_credentials grants at the IdP = %d, want 1", n)
	}
	if got, err := x.c.GetClientCredentialsToken(watCtx, "corp-idp", "read"); err != nil || servertest.JWTClaims(t, got)["client_id"] != sdkIdPClient {
		t.Errorf("GetClientCredentialsToken = %q, %v", got, err)
	}
}

func TestSDKOAuth2UserFederation(t *testing.T) {
	x := newSDKOAuth2Env(t)
	wat, err := x.c.GetWorkloadAccessToken(x.ctx, "sdk-agent", identity.WithUserID("alice-id"))
	if err != nil {
		t.Fatal(err)
	}
	// As inside runtime.App: the invocation carries the WAT and the
	// OAuth2 callback (return) URL.
	ctx := runtime.NewContext(x.ctx, runtime.Invocation{WorkloadAccessToken: wat, CallbackURL: x.returnTo})
	opts := identity.AccessTokenOptions{Provider: "corp-idp", Scopes: []string{"openid", "read"}, Flow: identity.FlowUserFederation}

	// Without OnAuthURL the wrapper hands the consent URL back at once.
	probe := identity.RequiresAccessToken(x.c, opts, func(ctx context.Context, token string) (string, error) { return token, nil })
	_, err = probe(ctx)
	var authz *identity.AuthorizationRequiredError
	if !errors.As(err, &authz) {
		sdkOK(t, err, "GetResourceOauth2Token (USER_FEDERATION)")
		t.Fatalf("first call: want *AuthorizationRequiredError, got %v", err)
	}

	// With OnAuthURL the wrapper waits: a "browser" signs in at the IdP and
	// lands on the return URL; the app binds the session to the user who
	// started it (a different user is refused), while the wrapper polls.
	var mu sync.Mutex
	var shown []string
	browser := make(chan error, 1)
	opts.PollInterval = 50 * time.Millisecond
	opts.OnAuthURL = func(ctx context.Context, authURL string) error {
		mu.Lock()
		shown = append(shown, authURL)
		mu.Unlock()
		go func() { browser <- x.consent(ctx, authURL) }()
		return nil
	}
	tool := identity.RequiresAccessToken(x.c, opts, func(ctx context.Context, token string) (map[string]any, error) {
		return servertest.JWTClaims(t, token), nil
	})
	claims, err := tool(ctx)
	if berr := <-browser; berr != nil {
		t.Fatalf("browser: %v", berr)
	}
	if err != nil {
		t.Fatalf("tool: %v", err)
	}
	if claims["iss"] != x.idp.Issuer() || claims["username"] != "alice" {
		t.Errorf("user token claims = %v", claims)
	}
	mu.Lock()
	if len(shown) != 1 {
		t.Errorf("OnAuthURL called %d times, want 1", len(shown))
	}
	mu.Unlock()

	// The token is in the vault now: the next call needs no consent.
	if _, err := probe(ctx); err != nil {
		t.Fatalf("after consent: %v", err)
	}

	// A forced re-authentication that nobody completes times out with a
	// typed error.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = x.c.AccessToken(short, identity.AccessTokenOptions{
		Provider: "corp-idp", Scopes: []string{"read"}, Flow: identity.FlowUserFederation, ForceAuthentication: true,
		PollInterval: 50 * time.Millisecond, OnAuthURL: func(context.Context, string) error { return nil },
	})
	if !errors.Is(err, identity.ErrAuthorizationTimeout) {
		t.Errorf("unanswered consent: %v", err)
	}
}

// consent plays the user: sign in at the IdP, follow the redirect through
// the server's callback to the app's return URL, then, as the app, complete
// the session (first as the wrong user, which must be refused).
func (x *sdkOAuth2Env) consent(ctx context.Context, authURL string) error {
	callback, err := x.idp.Authorize(ctx, authURL, "alice", sdkIdPPassword)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callback.String(), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Jar: jar, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	var session string
	select {
	case session = <-x.sessions:
	case <-time.After(5 * time.Second):
		return errors.New("the browser never reached the return URL (ended at " + resp.Request.URL.Redacted() + ")")
	}
	if err := x.c.CompleteAuthorization(ctx, session, identity.WithUserID("mallory-id")); !errors.Is(err, identity.ErrAccessDenied) {
		return errors.New("completing as another user was not refused: " + errString(err))
	}
	return x.c.CompleteAuthorization(ctx, session, identity.WithUserID("alice-id"))
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
