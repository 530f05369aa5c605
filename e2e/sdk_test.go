package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

// sdkClient returns an SDK client for the test server. Local development
// is off unless ld is given, so a missing token fails loudly.
func sdkClient(t *testing.T, env *servertest.Env, ld *identity.LocalDev) *identity.Client {
	t.Helper()
	if ld == nil {
		ld = &identity.LocalDev{Disabled: true}
	}
	c, err := identity.New(identity.Options{
		Endpoint: env.URL, Region: env.Region, Credentials: env.Credentials(), RetryMaxAttempts: 1, LocalDev: ld,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sdkOK fails the test when an SDK call returned an error.
func sdkOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestSDKWorkloadIdentitiesProvidersAndAPIKeys(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c := sdkClient(t, env, nil)

		wi, err := c.CreateWorkloadIdentity(ctx, "sdk-agent", []string{"https://app.example.com/cb"})
		if err != nil {
			t.Fatal(err)
		}
		wantARN := fmt.Sprintf("arn:aws:bedrock-agentcore:%s:%s:workload-identity-directory/default/workload-identity/sdk-agent", env.Region, env.AccountID)
		if wi.ARN != wantARN || !slices.Equal(wi.ReturnURLs, []string{"https://app.example.com/cb"}) {
			t.Errorf("created = %+v", wi)
		}
		if _, err := c.UpdateWorkloadIdentity(ctx, "sdk-agent", []string{"https://a/1", "https://a/2"}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetWorkloadIdentity(ctx, "sdk-agent")
		if err != nil || len(got.ReturnURLs) != 2 || got.Created.IsZero() {
			t.Fatalf("get = %+v, %v", got, err)
		}
		all, err := c.ListWorkloadIdentities(ctx)
		if err != nil || len(all) != 1 || all[0].Name != "sdk-agent" {
			t.Fatalf("list = %+v, %v", all, err)
		}

		// Typed errors keep the AWS code.
		_, err = c.CreateWorkloadIdentity(ctx, "sdk-agent", nil)
		var ae *identity.APIError
		if !errors.Is(err, identity.ErrConflict) || !errors.As(err, &ae) || ae.Code != "ConflictException" {
			t.Errorf("duplicate: %v", err)
		}
		_, err = c.GetWorkloadIdentity(ctx, "nobody")
		if !errors.Is(err, identity.ErrNotFound) || !errors.As(err, &ae) || ae.StatusCode != 404 {
			t.Errorf("missing: %v", err)
		}
		if _, err := c.CreateWorkloadIdentity(ctx, "bad name!", nil); !errors.Is(err, identity.ErrValidation) {
			t.Errorf("bad name: %v", err)
		}

		key, err := c.CreateAPIKeyCredentialProvider(ctx, "weather-api", "wx-key-123")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(key.ARN, ":token-vault/default/apikeycredentialprovider/weather-api") || key.SecretARN == "" {
			t.Errorf("api key provider = %+v", key)
		}
		gh, err := c.CreateOAuth2CredentialProvider(ctx, "github", identity.GitHubOAuth2("gh-client", "gh-secret"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(gh.CallbackURL, env.URL+"/identities/oauth2/callback/") || gh.Vendor != identity.VendorGitHub {
			t.Errorf("oauth2 provider = %+v", gh)
		}
		providers, err := c.ListCredentialProviders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(providers) != 2 || providers[0].Name != "github" || providers[0].Kind != identity.KindOAuth2 ||
			providers[1].Name != "weather-api" || providers[1].Kind != identity.KindAPIKey {
			t.Errorf("merged list = %+v", providers)
		}
		if p, err := c.GetCredentialProvider(ctx, "weather-api"); err != nil || p.Kind != identity.KindAPIKey {
			t.Errorf("GetCredentialProvider = %+v, %v", p, err)
		}

		// Workload access tokens, and a wrapped tool that receives the key.
		forAlice, err := c.GetWorkloadAccessToken(ctx, "sdk-agent", identity.WithUserID("alice"))
		if err != nil {
			t.Fatal(err)
		}
		self, err := c.GetWorkloadAccessToken(ctx, "sdk-agent")
		if err != nil || self == forAlice {
			t.Fatalf("plain token: %v (identical to the user's: %v)", err, self == forAlice)
		}
		weather := identity.RequiresAPIKeyArg(c, "weather-api", func(ctx context.Context, apiKey, city string) (string, error) {
			return city + ":" + apiKey, nil
		})
		for _, wat := range []string{forAlice, self} {
			out, err := weather(identity.WithWorkloadAccessToken(ctx, wat), "Lisbon")
			if err != nil || out != "Lisbon:wx-key-123" {
				t.Fatalf("wrapped tool = %q, %v", out, err)
			}
		}
		if _, err := weather(identity.WithWorkloadAccessToken(ctx, "not-a-token"), "x"); !errors.Is(err, identity.ErrAccessDenied) {
			t.Errorf("garbage token: %v", err)
		}
		if _, err := weather(ctx, "x"); !errors.Is(err, identity.ErrNoWorkloadAccessToken) {
			t.Errorf("no token: %v", err)
		}

		if err := c.DeleteCredentialProvider(ctx, "weather-api"); err != nil {
			t.Fatal(err)
		}
		if _, err := weather(identity.WithWorkloadAccessToken(ctx, forAlice), "x"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("deleted provider: %v", err)
		}
		if err := c.DeleteCredentialProvider(ctx, "weather-api"); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

// sdkServeApp runs a runtime.App on a random port for the test.
func sdkServeApp(t *testing.T, app *runtime.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("app.Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func sdkInvoke(t *testing.T, base, payload string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/invocations", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSDKRuntimeAppDeliversTheWorkloadAccessToken(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := servertest.Context(t)
	c := sdkClient(t, env, nil)
	if _, err := c.CreateWorkloadIdentity(ctx, "runtime-agent", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAPIKeyCredentialProvider(ctx, "weather-api", "wx-key-456"); err != nil {
		t.Fatal(err)
	}

	weather := identity.RequiresAPIKeyArg(c, "weather-api", func(ctx context.Context, apiKey, city string) (string, error) {
		return "forecast for " + city + " with key " + apiKey, nil
	})
	app := runtime.NewApp(runtime.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		// The tool runs in another goroutine: ctx carries the token there.
		type res struct {
			s   string
			err error
		}
		ch := make(chan res, 1)
		go func() { s, err := weather(ctx, in.Prompt); ch <- res{s, err} }()
		r := <-ch
		if r.err != nil {
			return nil, r.err
		}
		return map[string]string{"response": r.s, "session": runtime.SessionID(ctx), "request": runtime.RequestID(ctx)}, nil
	})
	base := sdkServeApp(t, app)

	wat, err := c.GetWorkloadAccessToken(ctx, "runtime-agent", identity.WithUserID("alice"))
	if err != nil {
		t.Fatal(err)
	}
	session := "e2e-session-" + strings.Repeat("0", 30)
	for _, header := range []string{runtime.HeaderWAT, runtime.HeaderWorkloadAccessToken} {
		status, body := sdkInvoke(t, base, `{"prompt":"Porto"}`, map[string]string{header: wat, runtime.HeaderSessionID: session})
		var out map[string]string
		if err := json.Unmarshal([]byte(body), &out); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", header, status, body)
		}
		if out["response"] != "forecast for Porto with key wx-key-456" || out["session"] != session || len(out["request"]) != 36 {
			t.Errorf("%s: %v", header, out)
		}
	}

	// A SigV4 invocation without a user delivers no token: the tool fails
	// with a clear message instead of reaching the key.
	status, body := sdkInvoke(t, base, `{"prompt":"Porto"}`, map[string]string{runtime.HeaderSessionID: session})
	if status != 500 || !strings.Contains(body, "workload access token has not been set") {
		t.Errorf("without a token: %d %s", status, body)
	}
	resp, err := http.Get(base + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"status":"Healthy"`) {
		t.Errorf("ping: %s", b)
	}
}

func TestSDKLocalDevelopmentMintsItsOwnToken(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := servertest.Context(t)
	file := filepath.Join(t.TempDir(), ".agentcore.json")
	c := sdkClient(t, env, &identity.LocalDev{ConfigFile: file})
	if _, err := c.CreateAPIKeyCredentialProvider(ctx, "weather-api", "wx-local"); err != nil {
		t.Fatal(err)
	}
	tool := identity.RequiresAPIKey(c, "weather-api", func(ctx context.Context, apiKey string) (string, error) { return apiKey, nil })
	for range 2 {
		if got, err := tool(ctx); err != nil || got != "wx-local" {
			t.Fatalf("tool outside a runtime = %q, %v", got, err)
		}
	}
	var saved struct {
		Name string `json:"workload_identity_name"`
		User string `json:"user_id"`
	}
	b, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(b, &saved) != nil || saved.User == "" {
		t.Fatalf("config file: %s, %v", b, err)
	}
	all, err := c.ListWorkloadIdentities(ctx)
	if err != nil || len(all) != 1 || all[0].Name != saved.Name {
		t.Fatalf("identities = %+v (file names %q), %v", all, saved.Name, err)
	}

	// Explicit names (an ECS service): the identity is created on first use.
	svc := sdkClient(t, env, &identity.LocalDev{WorkloadName: "ecs-service", UserID: "bob", ConfigFile: filepath.Join(t.TempDir(), "unused.json")})
	if got, err := identity.RequiresAPIKey(svc, "weather-api", func(ctx context.Context, k string) (string, error) { return k, nil })(ctx); err != nil || got != "wx-local" {
		t.Fatalf("explicit local identity = %q, %v", got, err)
	}
	if _, err := c.GetWorkloadIdentity(ctx, "ecs-service"); err != nil {
		t.Errorf("ecs-service identity: %v", err)
	}
}

func TestSDKRequiresIAMAccessToken(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := servertest.Context(t)
	c := sdkClient(t, env, nil)
	opts := identity.IAMTokenOptions{Audience: []string{"https://api.example.com"}, Tags: map[string]string{"env": "test"}}

	_, err := identity.GetIAMAccessToken(ctx, c.STS(), opts)
	if !errors.Is(err, identity.ErrFederationDisabled) {
		sdkOK(t, err, "STS GetWebIdentityToken")
		t.Fatalf("before federation is enabled: want ErrFederationDisabled, got %v", err)
	}
	_, err = env.IAM().EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	sdkOK(t, err, "IAM EnableOutboundWebIdentityFederation")

	authenticate := identity.RequiresIAMAccessToken(c.STS(), opts, func(ctx context.Context, token string) (map[string]any, error) {
		return servertest.JWTClaims(t, token), nil
	})
	claims, err := authenticate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aud := fmt.Sprint(claims["aud"])
	if !strings.Contains(aud, "https://api.example.com") || claims["iss"] == nil || claims["sub"] == nil {
		t.Errorf("claims = %v", claims)
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat != 300 {
		t.Errorf("lifetime = %v s, want the default 300", exp-iat)
	}
}
