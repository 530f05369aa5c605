package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// workloadServer serves the control plane's workload operations over HTTP
// for raw-JSON and SDK clients.
func workloadServer(t *testing.T) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.MemoryPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tags := tagging.NewService(st)
	h := &Handlers{Workloads: workload.NewService(st, tags, "us-east-1", 0), Tags: tags}
	rt := awsproto.NewRouter(slog.New(slog.DiscardHandler), h.Operations())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op, labels, ok := rt.Match(r)
		if !ok {
			http.NotFound(w, r)
			return
		}
		r = r.WithContext(principal.With(r.Context(), principal.Principal{AccountID: testAccount}))
		rt.Serve(w, r, body, op, labels)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// call posts a raw JSON body to an operation and decodes the response.
func call(t *testing.T, base, op, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(base+"/identities/"+op, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s: decode: %v", op, err)
		}
	}
	return resp.StatusCode, out
}

// discoveryOf digs authorizerConfiguration.customJWTAuthorizer.discoveryUrl
// out of a response, "" when absent.
func discoveryOf(out map[string]any) string {
	ac, _ := out["authorizerConfiguration"].(map[string]any)
	jwt, _ := ac["customJWTAuthorizer"].(map[string]any)
	s, _ := jwt["discoveryUrl"].(string)
	return s
}

const (
	cognitoDiscovery = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration"
	auth0Discovery   = "https://tenant.us.auth0.com/.well-known/openid-configuration"
)

func TestWorkloadAuthorizerExtension(t *testing.T) {
	base := workloadServer(t)

	status, out := call(t, base, "CreateWorkloadIdentity", `{"name":"agent-1","authorizerConfiguration":{"customJWTAuthorizer":{
		"discoveryUrl":"`+cognitoDiscovery+`","allowedClients":["app-client"],
		"customClaims":[{"inboundTokenClaimName":"groups","inboundTokenClaimValueType":"STRING_ARRAY",
		"authorizingClaimMatchValue":{"claimMatchOperator":"CONTAINS","claimMatchValue":{"matchValueString":"admins"}}}]}}}`)
	if status != http.StatusCreated || discoveryOf(out) != cognitoDiscovery {
		t.Fatalf("create: %d %v", status, out)
	}

	status, out = call(t, base, "GetWorkloadIdentity", `{"name":"agent-1"}`)
	jwt := out["authorizerConfiguration"].(map[string]any)["customJWTAuthorizer"].(map[string]any)
	claims, _ := jwt["customClaims"].([]any)
	if status != http.StatusOK || discoveryOf(out) != cognitoDiscovery || len(claims) != 1 || jwt["allowedClients"].([]any)[0] != "app-client" {
		t.Fatalf("get: %d %v", status, out)
	}

	// An update without the member (what every AWS SDK sends) keeps it.
	status, out = call(t, base, "UpdateWorkloadIdentity", `{"name":"agent-1","allowedResourceOauth2ReturnUrls":["https://app.example/cb"]}`)
	if status != http.StatusOK || discoveryOf(out) != cognitoDiscovery {
		t.Fatalf("update without member: %d %v", status, out)
	}
	// null keeps it too; a new value replaces it, URLs in the same write.
	if _, out = call(t, base, "UpdateWorkloadIdentity", `{"name":"agent-1","authorizerConfiguration":null}`); discoveryOf(out) != cognitoDiscovery {
		t.Fatalf("update with null: %v", out)
	}
	status, out = call(t, base, "UpdateWorkloadIdentity", `{"name":"agent-1","allowedResourceOauth2ReturnUrls":["https://b.example/cb"],
		"authorizerConfiguration":{"customJWTAuthorizer":{"discoveryUrl":"`+auth0Discovery+`","allowedAudience":["gateway123"]}}}`)
	if status != http.StatusOK || discoveryOf(out) != auth0Discovery || out["allowedResourceOauth2ReturnUrls"].([]any)[0] != "https://b.example/cb" {
		t.Fatalf("update with new authorizer: %d %v", status, out)
	}
	// {} removes it.
	status, out = call(t, base, "UpdateWorkloadIdentity", `{"name":"agent-1","authorizerConfiguration":{}}`)
	if _, has := out["authorizerConfiguration"]; status != http.StatusOK || has {
		t.Fatalf("update with {}: %d %v", status, out)
	}
	if _, out = call(t, base, "GetWorkloadIdentity", `{"name":"agent-1"}`); out["authorizerConfiguration"] != nil {
		t.Fatalf("authorizer survived removal: %v", out)
	}
}

