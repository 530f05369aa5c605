package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

func customDiscovery(url, clientID, secret string) types.Oauth2ProviderConfigInput {
	return &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
		OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: url},
		ClientId:       aws.String(clientID),
		ClientSecret:   aws.String(secret),
	}}
}

func TestOAuth2CredentialProviders(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c := env.Control()

		cases := []struct {
			name   string
			vendor types.CredentialProviderVendorType
			config types.Oauth2ProviderConfigInput
		}{
			{"custom-discovery", types.CredentialProviderVendorTypeCustomOauth2,
				customDiscovery("https://idp.example.com/.well-known/openid-configuration", "client-a", "secret-a")},
			{"custom-metadata", types.CredentialProviderVendorTypeCustomOauth2,
				&types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
					OauthDiscovery: &types.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: types.Oauth2AuthorizationServerMetadata{
						Issuer:                aws.String("https://auth.internal.example.com"),
						AuthorizationEndpoint: aws.String("https://auth.internal.example.com/authorize"),
						TokenEndpoint:         aws.String("https://auth.internal.example.com/token"),
					}},
					ClientId: aws.String("client-b"), ClientSecret: aws.String("secret-b"),
				}}},
			{"github", types.CredentialProviderVendorTypeGithubOauth2,
				&types.Oauth2ProviderConfigInputMemberGithubOauth2ProviderConfig{Value: types.GithubOauth2ProviderConfigInput{
					ClientId: aws.String("gh-client"), ClientSecret: aws.String("gh-secret")}}},
			{"google", types.CredentialProviderVendorTypeGoogleOauth2,
				&types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{
					ClientId: aws.String("g-client"), ClientSecret: aws.String("g-secret")}}},
			{"okta", types.CredentialProviderVendorTypeOktaOauth2,
				&types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: types.IncludedOauth2ProviderConfigInput{
					ClientId: aws.String("okta-client"), ClientSecret: aws.String("okta-secret"),
					Issuer:                aws.String("https://dev-1.okta.com/oauth2/default"),
					AuthorizationEndpoint: aws.String("https://dev-1.okta.com/oauth2/default/v1/authorize"),
					TokenEndpoint:         aws.String("https://dev-1.okta.com/oauth2/default/v1/token"),
				}}},
		}
		for _, tc := range cases {
			out, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
				Name: aws.String(tc.name), CredentialProviderVendor: tc.vendor, Oauth2ProviderConfigInput: tc.config,
			})
			if err != nil {
				t.Fatalf("create %s: %v", tc.name, err)
			}
			if !strings.HasPrefix(aws.ToString(out.CallbackUrl), env.URL+"/identities/oauth2/callback/") {
				t.Errorf("%s: callbackUrl = %q", tc.name, aws.ToString(out.CallbackUrl))
			}
			wantARN := fmt.Sprintf("arn:aws:bedrock-agentcore:%s:%s:token-vault/default/oauth2credentialprovider/%s", env.Region, env.AccountID, tc.name)
			if aws.ToString(out.CredentialProviderArn) != wantARN {
				t.Errorf("%s: arn = %q", tc.name, aws.ToString(out.CredentialProviderArn))
			}
			if out.ClientSecretArn == nil || !strings.Contains(aws.ToString(out.ClientSecretArn.SecretArn), ":secret:bedrock-agentcore-identity!default/oauth2/"+tc.name+"-") {
				t.Errorf("%s: clientSecretArn = %+v", tc.name, out.ClientSecretArn)
			}
			got, err := c.GetOauth2CredentialProvider(ctx, &cp.GetOauth2CredentialProviderInput{Name: aws.String(tc.name)})
			if err != nil {
				t.Fatalf("get %s: %v", tc.name, err)
			}
			if got.CredentialProviderVendor != tc.vendor || aws.ToString(got.CallbackUrl) != aws.ToString(out.CallbackUrl) {
				t.Errorf("%s: get vendor %q callback %q", tc.name, got.CredentialProviderVendor, aws.ToString(got.CallbackUrl))
			}
			if got.Oauth2ProviderConfigOutput == nil || got.Status != types.StatusReady {
				t.Errorf("%s: config output %T status %q", tc.name, got.Oauth2ProviderConfigOutput, got.Status)
			}
		}

		// The discovery-based provider reports its discovery URL back.
		got, err := c.GetOauth2CredentialProvider(ctx, &cp.GetOauth2CredentialProviderInput{Name: aws.String("custom-discovery")})
		if err != nil {
			t.Fatal(err)
		}
		custom, ok := got.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig)
		if !ok {
			t.Fatalf("config output is %T", got.Oauth2ProviderConfigOutput)
		}
		if d, ok := custom.Value.OauthDiscovery.(*types.Oauth2DiscoveryMemberDiscoveryUrl); !ok || d.Value != "https://idp.example.com/.well-known/openid-configuration" {
			t.Errorf("oauthDiscovery = %#v", custom.Value.OauthDiscovery)
		}

		// Update keeps the callback URL (it is registered at the IdP).
		upd, err := c.UpdateOauth2CredentialProvider(ctx, &cp.UpdateOauth2CredentialProviderInput{
			Name: aws.String("custom-discovery"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery("https://idp2.example.com/.well-known/openid-configuration", "client-a2", "secret-a2"),
		})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if aws.ToString(upd.CallbackUrl) != aws.ToString(got.CallbackUrl) {
			t.Errorf("callback changed on update: %q -> %q", aws.ToString(got.CallbackUrl), aws.ToString(upd.CallbackUrl))
		}

		// Pagination over 5 providers, 2 per page: 3 pages, each once.
		seen := map[string]int{}
		pages := 0
		p := cp.NewListOauth2CredentialProvidersPaginator(c, &cp.ListOauth2CredentialProvidersInput{MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, s := range out.CredentialProviders {
				seen[aws.ToString(s.Name)]++
			}
		}
		if pages != 3 || len(seen) != len(cases) {
			t.Errorf("pages %d, seen %v", pages, seen)
		}

		// Errors.
		_, err = c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String("github"), CredentialProviderVendor: types.CredentialProviderVendorTypeGithubOauth2,
			Oauth2ProviderConfigInput: cases[2].config,
		})
		var ce *types.ConflictException
		if !errors.As(err, &ce) {
			t.Errorf("duplicate: want ConflictException, got %v", err)
		}
		_, err = c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String("bad-discovery"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery("https://idp.example.com/not-discovery", "c", "s"),
		})
		var ve *types.ValidationException
		if !errors.As(err, &ve) || len(ve.FieldList) == 0 {
			t.Errorf("bad discovery URL: want ValidationException with fields, got %v", err)
		}
		_, err = c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String("mismatch"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
			Oauth2ProviderConfigInput: cases[2].config, // a GitHub config for a Google provider
		})
		if !errors.As(err, &ve) {
			t.Errorf("vendor/config mismatch: want ValidationException, got %v", err)
		}
		if _, err := c.DeleteOauth2CredentialProvider(ctx, &cp.DeleteOauth2CredentialProviderInput{Name: aws.String("github")}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err = c.GetOauth2CredentialProvider(ctx, &cp.GetOauth2CredentialProviderInput{Name: aws.String("github")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("get deleted: want ResourceNotFoundException, got %v", err)
		}
	})
}

