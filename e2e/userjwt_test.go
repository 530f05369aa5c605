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

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// TestWorkloadTokenForUserJWT covers GetWorkloadAccessTokenForJWT with a
// Cognito-style inbound authorizer, then a 3LO flow started from that
// token and bound with CompleteResourceTokenAuth{userToken}: only the exact
// token that minted the workload token completes the session.
func TestWorkloadTokenForUserJWT(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b, "dana")
		inbound := oidctest.Start(t, oidctest.Options{Style: oidctest.StyleCognito, IssuerPath: "/us-east-1_INBOUND",
			Users: []oidctest.User{{Username: "dana", Password: idpPassword}}})
		const runtimeClient = "runtime-client-7q2"

		// A workload whose inbound authorizer trusts the inbound pool's
		// client (Cognito access tokens have client_id and no aud).
		body, _ := json.Marshal(map[string]any{
			"name":                            "jwt-agent",
			"allowedResourceOauth2ReturnUrls": []string{x.returnTo},
			"authorizerConfiguration": map[string]any{"customJWTAuthorizer": map[string]any{
				"discoveryUrl":   inbound.DiscoveryURL(),
				"allowedClients": []string{runtimeClient},
			}},
		})
		status, _, we := do(t, signedRequest(t, x.env, http.MethodPost, "/identities/CreateWorkloadIdentity", "application/json", body, time.Now()))
		if status != http.StatusCreated {
			t.Fatalf("create workload with authorizer: %d %+v", status, we)
		}

		claims := func(edit func(map[string]any)) map[string]any {
			c := inbound.AccessTokenClaims(runtimeClient, "dana", "openid")
			if edit != nil {
				edit(c)
			}
			return c
		}
		userToken := inbound.SignRaw(claims(nil), oidctest.SignOptions{})
		// An attacker's own provider: tokens it signs point at its keys
		// through jku/x5u, which must never be fetched (RFC 8725 3.10).
		attacker := oidctest.Start(t, oidctest.Options{})
		pointAtAttacker := map[string]any{"jku": attacker.JWKSURL(), "x5u": attacker.Issuer() + "/cert.pem"}
		pathKID := "../../../../etc/passwd"
		cases := []struct {
			name  string
			token string
			ok    bool
		}{
			{"ok/cognito-access-token", userToken, true},
			{"fail/other-client", inbound.SignRaw(claims(func(c map[string]any) { c["client_id"] = "someone-else" }), oidctest.SignOptions{}), false},
			{"fail/expired", inbound.SignRaw(claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), oidctest.SignOptions{}), false},
			{"fail/wrong-issuer", inbound.SignRaw(claims(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), oidctest.SignOptions{}), false},
			// alg=none with a dummy signature segment, so that it passes the
			// wire pattern (an empty one is a ValidationException) and
			// reaches the authorizer.
			{"fail/alg-none", inbound.SignRaw(claims(nil), oidctest.SignOptions{Alg: "none"}) + "AAAA", false},
			{"fail/hs256-with-public-key", inbound.SignRaw(claims(nil), oidctest.SignOptions{Alg: "HS256", HMACKey: inbound.PublicKeyPEM()}), false},
			{"ok/jku-x5u-elsewhere-ignored", inbound.SignRaw(claims(nil), oidctest.SignOptions{Header: pointAtAttacker}), true},
			{"fail/attacker-key-via-jku-x5u", attacker.SignRaw(claims(nil), oidctest.SignOptions{Header: pointAtAttacker}), false},
			{"fail/kid-path-injection", inbound.SignRaw(claims(nil), oidctest.SignOptions{KID: &pathKID}), false},
			{"fail/nested-jwt", inbound.SignRaw(claims(nil), oidctest.SignOptions{Header: map[string]any{"cty": "JWT"}}), false},
			{"fail/crit-header", inbound.SignRaw(claims(nil), oidctest.SignOptions{Header: map[string]any{"crit": []string{"exp"}, "exp": 1}}), false},
			{"fail/oversized", inbound.SignRaw(claims(func(c map[string]any) { c["pad"] = strings.Repeat("a", 20<<10) }), oidctest.SignOptions{}), false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				call := func() (*dp.GetWorkloadAccessTokenForJWTOutput, error) {
					return x.d.GetWorkloadAccessTokenForJWT(x.ctx, &dp.GetWorkloadAccessTokenForJWTInput{
						WorkloadName: aws.String("jwt-agent"), UserToken: aws.String(tc.token)})
				}
				if tc.ok {
					if out, err := call(); err != nil || aws.ToString(out.WorkloadAccessToken) == "" {
						t.Fatalf("want a workload token, got %v", err)
					}
					return
				}
				// A refusal changes nothing in the store (the audit trail
				// records it on purpose).
				x.env.Unchanged(t, func() {
					_, err := call()
					var ad *dptypes.AccessDeniedException
					if !errors.As(err, &ad) || aws.ToString(ad.Message) == "" {
						t.Fatalf("want AccessDeniedException with a reason, got %v", err)
					}
				})
			})
		}
		if n := attacker.JWKSCalls() + attacker.DiscoveryCalls(); n != 0 {
			t.Errorf("jku/x5u were followed: the attacker's provider was contacted %d times", n)
		}

		if !strings.Contains(servertest.MetricsText(t, x.env.URL), `agentcore_jwks_fetches_total{outcome="success"}`) {
			t.Error("/metrics does not count the inbound JWKS fetch")
		}

		wat, err := x.d.GetWorkloadAccessTokenForJWT(x.ctx, &dp.GetWorkloadAccessTokenForJWTInput{
			WorkloadName: aws.String("jwt-agent"), UserToken: aws.String(userToken)})
		if err != nil {
			t.Fatal(err)
		}
		start, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(wat.WorkloadAccessToken))
		if err != nil || start.AuthorizationUrl == nil {
			t.Fatalf("start flow: %+v %v", start, err)
		}
		landed, _ := x.browse(aws.ToString(start.AuthorizationUrl), "dana")
		if landed.Query().Get("session_id") != aws.ToString(start.SessionUri) {
			t.Fatalf("landed on %s", landed)
		}
		// Another valid token of the same user is not the artifact that
		// started the flow: session binding refuses it.
		sameUserOtherToken := inbound.SignRaw(claims(func(c map[string]any) { c["jti"] = "another-token" }), oidctest.SignOptions{})
		_, err = x.d.CompleteResourceTokenAuth(x.ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: start.SessionUri,
			UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: sameUserOtherToken}})
		var ad *dptypes.AccessDeniedException
		if !errors.As(err, &ad) {
			t.Fatalf("complete with another token: want AccessDeniedException, got %v", err)
		}
		if _, err := x.d.CompleteResourceTokenAuth(x.ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: start.SessionUri,
			UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: userToken}}); err != nil {
			t.Fatalf("complete with the original token: %v", err)
		}
		out, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(wat.WorkloadAccessToken, withSessionURI(start.SessionUri)))
		if err != nil || out.AccessToken == nil {
			t.Fatalf("token after consent: %+v %v", out, err)
		}
		x.verify(aws.ToString(out.AccessToken), "sub-dana")
	})
}
