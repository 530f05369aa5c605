package inbound_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

func ptr(s string) *string { return &s }

func TestConfigValidate(t *testing.T) {
	const prefix = "authorizerConfiguration.customJWTAuthorizer"
	good := func() inbound.JWTAuthorizerConfig {
		return inbound.JWTAuthorizerConfig{
			DiscoveryURL:   "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/openid-configuration",
			AllowedClients: []string{"client-1"},
			AllowedScopes:  []string{"agent/invoke"},
			CustomClaims: []inbound.CustomClaim{{
				InboundTokenClaimName: "groups", InboundTokenClaimValueType: "STRING_ARRAY",
				AuthorizingClaimMatchValue: inbound.ClaimMatch{ClaimMatchOperator: "CONTAINS_ANY",
					ClaimMatchValue: inbound.ClaimMatchValue{MatchValueStringList: []string{"admins", "ops"}}},
			}},
		}
	}
	tests := []struct {
		name   string
		mod    func(*inbound.JWTAuthorizerConfig)
		fields []string // failing members, without the prefix
	}{
		{name: "ok/full", mod: func(*inbound.JWTAuthorizerConfig) {}},
		{name: "ok/only discovery url", mod: func(c *inbound.JWTAuthorizerConfig) { *c = inbound.JWTAuthorizerConfig{DiscoveryURL: c.DiscoveryURL} }},
		{name: "ok/http discovery", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.DiscoveryURL = "http://127.0.0.1:8080/realms/x/.well-known/openid-configuration"
		}},
		{name: "ok/STRING EQUALS", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].InboundTokenClaimValueType = "STRING"
			c.CustomClaims[0].AuthorizingClaimMatchValue = inbound.ClaimMatch{ClaimMatchOperator: "EQUALS",
				ClaimMatchValue: inbound.ClaimMatchValue{MatchValueString: ptr("gold")}}
		}},
		{name: "fail/missing discovery url", mod: func(c *inbound.JWTAuthorizerConfig) { c.DiscoveryURL = "" }, fields: []string{"discoveryUrl"}},
		{name: "fail/discovery url without well-known suffix", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.DiscoveryURL = "https://idp.example/.well-known/oauth-authorization-server"
		}, fields: []string{"discoveryUrl"}},
		{name: "fail/discovery url not http", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.DiscoveryURL = "file:///etc/.well-known/openid-configuration"
		}, fields: []string{"discoveryUrl"}},
		{name: "fail/empty lists", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.AllowedAudience, c.AllowedClients, c.AllowedScopes, c.CustomClaims = []string{}, []string{}, []string{}, []inbound.CustomClaim{}
		}, fields: []string{"allowedAudience", "allowedClients", "allowedScopes", "customClaims"}},
		{name: "fail/bad scope and empty client", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.AllowedScopes = []string{"ok", `bad"quote`}
			c.AllowedClients = []string{""}
		}, fields: []string{"allowedClients.1", "allowedScopes.2"}},
		{name: "fail/too many audiences", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.AllowedAudience = make([]string, inbound.MaxListItems+1)
		}, fields: []string{"allowedAudience"}},
		{name: "fail/claim name and value pattern", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].InboundTokenClaimName = "cognito:groups"
			c.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchValue.MatchValueStringList = []string{"a b"}
		}, fields: []string{"customClaims.1.inboundTokenClaimName", "customClaims.1.authorizingClaimMatchValue.claimMatchValue.matchValueStringList.1"}},
		{name: "fail/enums", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].InboundTokenClaimValueType = "NUMBER"
			c.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchOperator = "LIKE"
		}, fields: []string{"customClaims.1.inboundTokenClaimValueType", "customClaims.1.authorizingClaimMatchValue.claimMatchOperator"}},
		{name: "fail/both match values", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchValue.MatchValueString = ptr("x")
		}, fields: []string{"customClaims.1.authorizingClaimMatchValue.claimMatchValue"}},
		{name: "fail/STRING with CONTAINS", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].InboundTokenClaimValueType = "STRING"
			c.CustomClaims[0].AuthorizingClaimMatchValue = inbound.ClaimMatch{ClaimMatchOperator: "CONTAINS",
				ClaimMatchValue: inbound.ClaimMatchValue{MatchValueString: ptr("x")}}
		}, fields: []string{"customClaims.1.authorizingClaimMatchValue.claimMatchOperator"}},
		{name: "fail/CONTAINS_ANY with one string", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchValue = inbound.ClaimMatchValue{MatchValueString: ptr("x")}
		}, fields: []string{"customClaims.1.authorizingClaimMatchValue.claimMatchValue.matchValueStringList"}},
		{name: "fail/CONTAINS with a list", mod: func(c *inbound.JWTAuthorizerConfig) {
			c.CustomClaims[0].AuthorizingClaimMatchValue.ClaimMatchOperator = "CONTAINS"
		}, fields: []string{"customClaims.1.authorizingClaimMatchValue.claimMatchValue.matchValueString"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.mod(&cfg)
			var v validate.Errors
			cfg.Validate(&v, prefix)
			err := v.Err()
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var ae *awserr.Error
			if !errors.As(err, &ae) || ae.Code != awserr.CodeValidation {
				t.Fatalf("err = %v, want a ValidationException", err)
			}
			var got []string
			for _, f := range ae.Fields {
				got = append(got, strings.TrimPrefix(f.Name, prefix+"."))
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("failing fields = %v, want %v (%s)", got, tc.fields, ae.Message)
			}
		})
	}
}
