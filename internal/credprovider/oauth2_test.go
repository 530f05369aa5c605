package credprovider_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	cp "github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/store"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func client(id, secret string) cp.ClientConfigInput {
	c := cp.ClientConfigInput{ClientID: ptr(id)}
	if secret != "" {
		c.ClientSecret = ptr(secret)
	}
	return c
}

func TestOAuth2RoundTrip(t *testing.T) {
	customMeta := &cp.AuthServerMetadata{
		Issuer:                   "https://idp.example.com",
		AuthorizationEndpoint:    "https://idp.example.com/authorize",
		TokenEndpoint:            "https://idp.example.com/token",
		ResponseTypes:            []string{"code"},
		TokenEndpointAuthMethods: []string{"client_secret_post"},
	}
	cases := []struct {
		name   string
		vendor string
		// in builds the config; secret "" leaves clientSecret out.
		in            func(id, secret string) cp.OAuth2ConfigInput
		member        string
		endpoints     cp.Endpoints
		discoveryURL  string
		authMethod    string
		wantMetaExact *cp.AuthServerMetadata
	}{
		{
			name: "ok/custom-discovery-url", vendor: "CustomOauth2", member: cp.MemberCustom,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Custom: &cp.CustomConfigInput{ClientConfigInput: client(id, s),
					OAuthDiscovery: &cp.DiscoveryInput{DiscoveryURL: ptr("https://idp.example.com/.well-known/openid-configuration")}}}
			},
			discoveryURL: "https://idp.example.com/.well-known/openid-configuration",
		},
		{
			name: "ok/custom-metadata", vendor: "CustomOauth2", member: cp.MemberCustom,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Custom: &cp.CustomConfigInput{ClientConfigInput: client(id, s),
					OAuthDiscovery: &cp.DiscoveryInput{AuthorizationServerMetadata: customMeta}}}
			},
			endpoints:     cp.Endpoints{Issuer: "https://idp.example.com", AuthorizationEndpoint: "https://idp.example.com/authorize", TokenEndpoint: "https://idp.example.com/token"},
			authMethod:    cp.AuthClientSecretPost,
			wantMetaExact: customMeta,
		},
		{
			name: "ok/custom-explicit-method-and-on-behalf-of", vendor: "CustomOauth2", member: cp.MemberCustom,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Custom: &cp.CustomConfigInput{ClientConfigInput: client(id, s),
					OAuthDiscovery:             &cp.DiscoveryInput{DiscoveryURL: ptr("http://localhost:9000/.well-known/oauth-authorization-server")},
					ClientAuthenticationMethod: ptr("CLIENT_SECRET_BASIC"),
					OnBehalfOfTokenExchangeConfig: &cp.OnBehalfOfTokenExchangeConfig{GrantType: "TOKEN_EXCHANGE",
						TokenExchangeGrantTypeConfig: &cp.TokenExchangeGrantTypeConfig{ActorTokenContent: "M2M", ActorTokenScopes: []string{"a"}}},
				}}
			},
			discoveryURL: "http://localhost:9000/.well-known/oauth-authorization-server",
			authMethod:   cp.AuthClientSecretBasic,
		},
		{
			name: "ok/google", vendor: "GoogleOauth2", member: cp.MemberGoogle,
			in: func(id, s string) cp.OAuth2ConfigInput {
				c := client(id, s)
				return cp.OAuth2ConfigInput{Google: &c}
			},
			endpoints:  cp.Endpoints{Issuer: "https://accounts.google.com", AuthorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth", TokenEndpoint: "https://oauth2.googleapis.com/token"},
			authMethod: cp.AuthClientSecretPost,
		},
		{
			name: "ok/github", vendor: "GithubOauth2", member: cp.MemberGithub,
			in: func(id, s string) cp.OAuth2ConfigInput {
				c := client(id, s)
				return cp.OAuth2ConfigInput{Github: &c}
			},
			endpoints:  cp.Endpoints{Issuer: "https://github.com", AuthorizationEndpoint: "https://github.com/login/oauth/authorize", TokenEndpoint: "https://github.com/login/oauth/access_token"},
			authMethod: cp.AuthClientSecretPost,
		},
		{
			name: "ok/microsoft-tenant", vendor: "MicrosoftOauth2", member: cp.MemberMicrosoft,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Microsoft: &cp.MicrosoftConfigInput{ClientConfigInput: client(id, s), TenantID: ptr("contoso.onmicrosoft.com")}}
			},
			endpoints: cp.Endpoints{
				Issuer:                "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
				AuthorizationEndpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
				TokenEndpoint:         "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
			},
			authMethod: cp.AuthClientSecretPost,
		},
		{
			name: "ok/microsoft-default-tenant", vendor: "MicrosoftOauth2", member: cp.MemberMicrosoft,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Microsoft: &cp.MicrosoftConfigInput{ClientConfigInput: client(id, s)}}
			},
			endpoints: cp.Endpoints{
				Issuer:                "https://login.microsoftonline.com/common/v2.0",
				AuthorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
				TokenEndpoint:         "https://login.microsoftonline.com/common/oauth2/v2.0/token",
			},
			authMethod: cp.AuthClientSecretPost,
		},
		{
			name: "ok/okta-tenant-endpoints", vendor: "OktaOauth2", member: cp.MemberIncluded,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Included: &cp.IncludedConfigInput{ClientConfigInput: client(id, s),
					Issuer:                ptr("https://dev-1.okta.com/oauth2/default"),
					AuthorizationEndpoint: ptr("https://dev-1.okta.com/oauth2/default/v1/authorize"),
					TokenEndpoint:         ptr("https://dev-1.okta.com/oauth2/default/v1/token")}}
			},
			endpoints:  cp.Endpoints{Issuer: "https://dev-1.okta.com/oauth2/default", AuthorizationEndpoint: "https://dev-1.okta.com/oauth2/default/v1/authorize", TokenEndpoint: "https://dev-1.okta.com/oauth2/default/v1/token"},
			authMethod: cp.AuthClientSecretBasic,
		},
		{
			name: "ok/dropbox-catalog-endpoints", vendor: "DropboxOauth2", member: cp.MemberIncluded,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Included: &cp.IncludedConfigInput{ClientConfigInput: client(id, s)}}
			},
			endpoints:  cp.Endpoints{Issuer: "https://www.dropbox.com", AuthorizationEndpoint: "https://www.dropbox.com/oauth2/authorize", TokenEndpoint: "https://api.dropboxapi.com/oauth2/token"},
			authMethod: cp.AuthClientSecretPost,
		},
		{
			name: "ok/yandex-token-endpoint-override", vendor: "YandexOauth2", member: cp.MemberIncluded,
			in: func(id, s string) cp.OAuth2ConfigInput {
				return cp.OAuth2ConfigInput{Included: &cp.IncludedConfigInput{ClientConfigInput: client(id, s), TokenEndpoint: ptr("https://oauth.yandex.ru/token")}}
			},
			endpoints:  cp.Endpoints{Issuer: "https://oauth.yandex.com", AuthorizationEndpoint: "https://oauth.yandex.com/authorize", TokenEndpoint: "https://oauth.yandex.ru/token"},
			authMethod: cp.AuthClientSecretPost,
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, cp.Config{})
			name := fmt.Sprintf("prov-%d", i)
			secret1, secret2 := "first-S3CRET-"+name, "second-S3CRET-"+name

			created, err := e.svc.CreateOAuth2(ctx, acct, name, tc.vendor, tc.in("client-1", secret1), map[string]string{"team": "a"})
			if err != nil {
				t.Fatal(err)
			}
			checkProvider(t, created, name, tc.vendor, tc.member, "client-1")
			if created.Endpoints != tc.endpoints {
				t.Errorf("endpoints = %+v, want %+v", created.Endpoints, tc.endpoints)
			}
			if created.DiscoveryURL != tc.discoveryURL {
				t.Errorf("discoveryURL = %q, want %q", created.DiscoveryURL, tc.discoveryURL)
			}
			if created.TokenAuthMethod != tc.authMethod {
				t.Errorf("token auth method = %q, want %q", created.TokenAuthMethod, tc.authMethod)
			}
			switch {
			case tc.discoveryURL != "":
				if created.Metadata != nil {
					t.Errorf("metadata = %+v, want none for a discovery URL", created.Metadata)
				}
			case tc.wantMetaExact != nil:
				if !reflect.DeepEqual(*created.Metadata, *tc.wantMetaExact) {
					t.Errorf("metadata = %+v, want %+v", *created.Metadata, *tc.wantMetaExact)
				}
			default:
				m := created.Metadata
				if m == nil || m.Issuer != tc.endpoints.Issuer || m.AuthorizationEndpoint != tc.endpoints.AuthorizationEndpoint || m.TokenEndpoint != tc.endpoints.TokenEndpoint {
					t.Errorf("metadata = %+v, want the effective endpoints %+v", m, tc.endpoints)
				}
			}
			assertNotStored(t, e.st, cp.OAuth2Kind, acct, name, secret1)

			got, err := e.svc.GetOAuth2(ctx, acct, name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, created) {
				t.Errorf("get = %+v\nwant %+v", got, created)
			}

			resolved, err := e.svc.ResolveOAuth2(ctx, acct, name)
			if err != nil {
				t.Fatal(err)
			}
			if resolved.ClientSecret.Reveal() != secret1 {
				t.Errorf("resolved secret = %q, want the created one", resolved.ClientSecret.Reveal())
			}
			if resolved.Endpoints != tc.endpoints {
				t.Errorf("resolved endpoints = %+v, want %+v", resolved.Endpoints, tc.endpoints)
			}
			var logged strings.Builder
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("resolved", "provider", resolved, "secret", resolved.ClientSecret)
			assertNoSecret(t, secret1, created, got, resolved, logged.String())

			// Update without a secret: config replaced, secret kept.
			updated, err := e.svc.UpdateOAuth2(ctx, acct, name, tc.vendor, tc.in("client-2", ""))
			if err != nil {
				t.Fatal(err)
			}
			checkProvider(t, updated, name, tc.vendor, tc.member, "client-2")
			if updated.CallbackID != created.CallbackID || updated.SecretARN != created.SecretARN {
				t.Errorf("update changed callback id or secret ARN: %q/%q -> %q/%q", created.CallbackID, created.SecretARN, updated.CallbackID, updated.SecretARN)
			}
			if !updated.CreatedAt.Equal(created.CreatedAt) || !updated.UpdatedAt.After(created.UpdatedAt) {
				t.Errorf("times after update: created %v->%v, updated %v->%v", created.CreatedAt, updated.CreatedAt, created.UpdatedAt, updated.UpdatedAt)
			}
			if r, err := e.svc.ResolveOAuth2(ctx, acct, name); err != nil || r.ClientSecret.Reveal() != secret1 {
				t.Fatalf("after update without secret: secret kept = %v, err %v", r.ClientSecret.Reveal() == secret1, err)
			}

			// Update with a secret replaces it.
			if _, err := e.svc.UpdateOAuth2(ctx, acct, name, tc.vendor, tc.in("client-2", secret2)); err != nil {
				t.Fatal(err)
			}
			if r, err := e.svc.ResolveOAuth2(ctx, acct, name); err != nil || r.ClientSecret.Reveal() != secret2 {
				t.Fatalf("after update with secret: replaced = %v, err %v", r.ClientSecret.Reveal() == secret2, err)
			}
			assertNotStored(t, e.st, cp.OAuth2Kind, acct, name, secret2)

			tags, err := e.tags.List(ctx, acct, created.ARN)
			if err != nil || tags["team"] != "a" {
				t.Fatalf("tags = %v, %v; want team=a", tags, err)
			}

			if err := e.svc.DeleteOAuth2(ctx, acct, name); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.GetOAuth2(ctx, acct, name)
			wantCode(t, err, awserr.CodeResourceNotFound)
			_, err = e.svc.ResolveOAuth2(ctx, acct, name)
			wantCode(t, err, awserr.CodeResourceNotFound)
			wantCode(t, e.svc.DeleteOAuth2(ctx, acct, name), awserr.CodeResourceNotFound)
			_, err = e.tags.List(ctx, acct, created.ARN)
			wantCode(t, err, awserr.CodeResourceNotFound)
			if _, err := e.st.Get(ctx, "tags", acct, created.ARN); err == nil {
				t.Error("tags record survived the delete")
			}
		})
	}
}