func TestAPIKeyProvidersAndQuotas(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b, Configure: func(c *config.Config) {
			c.Quotas.APIKeyProviders = 3
			c.Quotas.OAuth2Providers = 2
		}})
		ctx := servertest.Context(t)
		c := env.Control()
		for i := range 3 {
			out, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
				Name: aws.String(fmt.Sprintf("key-%d", i)), ApiKey: aws.String(fmt.Sprintf("sk-live-%d", i)),
			})
			if err != nil {
				t.Fatalf("create key %d: %v", i, err)
			}
			if out.ApiKeySecretArn == nil || !strings.Contains(aws.ToString(out.ApiKeySecretArn.SecretArn), "/apikey/key-") {
				t.Errorf("apiKeySecretArn = %+v", out.ApiKeySecretArn)
			}
		}
		_, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{Name: aws.String("key-3"), ApiKey: aws.String("x")})
		var qe *types.ServiceQuotaExceededException
		if !errors.As(err, &qe) {
			t.Fatalf("4th API key provider: want ServiceQuotaExceededException, got %v", err)
		}
		got, err := c.GetApiKeyCredentialProvider(ctx, &cp.GetApiKeyCredentialProviderInput{Name: aws.String("key-1")})
		if err != nil || got.CreatedTime == nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		if _, err := c.UpdateApiKeyCredentialProvider(ctx, &cp.UpdateApiKeyCredentialProviderInput{Name: aws.String("key-1"), ApiKey: aws.String("sk-rotated")}); err != nil {
			t.Fatalf("update: %v", err)
		}
		list, err := c.ListApiKeyCredentialProviders(ctx, &cp.ListApiKeyCredentialProvidersInput{MaxResults: aws.Int32(100)})
		if err != nil || len(list.CredentialProviders) != 3 {
			t.Fatalf("list: %d, %v", len(list.CredentialProviders), err)
		}
		if _, err := c.DeleteApiKeyCredentialProvider(ctx, &cp.DeleteApiKeyCredentialProviderInput{Name: aws.String("key-0")}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		// Deleting freed one slot.
		if _, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{Name: aws.String("key-3"), ApiKey: aws.String("x")}); err != nil {
			t.Fatalf("create after delete: %v", err)
		}

		for i := range 2 {
			if _, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
				Name: aws.String(fmt.Sprintf("o-%d", i)), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
				Oauth2ProviderConfigInput: customDiscovery("https://idp.example.com/.well-known/openid-configuration", "c", "s"),
			}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String("o-2"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: customDiscovery("https://idp.example.com/.well-known/openid-configuration", "c", "s"),
		})
		if !errors.As(err, &qe) {
			t.Fatalf("3rd OAuth2 provider: want ServiceQuotaExceededException, got %v", err)
		}
	})
}

