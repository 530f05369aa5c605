package credprovider_test

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	smithy "github.com/aws/smithy-go"

	cp "github.com/agentcore-identity/agentcore/internal/credprovider"
)

func TestCatalogCoversSDKVendors(t *testing.T) {
	sdk := types.CredentialProviderVendorType("").Values()
	if len(sdk) == 0 {
		t.Fatal("SDK lists no vendors")
	}
	var sdkNames []string
	for _, v := range sdk {
		sdkNames = append(sdkNames, string(v))
		t.Run("ok/"+string(v), func(t *testing.T) {
			info, ok := cp.Vendor(string(v))
			if !ok {
				t.Fatalf("no catalog entry for %s", v)
			}
			checkVendor(t, info)
		})
	}
	if got := cp.VendorNames(); !slices.Equal(got, sdkNames) {
		t.Errorf("catalog = %v\nSDK     = %v", got, sdkNames)
	}
	if _, ok := cp.Vendor("FooOauth2"); ok {
		t.Error("unknown vendor found")
	}
}

func checkVendor(t *testing.T, v cp.VendorInfo) {
	t.Helper()
	members := []string{cp.MemberCustom, cp.MemberGoogle, cp.MemberGithub, cp.MemberSlack, cp.MemberSalesforce,
		cp.MemberMicrosoft, cp.MemberAtlassian, cp.MemberLinkedin, cp.MemberIncluded}
	if !slices.Contains(members, v.ConfigMember) || v.DisplayName == "" {
		t.Errorf("config member %q, display name %q", v.ConfigMember, v.DisplayName)
	}
	switch {
	case v.Name == "CustomOauth2":
		if v.ConfigMember != cp.MemberCustom || v.TokenEndpoint != "" {
			t.Errorf("custom entry = %+v", v)
		}
	case v.TenantSpecific:
		if v.ConfigMember != cp.MemberIncluded || v.Issuer != "" || v.TokenEndpoint != "" || v.EndpointHint == "" {
			t.Errorf("tenant-specific entry = %+v", v)
		}
	default:
		for _, u := range []string{v.Issuer, v.AuthorizationEndpoint, v.TokenEndpoint} {
			u = strings.ReplaceAll(u, cp.TenantPlaceholder, "common")
			p, err := url.Parse(u)
			if err != nil || p.Scheme != "https" || p.Host == "" {
				t.Errorf("endpoint %q is not an https URL", u)
			}
		}
		if strings.Contains(v.TokenEndpoint, cp.TenantPlaceholder) != v.Quirks.TenantInURL {
			t.Errorf("TenantInURL quirk disagrees with endpoints")
		}
	}
	if v.Name != "CustomOauth2" && v.TokenAuthMethod != cp.AuthClientSecretBasic && v.TokenAuthMethod != cp.AuthClientSecretPost {
		t.Errorf("token auth method = %q", v.TokenAuthMethod)
	}
}

func TestCatalogIsReadOnly(t *testing.T) {
	g, _ := cp.Vendor("GoogleOauth2")
	g.DefaultScopes[0] = "mutated"
	g.Quirks.ExtraAuthParams["access_type"] = "mutated"
	again, _ := cp.Vendor("GoogleOauth2")
	if again.DefaultScopes[0] == "mutated" || again.Quirks.ExtraAuthParams["access_type"] == "mutated" {
		t.Fatal("a caller changed the catalog")
	}
	if len(cp.Vendors()) != len(cp.VendorNames()) {
		t.Fatal("Vendors and VendorNames disagree")
	}
}

// The input types must accept every member the SDK can send, so that
// nothing a client sets is silently dropped.
func TestInputTypesCoverSDKMembers(t *testing.T) {
	cases := []struct {
		name   string
		schema *smithy.Schema
		typ    any
	}{
		{"ok/config-union", schemas.Oauth2ProviderConfigInput, cp.OAuth2ConfigInput{}},
		{"ok/custom", schemas.CustomOauth2ProviderConfigInput, cp.CustomConfigInput{}},
		{"ok/google", schemas.GoogleOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/github", schemas.GithubOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/slack", schemas.SlackOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/salesforce", schemas.SalesforceOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/atlassian", schemas.AtlassianOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/linkedin", schemas.LinkedinOauth2ProviderConfigInput, cp.ClientConfigInput{}},
		{"ok/microsoft", schemas.MicrosoftOauth2ProviderConfigInput, cp.MicrosoftConfigInput{}},
		{"ok/included", schemas.IncludedOauth2ProviderConfigInput, cp.IncludedConfigInput{}},
		{"ok/discovery", schemas.Oauth2Discovery, cp.DiscoveryInput{}},
		{"ok/metadata", schemas.Oauth2AuthorizationServerMetadata, cp.AuthServerMetadata{}},
		{"ok/on-behalf-of", schemas.OnBehalfOfTokenExchangeConfigType, cp.OnBehalfOfTokenExchangeConfig{}},
		{"ok/token-exchange", schemas.TokenExchangeGrantTypeConfigType, cp.TokenExchangeGrantTypeConfig{}},
		{"ok/on-behalf-of-auth", schemas.OnBehalfOfAuthenticationConfig, cp.OnBehalfOfAuthenticationConfig{}},
		{"ok/secret-reference", schemas.SecretReference, cp.SecretReference{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for name := range tc.schema.Members() {
				want = append(want, name)
			}
			slices.Sort(want)
			got := jsonNames(reflect.TypeOf(tc.typ))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("JSON members = %v\nSDK members  = %v", got, want)
			}
		})
	}
}

// jsonNames lists the JSON member names of a struct, embedded structs
// flattened as encoding/json does.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
