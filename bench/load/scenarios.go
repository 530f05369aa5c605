package main

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// Floors named by goals.
const (
	variantSeal   = "floor: seal.Seal of the same claims (in-process)"
	variantVerify = "floor: go-jose RS256 verify of the same token (in-process)"
	variantES384  = "floor: go-jose ES384 sign of the same claims (in-process)"
	variantAudit  = "component: audit.Trail.Append, one store transaction (in-process)"
)

// scenarios are the throughput scenarios, in report order.
func scenarios() []scenario {
	return []scenario{
		{key: "apikey", title: "GetResourceApiKey (cached vend)", prepare: prepareAPIKey,
			goal: &goal{name: "cached vend (GetResourceApiKey) vs bare HTTP", floor: variantBare, label: "bare net/http", min: 0.5}},
		{key: "m2m", title: "GetResourceOauth2Token M2M (cached vend)", prepare: prepareM2M,
			goal: &goal{name: "cached vend (GetResourceOauth2Token M2M) vs bare HTTP", floor: variantBare, label: "bare net/http", min: 0.5}},
		{key: "wat", title: "GetWorkloadAccessTokenForUserId (mint, sealed)", prepare: prepareForUserID},
		{key: "jwt", title: "GetWorkloadAccessTokenForJWT (verify + mint)", prepare: prepareForJWT},
		{key: "sts", title: "GetWebIdentityToken (STS, ES384)", prepare: prepareSTS,
			goal: &goal{name: "token minting (GetWebIdentityToken) vs raw ES384 signing", floor: variantES384, label: "raw go-jose ES384 signing", min: 0.8}},
	}
}