func checkProvider(t *testing.T, p cp.OAuth2Provider, name, vendor, member, clientID string) {
	t.Helper()
	if p.Name != name || p.Vendor != vendor || p.ClientID != clientID || p.Status != cp.StatusReady {
		t.Errorf("provider = %q/%q/%q/%q, want %q/%q/%q/READY", p.Name, p.Vendor, p.ClientID, p.Status, name, vendor, clientID)
	}
	if p.ARN != arn.OAuth2Provider(region, acct, name) {
		t.Errorf("ARN = %q", p.ARN)
	}
	if p.VendorInfo.Name != vendor || p.VendorInfo.ConfigMember != member {
		t.Errorf("vendor info = %q/%q, want %q/%q", p.VendorInfo.Name, p.VendorInfo.ConfigMember, vendor, member)
	}
	secretRE := regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:bedrock-agentcore-identity!default/oauth2/` + regexp.QuoteMeta(name) + `-[A-Za-z0-9]{6}$`)
	if !secretRE.MatchString(p.SecretARN) {
		t.Errorf("secret ARN = %q", p.SecretARN)
	}
	if !uuidRE.MatchString(p.CallbackID) || p.CallbackURL != baseURL+"/identities/oauth2/callback/"+p.CallbackID {
		t.Errorf("callback = %q / %q", p.CallbackID, p.CallbackURL)
	}
	if p.ClientSecret.Reveal() != "" {
		t.Error("client secret set outside ResolveOAuth2")
	}
	if p.CreatedAt.IsZero() || p.UpdatedAt.IsZero() {
		t.Error("zero timestamps")
	}
}

func TestCreateOAuth2Invalid(t *testing.T) {
	google := func(c cp.ClientConfigInput) cp.OAuth2ConfigInput { return cp.OAuth2ConfigInput{Google: &c} }
	custom := func(c cp.CustomConfigInput) cp.OAuth2ConfigInput {
		if c.ClientID == nil {
			c.ClientConfigInput = client("id", "secret")
		}
		return cp.OAuth2ConfigInput{Custom: &c}
	}
	okta := func(in cp.IncludedConfigInput) cp.OAuth2ConfigInput {
		in.ClientConfigInput = client("id", "secret")
		return cp.OAuth2ConfigInput{Included: &in}
	}
	disc := func(u string) *cp.DiscoveryInput { return &cp.DiscoveryInput{DiscoveryURL: ptr(u)} }
	good := client("id", "secret")
	const (
		g  = "oauth2ProviderConfigInput.googleOauth2ProviderConfig."
		c  = "oauth2ProviderConfigInput.customOauth2ProviderConfig."
		in = "oauth2ProviderConfigInput.includedOauth2ProviderConfig."
	)
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprint("k", i)] = "v"
	}
	cases := []struct {
		name, provider, vendor string
		in                     cp.OAuth2ConfigInput
		tags                   map[string]string
		fields                 []string
	}{
		{name: "fail/bad-name", provider: "bad name!", vendor: "GoogleOauth2", in: google(good), fields: []string{"name"}},
		{name: "fail/empty-name", provider: "", vendor: "GoogleOauth2", in: google(good), fields: []string{"name"}},
		{name: "fail/long-name", provider: strings.Repeat("a", 129), vendor: "GoogleOauth2", in: google(good), fields: []string{"name"}},
		{name: "fail/unknown-vendor", vendor: "FooOauth2", in: google(good), fields: []string{"credentialProviderVendor"}},
		{name: "fail/no-member", vendor: "GoogleOauth2", in: cp.OAuth2ConfigInput{}, fields: []string{"oauth2ProviderConfigInput"}},
		{name: "fail/two-members", vendor: "GoogleOauth2", in: cp.OAuth2ConfigInput{Google: &good, Github: &good}, fields: []string{"oauth2ProviderConfigInput"}},
		{name: "fail/vendor-member-mismatch", vendor: "GoogleOauth2", in: cp.OAuth2ConfigInput{Github: &good}, fields: []string{"oauth2ProviderConfigInput"}},
		{name: "fail/included-member-for-google", vendor: "GoogleOauth2", in: okta(cp.IncludedConfigInput{}), fields: []string{"oauth2ProviderConfigInput"}},
		{name: "fail/google-member-for-dropbox", vendor: "DropboxOauth2", in: google(good), fields: []string{"oauth2ProviderConfigInput"}},
		{name: "fail/missing-client-id", vendor: "GoogleOauth2", in: google(cp.ClientConfigInput{ClientSecret: ptr("s")}), fields: []string{g + "clientId"}},
		{name: "fail/empty-client-id", vendor: "GoogleOauth2", in: google(client("", "s")), fields: []string{g + "clientId"}},
		{name: "fail/long-client-id", vendor: "GoogleOauth2", in: google(client(strings.Repeat("x", 257), "s")), fields: []string{g + "clientId"}},
		{name: "fail/missing-client-secret", vendor: "GoogleOauth2", in: google(client("id", "")), fields: []string{g + "clientSecret"}},
		{name: "fail/long-client-secret", vendor: "GoogleOauth2", in: google(client("id", strings.Repeat("s", 2049))), fields: []string{g + "clientSecret"}},
		{name: "fail/external-secret-source", vendor: "GoogleOauth2",
			in: google(cp.ClientConfigInput{ClientID: ptr("id"), ClientSecret: ptr("s"), ClientSecretSource: ptr("EXTERNAL")}), fields: []string{g + "clientSecretSource"}},
		{name: "fail/secret-config", vendor: "GoogleOauth2",
			in: google(cp.ClientConfigInput{ClientID: ptr("id"), ClientSecret: ptr("s"), ClientSecretConfig: &cp.SecretReference{SecretID: ptr("x"), JSONKey: ptr("k")}}), fields: []string{g + "clientSecretConfig"}},
		{name: "fail/bad-discovery-url", vendor: "CustomOauth2", in: custom(cp.CustomConfigInput{OAuthDiscovery: disc("https://idp.example.com/oidc")}), fields: []string{c + "oauthDiscovery.discoveryUrl"}},
		{name: "fail/discovery-url-not-http", vendor: "CustomOauth2", in: custom(cp.CustomConfigInput{OAuthDiscovery: disc("ftp://idp.example.com/.well-known/openid-configuration")}), fields: []string{c + "oauthDiscovery.discoveryUrl"}},
		{name: "fail/missing-discovery", vendor: "CustomOauth2", in: custom(cp.CustomConfigInput{}), fields: []string{c + "oauthDiscovery"}},
		{name: "fail/both-discovery-members", vendor: "CustomOauth2",
			in: custom(cp.CustomConfigInput{OAuthDiscovery: &cp.DiscoveryInput{DiscoveryURL: ptr("https://a/.well-known/openid-configuration"),
				AuthorizationServerMetadata: &cp.AuthServerMetadata{Issuer: "https://a", AuthorizationEndpoint: "https://a/a", TokenEndpoint: "https://a/t"}}}),
			fields: []string{c + "oauthDiscovery"}},
		{name: "fail/metadata-missing-endpoints", vendor: "CustomOauth2",
			in:     custom(cp.CustomConfigInput{OAuthDiscovery: &cp.DiscoveryInput{AuthorizationServerMetadata: &cp.AuthServerMetadata{Issuer: "https://a"}}}),
			fields: []string{c + "oauthDiscovery.authorizationServerMetadata.authorizationEndpoint", c + "oauthDiscovery.authorizationServerMetadata.tokenEndpoint"}},
		{name: "fail/metadata-bad-auth-method", vendor: "CustomOauth2",
			in: custom(cp.CustomConfigInput{OAuthDiscovery: &cp.DiscoveryInput{AuthorizationServerMetadata: &cp.AuthServerMetadata{
				Issuer: "https://a", AuthorizationEndpoint: "https://a/a", TokenEndpoint: "https://a/t", TokenEndpointAuthMethods: []string{"private_key_jwt"}}}}),
			fields: []string{c + "oauthDiscovery.authorizationServerMetadata.tokenEndpointAuthMethods.1"}},
		{name: "fail/iam-client-auth", vendor: "CustomOauth2",
			in:     custom(cp.CustomConfigInput{OAuthDiscovery: disc("https://a/.well-known/openid-configuration"), ClientAuthenticationMethod: ptr("AWS_IAM_ID_TOKEN_JWT")}),
			fields: []string{c + "clientAuthenticationMethod"}},
		{name: "fail/unknown-client-auth", vendor: "CustomOauth2",
			in:     custom(cp.CustomConfigInput{OAuthDiscovery: disc("https://a/.well-known/openid-configuration"), ClientAuthenticationMethod: ptr("NONE")}),
			fields: []string{c + "clientAuthenticationMethod"}},
		{name: "fail/private-endpoint", vendor: "CustomOauth2",
			in:     custom(cp.CustomConfigInput{OAuthDiscovery: disc("https://a/.well-known/openid-configuration"), PrivateEndpoint: map[string]any{"managedVpcResource": map[string]any{}}}),
			fields: []string{c + "privateEndpoint"}},
		{name: "fail/on-behalf-of-bad-grant", vendor: "CustomOauth2",
			in: custom(cp.CustomConfigInput{OAuthDiscovery: disc("https://a/.well-known/openid-configuration"),
				OnBehalfOfTokenExchangeConfig: &cp.OnBehalfOfTokenExchangeConfig{GrantType: "PASSWORD"}}),
			fields: []string{c + "onBehalfOfTokenExchangeConfig.grantType"}},
		{name: "fail/okta-without-issuer", vendor: "OktaOauth2",
			in:     okta(cp.IncludedConfigInput{AuthorizationEndpoint: ptr("https://o.okta.com/a"), TokenEndpoint: ptr("https://o.okta.com/t")}),
			fields: []string{in + "issuer"}},
		{name: "fail/okta-without-endpoints", vendor: "OktaOauth2", in: okta(cp.IncludedConfigInput{}),
			fields: []string{in + "issuer", in + "authorizationEndpoint", in + "tokenEndpoint"}},
		{name: "fail/okta-bad-url", vendor: "OktaOauth2",
			in:     okta(cp.IncludedConfigInput{Issuer: ptr("not a url"), AuthorizationEndpoint: ptr("https://o.okta.com/a"), TokenEndpoint: ptr("/relative")}),
			fields: []string{in + "issuer", in + "tokenEndpoint"}},
		{name: "fail/bad-tenant", vendor: "MicrosoftOauth2",
			in:     cp.OAuth2ConfigInput{Microsoft: &cp.MicrosoftConfigInput{ClientConfigInput: good, TenantID: ptr("a/../b")}},
			fields: []string{"oauth2ProviderConfigInput.microsoftOauth2ProviderConfig.tenantId"}},
		{name: "fail/too-many-tags", vendor: "GoogleOauth2", in: google(good), tags: many, fields: []string{"tags"}},
		{name: "fail/every-member-named", provider: "bad name!", vendor: "GoogleOauth2", in: google(cp.ClientConfigInput{}),
			fields: []string{"name", g + "clientId", g + "clientSecret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, cp.Config{})
			name := tc.provider
			if name == "" && tc.name != "fail/empty-name" {
				name = "prov"
			}
			_, err := e.svc.CreateOAuth2(ctx, acct, name, tc.vendor, tc.in, tc.tags)
			wantFields(t, err, tc.fields...)
			if n, err := e.st.Count(ctx, cp.OAuth2Kind, acct); err != nil || n != 0 {
				t.Fatalf("records after a failed create = %d, %v", n, err)
			}
		})
	}
}

func TestOAuth2UpdateInvalidAndMissing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, cp.Config{})
	good := client("id", "secret")
	if _, err := e.svc.CreateOAuth2(ctx, acct, "p", "GoogleOauth2", cp.OAuth2ConfigInput{Google: &good}, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("fail/update-mismatch", func(t *testing.T) {
		_, err := e.svc.UpdateOAuth2(ctx, acct, "p", "SlackOauth2", cp.OAuth2ConfigInput{Google: &good})
		wantFields(t, err, "oauth2ProviderConfigInput")
	})
	t.Run("fail/update-missing", func(t *testing.T) {
		_, err := e.svc.UpdateOAuth2(ctx, acct, "nope", "GoogleOauth2", cp.OAuth2ConfigInput{Google: &good})
		wantCode(t, err, awserr.CodeResourceNotFound)
	})
	t.Run("ok/update-changes-vendor", func(t *testing.T) {
		p, err := e.svc.UpdateOAuth2(ctx, acct, "p", "SlackOauth2", cp.OAuth2ConfigInput{Slack: &good})
		if err != nil || p.Vendor != "SlackOauth2" || p.VendorInfo.ConfigMember != cp.MemberSlack || p.Endpoints.TokenEndpoint != "https://slack.com/api/oauth.v2.access" {
			t.Fatalf("update to Slack = %+v, %v", p, err)
		}
	})
	t.Run("fail/get-bad-name", func(t *testing.T) {
		_, err := e.svc.GetOAuth2(ctx, acct, "a b")
		wantFields(t, err, "name")
	})
	t.Run("fail/other-account", func(t *testing.T) {
		_, err := e.svc.GetOAuth2(ctx, otherAcc, "p")
		wantCode(t, err, awserr.CodeResourceNotFound)
	})
}

func TestOAuth2ConflictQuotaList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, cp.Config{MaxOAuth2: 3})
	good := client("id", "secret")
	in := cp.OAuth2ConfigInput{Google: &good}
	for _, n := range []string{"c", "a", "b"} {
		if _, err := e.svc.CreateOAuth2(ctx, acct, n, "GoogleOauth2", in, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("fail/duplicate", func(t *testing.T) {
		_, err := e.svc.CreateOAuth2(ctx, acct, "a", "GoogleOauth2", in, nil)
		wantCode(t, err, awserr.CodeConflict)
	})
	t.Run("fail/quota", func(t *testing.T) {
		_, err := e.svc.CreateOAuth2(ctx, acct, "d", "GoogleOauth2", in, nil)
		wantCode(t, err, awserr.CodeServiceQuota)
	})
	t.Run("ok/quota-is-per-account", func(t *testing.T) {
		if _, err := e.svc.CreateOAuth2(ctx, otherAcc, "d", "GoogleOauth2", in, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/list-pages-in-name-order", func(t *testing.T) {
		page1, next, err := e.svc.ListOAuth2(ctx, acct, 2, "")
		if err != nil || len(page1) != 2 || page1[0].Name != "a" || page1[1].Name != "b" || next == "" {
			t.Fatalf("page 1 = %v next %q err %v", names(page1), next, err)
		}
		page2, next2, err := e.svc.ListOAuth2(ctx, acct, 2, next)
		if err != nil || len(page2) != 1 || page2[0].Name != "c" || next2 != "" {
			t.Fatalf("page 2 = %v next %q err %v", names(page2), next2, err)
		}
		if page2[0].Vendor != "GoogleOauth2" || page2[0].CreatedAt.IsZero() {
			t.Errorf("list item = %+v", page2[0])
		}
	})
}

func names(ps []cp.OAuth2Provider) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// A sealed secret is bound to its record: copied under another name it
// must not open.
func TestOAuth2SecretBoundToRecord(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, cp.Config{})
	a, b := client("id", "secret-a"), client("id", "secret-b")
	for n, c := range map[string]cp.ClientConfigInput{"a": a, "b": b} {
		if _, err := e.svc.CreateOAuth2(ctx, acct, n, "GoogleOauth2", cp.OAuth2ConfigInput{Google: &c}, nil); err != nil {
			t.Fatal(err)
		}
	}
	recA, err := e.st.Get(ctx, cp.OAuth2Kind, acct, "a")
	if err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(string(recA.Data), `"name":"a"`, `"name":"b"`, 1)
	if _, err := e.st.Update(ctx, cp.OAuth2Kind, acct, "b", func(cur store.Record) (store.Record, error) {
		cur.Data = []byte(data)
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ResolveOAuth2(ctx, acct, "b")
	wantCode(t, err, awserr.CodeInternal)
}