func TestWorkloadAuthorizerValidation(t *testing.T) {
	base := workloadServer(t)
	status, out := call(t, base, "CreateWorkloadIdentity", `{"name":"agent-2","authorizerConfiguration":{"customJWTAuthorizer":{
		"discoveryUrl":"https://idp.example/keys","allowedScopes":["bad scope"]}}}`)
	fields, _ := out["fieldList"].([]any)
	var names []string
	for _, f := range fields {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	want := "authorizerConfiguration.customJWTAuthorizer.discoveryUrl,authorizerConfiguration.customJWTAuthorizer.allowedScopes.1"
	if status != http.StatusBadRequest || strings.Join(names, ",") != want {
		t.Fatalf("create with bad authorizer: %d %v", status, out)
	}
	// Nothing was created: the authorizer is part of the one insert.
	if status, _ := call(t, base, "GetWorkloadIdentity", `{"name":"agent-2"}`); status != http.StatusNotFound {
		t.Fatalf("identity exists after a refused create: %d", status)
	}

	if status, _ := call(t, base, "CreateWorkloadIdentity", `{"name":"agent-2"}`); status != http.StatusCreated {
		t.Fatal("plain create failed")
	}
	status, out = call(t, base, "UpdateWorkloadIdentity", `{"name":"agent-2","authorizerConfiguration":{"customJWTAuthorizer":{}}}`)
	if status != http.StatusBadRequest || !strings.Contains(out["message"].(string), "authorizerConfiguration.customJWTAuthorizer.discoveryUrl") {
		t.Fatalf("update with empty authorizer: %d %v", status, out)
	}
	status, out = call(t, base, "CreateWorkloadIdentity", `{"name":"agent-3","authorizerConfiguration":{"customJWTAuthorizer":"x"}}`)
	if status != http.StatusBadRequest || out["reason"] != "CannotParse" {
		t.Fatalf("create with a non-object authorizer: %d %v", status, out)
	}
}

// AWS SDK clients ignore the extension member in responses.
func TestWorkloadAuthorizerInvisibleToSDK(t *testing.T) {
	base := workloadServer(t)
	if status, out := call(t, base, "CreateWorkloadIdentity", `{"name":"agent-4","authorizerConfiguration":{"customJWTAuthorizer":{"discoveryUrl":"`+cognitoDiscovery+`"}}}`); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, out)
	}
	c := bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(base), Retryer: aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
		}),
	})
	ctx := context.Background()
	got, err := c.GetWorkloadIdentity(ctx, &bedrockagentcorecontrol.GetWorkloadIdentityInput{Name: aws.String("agent-4")})
	if err != nil || aws.ToString(got.Name) != "agent-4" {
		t.Fatalf("SDK get: %v", err)
	}
	if _, err := c.UpdateWorkloadIdentity(ctx, &bedrockagentcorecontrol.UpdateWorkloadIdentityInput{Name: aws.String("agent-4"),
		AllowedResourceOauth2ReturnUrls: []string{"https://app.example/cb"}}); err != nil {
		t.Fatalf("SDK update: %v", err)
	}
	if _, out := call(t, base, "GetWorkloadIdentity", `{"name":"agent-4"}`); discoveryOf(out) != cognitoDiscovery {
		t.Fatalf("an SDK update dropped the authorizer: %v", out)
	}
}
