package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// TestRuntimeProviderGrants: an agent runtime's workload identity vends only
// from the providers the runtime was granted; an identity made through the
// plain AWS API stays unrestricted.
func TestRuntimeProviderGrants(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c, d := env.Control(), env.Data()
		for _, name := range []string{"granted-api", "other-api"} {
			if _, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
				Name: aws.String(name), ApiKey: aws.String("key-of-" + name)}); err != nil {
				t.Fatal(err)
			}
		}
		body := fmt.Sprintf(`{"agentRuntimeName":"granted_agent","agentRuntimeArtifact":{"localConfiguration":{"port":%d}},`+
			`"identityGrants":{"credentialProviders":["granted-api"]}}`, 1)
		if status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/", "application/json", []byte(body), time.Now())); status != 202 {
			t.Fatalf("create runtime: %d %+v", status, we)
		}
		rt, err := c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String("granted_agent")})
		if err != nil || rt.WorkloadIdentityDetails == nil {
			t.Fatalf("get runtime: %+v %v", rt, err)
		}
		arn := aws.ToString(rt.WorkloadIdentityDetails.WorkloadIdentityArn)
		workload := arn[strings.LastIndex(arn, "/")+1:]
		if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("plain-agent")}); err != nil {
			t.Fatal(err)
		}

		vend := func(wl, provider string) error {
			tok, err := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(wl)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: tok.WorkloadAccessToken,
				ResourceCredentialProviderName: aws.String(provider)})
			if err == nil && aws.ToString(out.ApiKey) != "key-of-"+provider {
				t.Fatalf("%s/%s vended the wrong key", wl, provider)
			}
			return err
		}
		if err := vend(workload, "granted-api"); err != nil {
			t.Fatalf("granted provider: %v", err)
		}
		var ad *dptypes.AccessDeniedException
		if err := vend(workload, "other-api"); !errors.As(err, &ad) || !strings.Contains(aws.ToString(ad.Message), "not granted") {
			t.Fatalf("provider not granted: want AccessDeniedException, got %v", err)
		}
		_, err = d.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{
			WorkloadIdentityToken: func() *string {
				tok, _ := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workload)})
				return tok.WorkloadAccessToken
			}(),
			ResourceCredentialProviderName: aws.String("other-api"), Scopes: []string{"read"}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m})
		if !errors.As(err, &ad) {
			t.Fatalf("OAuth2 vend from a provider not granted: want AccessDeniedException, got %v", err)
		}
		for _, p := range []string{"granted-api", "other-api"} {
			if err := vend("plain-agent", p); err != nil {
				t.Fatalf("unrestricted identity, %s: %v", p, err)
			}
		}
	})
}