func TestTokenVault(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c := env.Control()
		v, err := c.GetTokenVault(ctx, &cp.GetTokenVaultInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(v.TokenVaultId) != "default" || v.KmsConfiguration == nil || v.KmsConfiguration.KeyType != types.KeyTypeServiceManagedKey {
			t.Errorf("default vault = %+v", v)
		}
		keyARN := fmt.Sprintf("arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab", env.Region, env.AccountID)
		set, err := c.SetTokenVaultCMK(ctx, &cp.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{
			KeyType: types.KeyTypeCustomerManagedKey, KmsKeyArn: aws.String(keyARN)}})
		if err != nil {
			t.Fatal(err)
		}
		if set.KmsConfiguration.KeyType != types.KeyTypeCustomerManagedKey || aws.ToString(set.KmsConfiguration.KmsKeyArn) != keyARN {
			t.Errorf("set = %+v", set.KmsConfiguration)
		}
		v, err = c.GetTokenVault(ctx, &cp.GetTokenVaultInput{TokenVaultId: aws.String("default")})
		if err != nil || aws.ToString(v.KmsConfiguration.KmsKeyArn) != keyARN || v.LastModifiedDate == nil {
			t.Errorf("get after set = %+v, %v", v, err)
		}
		_, err = c.SetTokenVaultCMK(ctx, &cp.SetTokenVaultCMKInput{KmsConfiguration: &types.KmsConfiguration{KeyType: types.KeyTypeCustomerManagedKey}})
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Errorf("CMK without key ARN: want ValidationException, got %v", err)
		}
		_, err = c.GetTokenVault(ctx, &cp.GetTokenVaultInput{TokenVaultId: aws.String("other")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("unknown vault: want ResourceNotFoundException, got %v", err)
		}
	})
}

// TestSecretsNeverInPlaintext writes known secrets through the API, then
// searches the SQLite files, the server log and every response for them.
func TestSecretsNeverInPlaintext(t *testing.T) {
	dir := t.TempDir()
	env := servertest.Start(t, servertest.Options{SQLitePath: filepath.Join(dir, "agentcore.db")})
	ctx := servertest.Context(t)
	c := env.Control()

	secrets := []string{
		"oauth-client-secret-7f3c9e1b2a4d",
		"oauth-client-secret-rotated-91ab",
		"api-key-value-5d8e2c7f1a3b",
		"api-key-value-rotated-44cd",
	}
	var responses []string
	record := func(v any) { responses = append(responses, fmt.Sprintf("%+v", v)) }

	out1, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String("grep-oauth"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery("https://idp.example.com/.well-known/openid-configuration", "cid", secrets[0]),
	})
	if err != nil {
		t.Fatal(err)
	}
	record(out1)
	out2, err := c.UpdateOauth2CredentialProvider(ctx, &cp.UpdateOauth2CredentialProviderInput{
		Name: aws.String("grep-oauth"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery("https://idp.example.com/.well-known/openid-configuration", "cid", secrets[1]),
	})
	if err != nil {
		t.Fatal(err)
	}
	record(out2)
	out3, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{Name: aws.String("grep-key"), ApiKey: aws.String(secrets[2])})
	if err != nil {
		t.Fatal(err)
	}
	record(out3)
	out4, err := c.UpdateApiKeyCredentialProvider(ctx, &cp.UpdateApiKeyCredentialProviderInput{Name: aws.String("grep-key"), ApiKey: aws.String(secrets[3])})
	if err != nil {
		t.Fatal(err)
	}
	record(out4)
	g1, _ := c.GetOauth2CredentialProvider(ctx, &cp.GetOauth2CredentialProviderInput{Name: aws.String("grep-oauth")})
	g2, _ := c.GetApiKeyCredentialProvider(ctx, &cp.GetApiKeyCredentialProviderInput{Name: aws.String("grep-key")})
	l1, _ := c.ListOauth2CredentialProviders(ctx, &cp.ListOauth2CredentialProvidersInput{})
	l2, _ := c.ListApiKeyCredentialProviders(ctx, &cp.ListApiKeyCredentialProvidersInput{})
	record(g1)
	record(g2)
	record(l1)
	record(l2)
	// A request that fails validation must not echo the secret either.
	_, err = c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{Name: aws.String("bad name!"), ApiKey: aws.String(secrets[2])})
	if err == nil {
		t.Fatal("invalid name accepted")
	}
	record(err)

	// Sanity check of the search itself: the admin secret key is also
	// sealed, but the access key id is stored in clear, so it must be found.
	haystacks := map[string]string{"logs": env.Logs.String(), "responses": strings.Join(responses, "\n")}
	files, _ := filepath.Glob(filepath.Join(dir, "agentcore.db*"))
	if len(files) == 0 {
		t.Fatal("no database files to search")
	}
	var dbBytes []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dbBytes = append(dbBytes, b...)
		haystacks[filepath.Base(f)] = string(b)
	}
	if !strings.Contains(string(dbBytes), env.AccessKey) {
		t.Fatal("search is blind: the access key id (stored in clear) was not found in the database files")
	}
	for where, hay := range haystacks {
		for _, s := range append(secrets, env.SecretKey) {
			if strings.Contains(hay, s) {
				t.Errorf("secret %q found in %s", s, where)
			}
		}
	}
}
