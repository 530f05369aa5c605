package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/runtime"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// agentAnswer is what the quickstart agent answers.
type agentAnswer struct {
	Response         string `json:"response"`
	AuthorizationURL string `json:"authorizationUrl"`
	TokenLength      int    `json:"tokenLength"`
	SessionID        string `json:"sessionId"`
	RequestID        string `json:"requestId"`
	HasWAT           bool   `json:"hasWorkloadAccessToken"`
	CallbackURL      string `json:"callbackUrl"`
}

func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agent")
	cmd := exec.Command("go", "build", "-o", bin, "../examples/identity-quickstart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build agent: %v\n%s", err, out)
	}
	return bin
}

// invokeBearer posts a payload the way the starter toolkit does with a
// bearer token: raw HTTP, ARN percent-encoded in the path.
func invokeBearer(t *testing.T, base, ref, token, session, payload string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/runtimes/"+url.QueryEscape(ref)+"/invocations?qualifier=DEFAULT", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream, application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set(runtime.HeaderSessionID, session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && resp.Header.Get(runtime.HeaderSessionID) != session {
		t.Errorf("session id header not echoed: %q", resp.Header.Get(runtime.HeaderSessionID))
	}
	return resp.StatusCode, b
}

// TestLocalRuntimeQuickstart is the identity quickstart against the local
// runtime: a runtime with a Cognito-style JWT authorizer runs the example
// agent; a bearer invoke delivers the session id and the user's workload
// access token, the agent reports the authorization URL, the user consents,
// the built-in return URL binds the session, and the next invoke gets the
// token.
func TestLocalRuntimeQuickstart(t *testing.T) {
	ctx := servertest.Context(t)
	agentBin := buildAgent(t)
	resource := oidctest.Start(t, oidctest.Options{Users: []oidctest.User{{Username: "dana", Password: idpPassword}}})
	inbound := oidctest.Start(t, oidctest.Options{Style: oidctest.StyleCognito, IssuerPath: "/us-east-1_RUNTIME",
		Users: []oidctest.User{{Username: "dana", Password: idpPassword}}})
	env := servertest.Start(t, servertest.Options{Configure: func(c *config.Config) { c.LocalRuntimeCommands = true }})
	c, d := env.Control(), env.Data()

	prov, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String(idpProvider), CredentialProviderVendor: "CustomOauth2",
		Oauth2ProviderConfigInput: customDiscovery(resource.DiscoveryURL(), idpClientID, idpClientSecret),
	})
	if err != nil {
		t.Fatal(err)
	}
	resource.AddClient(oidctest.Client{ID: idpClientID, Secret: idpClientSecret,
		RedirectURIs: []string{aws.ToString(prov.CallbackUrl)}, Scopes: []string{"read"}})

	const runtimeClient = "runtime-client-1"
	port, err := runtime.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"agentRuntimeName": "identity_demo",
		"roleArn":          "arn:aws:iam::" + env.AccountID + ":role/agent",
		"agentRuntimeArtifact": map[string]any{"localConfiguration": map[string]any{
			"command": []string{agentBin}, "port": port,
			"env": map[string]string{"AGENTCORE_ENDPOINT": env.URL, "AWS_REGION": env.Region,
				"AWS_ACCESS_KEY_ID": env.AccessKey, "AWS_SECRET_ACCESS_KEY": env.SecretKey,
				"PROVIDER_NAME": idpProvider, "PROVIDER_SCOPES": "read"},
		}},
		"authorizerConfiguration": map[string]any{"customJWTAuthorizer": map[string]any{
			"discoveryUrl": inbound.DiscoveryURL(), "allowedClients": []string{runtimeClient}}},
		"requestHeaderConfiguration": map[string]any{"requestHeaderAllowlist": []string{"X-Amzn-Bedrock-AgentCore-Runtime-Custom-*"}},
	})
	status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/", "application/json", body, time.Now()))
	if status != http.StatusAccepted {
		t.Fatalf("CreateAgentRuntime: %d %+v", status, we)
	}
	list, err := c.ListAgentRuntimes(ctx, &cp.ListAgentRuntimesInput{})
	if err != nil || len(list.AgentRuntimes) != 1 {
		t.Fatalf("ListAgentRuntimes: %v %+v", err, list)
	}
	rtARN, rtID := aws.ToString(list.AgentRuntimes[0].AgentRuntimeArn), aws.ToString(list.AgentRuntimes[0].AgentRuntimeId)
	if !strings.HasPrefix(rtID, "identity_demo-") || rtARN != "arn:aws:bedrock-agentcore:"+env.Region+":"+env.AccountID+":runtime/"+rtID {
		t.Fatalf("id %q arn %q", rtID, rtARN)
	}

	// The SDK reads the runtime; it turns READY once the agent answers /ping.
	var got *cp.GetAgentRuntimeOutput
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(rtID)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "READY" || time.Now().After(deadline) {
			break
		}
	}
	if got.Status != "READY" || got.CreatedAt == nil || got.WorkloadIdentityDetails == nil {
		t.Fatalf("runtime not ready: %s %s", got.Status, aws.ToString(got.FailureReason))
	}
	wl, err := c.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String(rtID)})
	if err != nil || aws.ToString(wl.WorkloadIdentityArn) != aws.ToString(got.WorkloadIdentityDetails.WorkloadIdentityArn) {
		t.Fatalf("runtime workload identity: %v %+v", err, wl)
	}
	if len(wl.AllowedResourceOauth2ReturnUrls) != 1 || !strings.Contains(wl.AllowedResourceOauth2ReturnUrls[0], "/runtime-callback/oauth2/callback") {
		t.Fatalf("return URLs %v lack the built-in handler", wl.AllowedResourceOauth2ReturnUrls)
	}

	user := inbound.SignRaw(inbound.AccessTokenClaims(runtimeClient, "dana", "openid"), oidctest.SignOptions{})
	session := "demo_session_" + strings.Repeat("0123456789", 3)

	// The authorizer was copied onto the workload: ForJWT accepts the token.
	if _, err := d.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
		WorkloadName: aws.String(rtID), UserToken: aws.String(user)}); err != nil {
		t.Fatalf("ForJWT on the runtime's workload: %v", err)
	}

	code, raw := invokeBearer(t, env.URL, rtARN, user, session, `{"prompt": "Call the external service"}`)
	var first agentAnswer
	if code != 200 || json.Unmarshal(raw, &first) != nil {
		t.Fatalf("first invoke: %d %s", code, raw)
	}
	if first.SessionID != session || !first.HasWAT || first.RequestID == "" || first.AuthorizationURL == "" ||
		!strings.HasPrefix(first.AuthorizationURL, env.URL) || !strings.Contains(first.CallbackURL, "/runtime-callback/") {
		t.Fatalf("first invoke answer: %+v", first)
	}

	// The user consents; the browser lands on the built-in return URL,
	// which binds the session to the invoking user.
	redirect, err := resource.Authorize(ctx, first.AuthorizationURL, "dana", idpPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(redirect.String())
	if err != nil {
		t.Fatal(err)
	}
	done, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(done), "completed successfully") {
		t.Fatalf("return URL: %d %s", resp.StatusCode, done)
	}

	code, raw = invokeBearer(t, env.URL, rtID, user, session, `{"prompt": "again"}`)
	var second agentAnswer
	if code != 200 || json.Unmarshal(raw, &second) != nil || second.TokenLength == 0 {
		t.Fatalf("second invoke: %d %s", code, raw)
	}

	t.Run("errors", func(t *testing.T) {
		bad := inbound.SignRaw(func() map[string]any {
			c := inbound.AccessTokenClaims("someone-else", "dana", "openid")
			return c
		}(), oidctest.SignOptions{})
		if code, raw := invokeBearer(t, env.URL, rtARN, bad, session, `{}`); code != 403 || !strings.Contains(string(raw), "rejected") {
			t.Errorf("bad token: %d %s", code, raw)
		}
		if code, raw := invokeBearer(t, env.URL, rtARN, user, "", `{}`); code != 400 || !strings.Contains(string(raw), "runtimeSessionId") {
			t.Errorf("missing session id: %d %s", code, raw)
		}
		if code, raw := invokeBearer(t, env.URL, "arn:aws:bedrock-agentcore:"+env.Region+":"+env.AccountID+":runtime/nope-AAAAAAAAAA", user, session, `{}`); code != 404 {
			t.Errorf("unknown runtime: %d %s", code, raw)
		}
		_, err := d.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(rtARN),
			RuntimeSessionId: aws.String(session), Payload: []byte(`{}`)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "Authorization method mismatch") {
			t.Errorf("SigV4 invoke of a JWT runtime: %v", err)
		}
		if code, raw := invokeBearer(t, env.URL, "arn:aws:bedrock-agentcore:"+env.Region+":"+env.AccountID+":runtime/nope-AAAAAAAAAA", user, session, `{}`); code != 404 {
			t.Errorf("unknown runtime: %d %s", code, raw)
		}
	})

	t.Run("sigv4 runtime", func(t *testing.T) {
		port2, _ := runtime.FreePort()
		body, _ := json.Marshal(map[string]any{
			"agentRuntimeName": "sigv4_agent",
			"agentRuntimeArtifact": map[string]any{"localConfiguration": map[string]any{
				"command": []string{agentBin}, "port": port2,
				"env": map[string]string{"AGENTCORE_ENDPOINT": env.URL, "AWS_REGION": env.Region,
					"AWS_ACCESS_KEY_ID": env.AccessKey, "AWS_SECRET_ACCESS_KEY": env.SecretKey, "PROVIDER_NAME": idpProvider},
			}},
		})
		if status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/", "application/json", body, time.Now())); status != 202 {
			t.Fatalf("create: %d %+v", status, we)
		}
		if err := runtime.WaitReady(ctx, port2, nil); err != nil {
			t.Fatal(err)
		}
		invoke := func(user string) agentAnswer {
			in := &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String("sigv4_agent"), RuntimeSessionId: aws.String(session), Payload: []byte(`{}`)}
			if user != "" {
				in.RuntimeUserId = aws.String(user)
			}
			out, err := d.InvokeAgentRuntime(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Response.Close()
			var a agentAnswer
			if err := json.NewDecoder(out.Response).Decode(&a); err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.RuntimeSessionId) != session {
				t.Errorf("session echo %q", aws.ToString(out.RuntimeSessionId))
			}
			return a
		}
		if a := invoke(""); a.HasWAT {
			t.Errorf("SigV4 without user id delivered a WAT: %+v", a)
		}
		if a := invoke("user-42"); !a.HasWAT || a.AuthorizationURL == "" {
			t.Errorf("SigV4 with user id: %+v", a)
		}
		if code, raw := invokeBearer(t, env.URL, "sigv4_agent", user, session, `{}`); code != 403 || !strings.Contains(string(raw), "mismatch") {
			t.Errorf("bearer on a SigV4 runtime: %d %s", code, raw)
		}
		if _, err := c.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String("sigv4_agent")}); err != nil {
			t.Fatal(err)
		}
		if runtime.Ping(ctx, port2) == nil {
			t.Error("agent still answers after DeleteAgentRuntime")
		}
		if _, err := c.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String(rtID)}); err != nil {
			t.Error("deleting one runtime removed another's workload")
		}
	})

	t.Run("agent not running", func(t *testing.T) {
		port3, _ := runtime.FreePort()
		body := fmt.Sprintf(`{"agentRuntimeName":"stopped_agent","agentRuntimeArtifact":{"localConfiguration":{"port":%d}}}`, port3)
		if status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/", "application/json", []byte(body), time.Now())); status != 202 {
			t.Fatalf("create: %d %+v", status, we)
		}
		out, err := d.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String("stopped_agent"),
			RuntimeSessionId: aws.String(session), Payload: []byte(`{}`)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "RuntimeClientError" || !strings.Contains(ae.ErrorMessage(), "agentcore launch") {
			t.Errorf("invoke of a stopped agent: %v %+v", err, out)
		}
		got, err := c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String("stopped_agent")})
		if err != nil || got.Status != "CREATE_FAILED" || !strings.Contains(aws.ToString(got.FailureReason), "not running") {
			t.Errorf("status of a stopped agent: %v %+v", err, got)
		}
	})
}
