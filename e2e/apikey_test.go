package e2e

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

func TestWorkloadAccessTokensAndAPIKeys(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c, d := env.Control(), env.Data()

		for _, name := range []string{"weather-agent", "other-agent"} {
			if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
			Name: aws.String("weather-api"), ApiKey: aws.String("wx-key-123"),
		}); err != nil {
			t.Fatal(err)
		}

		self, err := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("weather-agent")})
		if err != nil {
			t.Fatalf("GetWorkloadAccessToken: %v", err)
		}
		forUser, err := d.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
			WorkloadName: aws.String("weather-agent"), UserId: aws.String("alice"),
		})
		if err != nil {
			t.Fatalf("ForUserId: %v", err)
		}
		if aws.ToString(self.WorkloadAccessToken) == aws.ToString(forUser.WorkloadAccessToken) {
			t.Fatal("two different tokens are identical")
		}
		for _, tok := range []*string{self.WorkloadAccessToken, forUser.WorkloadAccessToken} {
			out, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
				WorkloadIdentityToken: tok, ResourceCredentialProviderName: aws.String("weather-api"),
			})
			if err != nil {
				t.Fatalf("GetResourceApiKey: %v", err)
			}
			if aws.ToString(out.ApiKey) != "wx-key-123" {
				t.Fatalf("apiKey = %q", aws.ToString(out.ApiKey))
			}
		}

		var ad *dptypes.AccessDeniedException
		var ve *dptypes.ValidationException
		var nf *dptypes.ResourceNotFoundException
		cases := []struct {
			name  string
			token string
			prov  string
			want  any
		}{
			{"fail/garbage-token", "not-a-token", "weather-api", &ad},
			{"fail/tampered-token", aws.ToString(self.WorkloadAccessToken)[:40] + "xx" + aws.ToString(self.WorkloadAccessToken)[42:], "weather-api", &ad},
			{"fail/unknown-provider", aws.ToString(self.WorkloadAccessToken), "no-such-api", &nf},
			{"fail/bad-provider-name", aws.ToString(self.WorkloadAccessToken), "bad name", &ve},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
					WorkloadIdentityToken: aws.String(tc.token), ResourceCredentialProviderName: aws.String(tc.prov),
				})
				if !errors.As(err, tc.want) {
					t.Fatalf("got %v, want %T", err, tc.want)
				}
			})
		}

		_, err = d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("nobody-here")})
		if !errors.As(err, &nf) {
			t.Errorf("unknown workload: want ResourceNotFoundException, got %v", err)
		}
		_, err = d.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
			WorkloadName: aws.String("weather-agent"), UserToken: aws.String("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
		})
		if !errors.As(err, &ve) {
			t.Errorf("ForJWT on a workload without authorizer: want ValidationException, got %v", err)
		}

		// A token outlives nothing it was bound to: once its workload is
		// deleted it vends nothing.
		if _, err := c.DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String("weather-agent")}); err != nil {
			t.Fatal(err)
		}
		_, err = d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
			WorkloadIdentityToken: self.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("weather-api"),
		})
		if !errors.As(err, &ad) {
			t.Errorf("token of deleted workload: want AccessDeniedException, got %v", err)
		}
	})
}
