package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

// TestSeed000 walks seed 000 against a real server: enable federation,
// invoke the agent, and have an external service verify the token it used
// through OIDC discovery of our issuer.
func TestSeed000(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := servertest.Context(t)
	enabled, err := env.IAM().EnableOutboundWebIdentityFederation(ctx, nil)
	if err != nil {
		t.Fatalf("enable federation: %v", err)
	}
	issuer := aws.ToString(enabled.IssuerIdentifier)

	client, err := identity.New(identity.Options{Endpoint: env.URL, Region: env.Region, Credentials: env.Credentials(), RetryMaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Capture the token the tool used by wrapping the STS client.
	sts := &recordingSTS{STSAPI: client.STS()}
	app := runtime.NewApp(runtime.Options{})
	newAgent(app, sts)
	agent := httptest.NewServer(app.Handler())
	defer agent.Close()

	resp, err := http.Post(agent.URL+"/invocations", "application/json", strings.NewReader(`{"prompt":"Please authenticate with the external service"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Response string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, want := range []string{"AWS IAM JWT obtained", "Issuer: " + issuer, "Audience: " + Audience, ":user/agentcore-admin"} {
		if !strings.Contains(out.Response, want) {
			t.Errorf("agent response lacks %q:\n%s", want, out.Response)
		}
	}
	if sts.token == "" {
		t.Fatal("the tool did not obtain a token")
	}

	// The external service: a standard OIDC relying party.
	provider, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discover issuer: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: Audience, SupportedSigningAlgs: []string{"ES384"}})
	if _, err := verifier.Verify(ctx, sts.token); err != nil {
		t.Fatalf("external service rejected the agent's token: %v", err)
	}
	other := provider.Verifier(&oidc.Config{ClientID: "https://other.example.com", SupportedSigningAlgs: []string{"ES384"}})
	if _, err := other.Verify(ctx, sts.token); err == nil {
		t.Fatal("a service with another audience accepted the token")
	}

	// Without the prompt, the tool is not called.
	resp, err = http.Post(agent.URL+"/invocations", "application/json", strings.NewReader(`{"prompt":"hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if strings.Contains(out.Response, "JWT") {
		t.Errorf("tool called without being asked: %s", out.Response)
	}
}

// recordingSTS passes calls through and keeps the last token.
type recordingSTS struct {
	identity.STSAPI
	token string
}

func (r *recordingSTS) GetWebIdentityToken(ctx context.Context, in *sts.GetWebIdentityTokenInput, optFns ...func(*sts.Options)) (*sts.GetWebIdentityTokenOutput, error) {
	out, err := r.STSAPI.GetWebIdentityToken(ctx, in, optFns...)
	if err == nil {
		r.token = aws.ToString(out.WebIdentityToken)
	}
	return out, err
}