// workloadToken creates the workload identity every vend uses and returns
// a workload access token for it (the agent acting as itself).
func (s *site) workloadToken(ctx context.Context) (string, error) {
	if s.wat != "" {
		return s.wat, nil
	}
	name := "bench-agent-" + s.b.sfx
	if _, err := s.env.Control().CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String(name)}); err != nil {
		return "", fmt.Errorf("create workload identity: %w", err)
	}
	s.undo = append(s.undo, func(ctx context.Context) {
		_, _ = s.env.Control().DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String(name)})
	})
	req, err := s.dataRequest("/identities/GetWorkloadAccessToken", map[string]string{"workloadName": name})
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"workloadAccessToken"`
	}
	if err := s.call(ctx, req, &out); err != nil {
		return "", err
	}
	s.workload, s.wat = name, out.Token
	return s.wat, nil
}

func (s *site) apiKeyProviderName(ctx context.Context) (string, error) {
	if s.apiKeyProvider != "" {
		return s.apiKeyProvider, nil
	}
	name := "bench-api-" + s.b.sfx
	_, err := s.env.Control().CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
		Name: aws.String(name), ApiKey: aws.String("bench-api-key-0123456789abcdef"),
	})
	if err != nil {
		return "", fmt.Errorf("create API key provider: %w", err)
	}
	s.undo = append(s.undo, func(ctx context.Context) {
		_, _ = s.env.Control().DeleteApiKeyCredentialProvider(ctx, &cp.DeleteApiKeyCredentialProviderInput{Name: aws.String(name)})
	})
	s.apiKeyProvider = name
	return name, nil
}

// m2mProviderName creates an OAuth2 provider whose authorization server
// is the in-process OpenID provider (client credentials grant).
func (s *site) m2mProviderName(ctx context.Context, idp *identityProvider) (string, error) {
	if s.m2mProvider != "" {
		return s.m2mProvider, nil
	}
	name := "bench-m2m-" + s.b.sfx
	_, err := s.env.Control().CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String(name), CredentialProviderVendor: cptypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &cptypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: cptypes.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &cptypes.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL()},
			ClientId:       aws.String(idpClient), ClientSecret: aws.String(idpSecret),
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create OAuth2 provider: %w", err)
	}
	s.undo = append(s.undo, func(ctx context.Context) {
		_, _ = s.env.Control().DeleteOauth2CredentialProvider(ctx, &cp.DeleteOauth2CredentialProviderInput{Name: aws.String(name)})
	})
	s.m2mProvider = name
	return name, nil
}

// apiKeyRequest is a GetResourceApiKey call with a valid token.
func (s *site) apiKeyRequest(ctx context.Context) (*loadgen.Request, error) {
	wat, err := s.workloadToken(ctx)
	if err != nil {
		return nil, err
	}
	prov, err := s.apiKeyProviderName(ctx)
	if err != nil {
		return nil, err
	}
	return s.dataRequest("/identities/api-key", map[string]string{"workloadIdentityToken": wat, "resourceCredentialProviderName": prov})
}

func prepareAPIKey(ctx context.Context, s *site) (*plan, error) {
	req, err := s.apiKeyRequest(ctx)
	if err != nil {
		return nil, err
	}
	sample, err := s.probe(ctx, req)
	if err != nil {
		return nil, err
	}
	p := &plan{req: req, sample: sample}
	if s.env.Store != nil {
		p.floors = append(p.floors, floor{variantAudit, auditFloor(s.env.Store, s.env.Account, s.workload, s.apiKeyProvider), false})
	}
	return p, nil
}

// m2mRequest is a GetResourceOauth2Token M2M call whose token is cached:
// it has been sent twice and the authorization server was asked once.
func (s *site) m2mRequest(ctx context.Context) (*loadgen.Request, loadgen.Response, error) {
	idp, err := s.b.identityProvider()
	if err != nil {
		return nil, loadgen.Response{}, err
	}
	wat, err := s.workloadToken(ctx)
	if err != nil {
		return nil, loadgen.Response{}, err
	}
	prov, err := s.m2mProviderName(ctx, idp)
	if err != nil {
		return nil, loadgen.Response{}, err
	}
	req, err := s.dataRequest("/identities/oauth2/token", map[string]any{"workloadIdentityToken": wat,
		"resourceCredentialProviderName": prov, "scopes": []string{idpScope}, "oauth2Flow": "M2M"})
	if err != nil {
		return nil, loadgen.Response{}, err
	}
	before := idp.TokenCalls(oidctest.GrantClientCredentials)
	var sample loadgen.Response
	for range 2 {
		if sample, err = s.probe(ctx, req); err != nil {
			return nil, loadgen.Response{}, err
		}
	}
	if n := idp.TokenCalls(oidctest.GrantClientCredentials) - before; n != 1 {
		return nil, loadgen.Response{}, fmt.Errorf("two M2M calls made %d client-credentials grants, want 1: the token is not cached", n)
	}
	return req, sample, nil
}

func prepareM2M(ctx context.Context, s *site) (*plan, error) {
	req, sample, err := s.m2mRequest(ctx)
	if err != nil {
		return nil, err
	}
	return &plan{req: req, sample: sample}, nil
}

const benchUser = "bench-user@example.com"

func prepareForUserID(ctx context.Context, s *site) (*plan, error) {
	if _, err := s.workloadToken(ctx); err != nil {
		return nil, err
	}
	req, err := s.dataRequest("/identities/GetWorkloadAccessTokenForUserId", map[string]string{"workloadName": s.workload, "userId": benchUser})
	if err != nil {
		return nil, err
	}
	sample, err := s.probe(ctx, req)
	if err != nil {
		return nil, err
	}
	sealOp, err := sealFloor(s.env.Account, s.workload, benchUser)
	if err != nil {
		return nil, err
	}
	return &plan{req: req, sample: sample, floors: []floor{{variantSeal, sealOp, true}}}, nil
}

// prepareForJWT creates a workload whose inbound authorizer trusts the
// in-process OpenID provider, through the control plane's extension member
// authorizerConfiguration (on create, else on update).
func prepareForJWT(ctx context.Context, s *site) (*plan, error) {
	idp, err := s.b.identityProvider()
	if err != nil {
		return nil, err
	}
	name := "bench-jwt-" + s.b.sfx
	authorizer := map[string]any{"customJWTAuthorizer": map[string]any{
		"discoveryUrl": idp.DiscoveryURL(), "allowedClients": []string{idpClient}}}
	create, err := s.dataRequest("/identities/CreateWorkloadIdentity", map[string]any{"name": name, "authorizerConfiguration": authorizer})
	if err != nil {
		return nil, err
	}
	if err := s.call(ctx, create, nil); err != nil {
		return nil, fmt.Errorf("create workload identity with authorizer: %w", err)
	}
	s.undo = append(s.undo, func(ctx context.Context) {
		_, _ = s.env.Control().DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String(name)})
	})
	req, err := s.dataRequest("/identities/GetWorkloadAccessTokenForJWT", map[string]string{"workloadName": name, "userToken": idp.userToken})
	if err != nil {
		return nil, err
	}
	sample, err := s.probe(ctx, req)
	if err != nil && strings.Contains(err.Error(), "no inbound JWT authorizer") {
		update, uerr := s.dataRequest("/identities/UpdateWorkloadIdentity", map[string]any{"name": name, "authorizerConfiguration": authorizer})
		if uerr != nil {
			return nil, uerr
		}
		if uerr := s.call(ctx, update, nil); uerr != nil {
			return nil, fmt.Errorf("update workload identity with authorizer: %w", uerr)
		}
		if sample, err = s.probe(ctx, req); err != nil && strings.Contains(err.Error(), "no inbound JWT authorizer") {
			return nil, &naError{"not implemented yet: the control plane ignores authorizerConfiguration on workload identities"}
		}
	}
	if err != nil {
		return nil, err
	}
	verify, err := verifyFloor(ctx, idp.userToken, idp.Issuer(), idp.JWKSURL())
	if err != nil {
		return nil, err
	}
	return &plan{req: req, sample: sample, floors: []floor{{variantVerify, verify, true}}}, nil
}

// prepareSTS enables outbound web identity federation (IAM) and loads
// GetWebIdentityToken with ES384.
func prepareSTS(ctx context.Context, s *site) (*plan, error) {
	_, err := s.env.IAM().EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	var enabled *iamtypes.FeatureEnabledException
	if err != nil && !errors.As(err, &enabled) {
		for _, code := range notImplementedCodes {
			if strings.Contains(err.Error(), code) {
				return nil, &naError{"not implemented yet: " + code}
			}
		}
		return nil, fmt.Errorf("enable web identity federation: %w", err)
	}
	body := url.Values{
		"Action": {"GetWebIdentityToken"}, "Version": {"2011-06-15"},
		"Audience.member.1": {"https://api.example.com"}, "SigningAlgorithm": {"ES384"},
	}.Encode()
	req := loadgen.NewRequest(http.MethodPost, "/", "application/x-www-form-urlencoded; charset=utf-8", "sts", s.env.Region, []byte(body))
	sample, err := s.probe(ctx, req)
	if err != nil {
		return nil, err
	}
	var out struct {
		Token string `xml:"GetWebIdentityTokenResult>WebIdentityToken"`
	}
	if err := xml.Unmarshal(sample.Body, &out); err != nil {
		return nil, fmt.Errorf("decode GetWebIdentityToken response: %w", err)
	}
	parts := strings.Split(out.Token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("GetWebIdentityToken returned no JWT: %.200s", sample.Body)
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode web identity token claims: %w", err)
	}
	sign, err := es384Floor(claims)
	if err != nil {
		return nil, err
	}
	return &plan{req: req, sample: sample, floors: []floor{{variantES384, sign, true}}}, nil
}
