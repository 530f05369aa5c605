package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// TestDiscoveryURLsCannotReachPrivateNetworks: with the default policy, an
// inbound authorizer or credential provider pointing at a loopback
// address is refused at connect time with an error naming the switch, and
// nothing is vended.
func TestDiscoveryURLsCannotReachPrivateNetworks(t *testing.T) {
	idp := oidctest.Start(t, oidctest.Options{})
	env := servertest.Start(t, servertest.Options{Configure: func(c *config.Config) { c.AllowPrivateNetwork = false }})
	ctx := servertest.Context(t)
	c, d := env.Control(), env.Data()

	body, _ := json.Marshal(map[string]any{
		"name": "guarded-agent",
		"authorizerConfiguration": map[string]any{"customJWTAuthorizer": map[string]any{
			"discoveryUrl": idp.DiscoveryURL(), "allowedClients": []string{"x"}}},
	})
	if status, _, we := do(t, signedRequest(t, env, http.MethodPost, "/identities/CreateWorkloadIdentity", "application/json", body, time.Now())); status != http.StatusCreated {
		t.Fatalf("create: %d %+v", status, we)
	}
	token := idp.SignRaw(idp.AccessTokenClaims("x", "", "openid"), oidctest.SignOptions{})
	env.Unchanged(t, func() {
		_, err := d.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{
			WorkloadName: aws.String("guarded-agent"), UserToken: aws.String(token)})
		var ad *dptypes.AccessDeniedException
		if !errors.As(err, &ad) || !strings.Contains(aws.ToString(ad.Message), "allow-private-network") {
			t.Fatalf("inbound discovery on loopback: want AccessDenied naming --allow-private-network, got %v", err)
		}
	})
	if idp.DiscoveryCalls() != 0 {
		t.Fatalf("the provider was contacted %d times", idp.DiscoveryCalls())
	}

	if _, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String("loopback-idp"), CredentialProviderVendor: "CustomOauth2",
		Oauth2ProviderConfigInput: customDiscovery(idp.DiscoveryURL(), "cid", "secret"),
	}); err != nil {
		t.Fatal(err)
	}
	wat, err := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("guarded-agent")})
	if err != nil {
		t.Fatal(err)
	}
	env.Unchanged(t, func() {
		out, err := d.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{
			WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("loopback-idp"),
			Scopes: []string{"read"}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m})
		if out != nil && out.AccessToken != nil {
			t.Fatalf("M2M against a loopback provider vended %+v", out)
		}
		// The refusal happens at connect time inside the token request,
		// so the caller sees the provider as unreachable.
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalServerException" || !strings.Contains(ae.ErrorMessage(), "could not be reached") {
			t.Fatalf("M2M against a loopback provider: want the provider reported unreachable, got %v", err)
		}
	})
	if idp.DiscoveryCalls() != 0 || idp.TokenCalls(oidctest.GrantClientCredentials) != 0 {
		t.Fatal("the provider was contacted")
	}
}
