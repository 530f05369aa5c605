package e2e

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

func TestTokenRateLimitAndMetrics(t *testing.T) {
	env := servertest.Start(t, servertest.Options{Configure: func(c *config.Config) {
		// Two at once, then one per 100 s: deterministic within a test.
		c.RateLimits.TokenRequestsPerSecond = 0.01
		c.RateLimits.TokenBurst = 2
	}})
	ctx := servertest.Context(t)
	if _, err := env.Control().CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("busy-agent")}); err != nil {
		t.Fatal(err)
	}
	d := env.Data()
	in := &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("busy-agent")}
	for i := range 2 {
		if _, err := d.GetWorkloadAccessToken(ctx, in); err != nil {
			t.Fatalf("request %d within burst: %v", i, err)
		}
	}
	_, err := d.GetWorkloadAccessToken(ctx, in)
	var te *dptypes.ThrottlingException
	if !errors.As(err, &te) {
		t.Fatalf("over the limit: want ThrottlingException, got %v", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.Response.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After header on the throttle: %v", err)
	}
	// Control-plane calls are not token requests.
	for range 5 {
		if _, err := env.Control().ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{}); err != nil {
			t.Fatalf("control plane throttled: %v", err)
		}
	}

	body := servertest.MetricsText(t, env.URL)
	for _, want := range []string{
		`agentcore_throttled_requests_total{class="token"} 1`,
		`agentcore_requests_total{operation="GetWorkloadAccessToken",service="bedrock-agentcore",status="200"} 2`,
		`agentcore_requests_total{operation="GetWorkloadAccessToken",service="bedrock-agentcore",status="429"} 1`,
		`agentcore_rate_limit_per_second{class="token"} 0.01`,
		`agentcore_credential_vends_total{operation="GetWorkloadAccessToken"} 2`,
		`agentcore_request_duration_seconds_count{operation="ListWorkloadIdentities",service="bedrock-agentcore"} 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
