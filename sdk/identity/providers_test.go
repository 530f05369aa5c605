package identity

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestListCredentialProvidersMergesBothKindsAcrossPages(t *testing.T) {
	f := newWireFake(t, func(c wireCall) wireReply {
		switch c.Path {
		case "/identities/ListOauth2CredentialProviders":
			if c.Body["nextToken"] == nil {
				return ok(map[string]any{"credentialProviders": []any{
					map[string]any{"name": "zoom", "credentialProviderArn": "arn:zoom", "credentialProviderVendor": "ZoomOauth2"},
				}, "nextToken": "p2"})
			}
			return ok(map[string]any{"credentialProviders": []any{
				map[string]any{"name": "github", "credentialProviderArn": "arn:gh", "credentialProviderVendor": "GithubOauth2"},
			}})
		case "/identities/ListApiKeyCredentialProviders":
			return ok(map[string]any{"credentialProviders": []any{
				map[string]any{"name": "weather", "credentialProviderArn": "arn:wx"},
			}})
		}
		return awsError(404, "UnknownOperationException", c.Path)
	})
	got, err := f.client(nil).ListCredentialProviders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []CredentialProvider{
		{Name: "github", ARN: "arn:gh", Kind: KindOAuth2, Vendor: VendorGitHub},
		{Name: "weather", ARN: "arn:wx", Kind: KindAPIKey},
		{Name: "zoom", ARN: "arn:zoom", Kind: KindOAuth2, Vendor: VendorZoom},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestGetAndDeleteCredentialProviderTryBothKinds(t *testing.T) {
	f := newWireFake(t, func(c wireCall) wireReply {
		switch c.Path {
		case "/identities/GetOauth2CredentialProvider", "/identities/DeleteOauth2CredentialProvider":
			return awsError(404, "ResourceNotFoundException", "no oauth2 provider")
		case "/identities/GetApiKeyCredentialProvider":
			return ok(map[string]any{"name": "weather", "credentialProviderArn": "arn:wx",
				"apiKeySecretArn": map[string]any{"secretArn": "arn:secret"}})
		case "/identities/DeleteApiKeyCredentialProvider":
			if c.Body["name"] == "ghost" {
				return awsError(404, "ResourceNotFoundException", "no api key provider")
			}
			return wireReply{Status: 204}
		}
		return awsError(404, "UnknownOperationException", c.Path)
	})
	c := f.client(nil)
	p, err := c.GetCredentialProvider(context.Background(), "weather")
	if err != nil || p.Kind != KindAPIKey || p.SecretARN != "arn:secret" {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	if err := c.DeleteCredentialProvider(context.Background(), "weather"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.DeleteCredentialProvider(context.Background(), "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete ghost: %v", err)
	}
}

func TestOAuth2ConfigsSerialiseToTheModelShapes(t *testing.T) {
	cases := []struct {
		name   string
		cfg    OAuth2Config
		vendor string
		input  string
	}{
		{"discovery", CustomOAuth2Discovery("https://idp/.well-known/openid-configuration", "id", "sec"), "CustomOauth2",
			`{"customOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec","oauthDiscovery":{"discoveryUrl":"https://idp/.well-known/openid-configuration"}}}`},
		{"endpoints", CustomOAuth2Endpoints(AuthorizationServer{Issuer: "https://i", AuthorizationEndpoint: "https://i/a", TokenEndpoint: "https://i/t"}, "id", "sec"), "CustomOauth2",
			`{"customOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec","oauthDiscovery":{"authorizationServerMetadata":{"authorizationEndpoint":"https://i/a","issuer":"https://i","tokenEndpoint":"https://i/t"}}}}`},
		{"github", GitHubOAuth2("id", "sec"), "GithubOauth2", `{"githubOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec"}}`},
		{"google", GoogleOAuth2("id", "sec"), "GoogleOauth2", `{"googleOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec"}}`},
		{"slack", SlackOAuth2("id", "sec"), "SlackOauth2", `{"slackOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec"}}`},
		{"salesforce", SalesforceOAuth2("id", "sec"), "SalesforceOauth2", `{"salesforceOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec"}}`},
		{"microsoft", MicrosoftOAuth2("id", "sec", "tenant-1"), "MicrosoftOauth2", `{"microsoftOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec","tenantId":"tenant-1"}}`},
		{"spotify", VendorOAuth2(VendorSpotify, "id", "sec"), "SpotifyOauth2", `{"includedOauth2ProviderConfig":{"clientId":"id","clientSecret":"sec"}}`},
		{"okta", IncludedOAuth2(VendorOkta, "id", "sec", &AuthorizationServer{Issuer: "https://o", AuthorizationEndpoint: "https://o/a", TokenEndpoint: "https://o/t"}), "OktaOauth2",
			`{"includedOauth2ProviderConfig":{"authorizationEndpoint":"https://o/a","clientId":"id","clientSecret":"sec","issuer":"https://o","tokenEndpoint":"https://o/t"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newWireFake(t, func(c wireCall) wireReply {
				return wireReply{Status: 201, Body: map[string]any{"name": "p", "credentialProviderArn": "arn:p",
					"callbackUrl": "https://cb/1", "status": "READY", "clientSecretArn": map[string]any{"secretArn": "arn:s"},
					"oauth2ProviderConfigOutput": map[string]any{}}}
			})
			p, err := f.client(nil).CreateOAuth2CredentialProvider(context.Background(), "p", tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.CallbackURL != "https://cb/1" || p.Status != "READY" || p.SecretARN != "arn:s" || string(p.Vendor) != tc.vendor {
				t.Errorf("provider = %+v", p)
			}
			body := f.Calls()[0].Body
			if body["credentialProviderVendor"] != tc.vendor {
				t.Errorf("vendor = %v", body["credentialProviderVendor"])
			}
			var want any
			if err := json.Unmarshal([]byte(tc.input), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(body["oauth2ProviderConfigInput"], want) {
				got, _ := json.Marshal(body["oauth2ProviderConfigInput"])
				t.Errorf("config input = %s\nwant %s", got, tc.input)
			}
		})
	}
}

func TestParseVendorAcceptsSeedSpellings(t *testing.T) {
	for in, want := range map[string]Vendor{
		"github": VendorGitHub, "GitHubOauth2": VendorGitHub, "GithubOauth2": VendorGitHub,
		"LinkedInOauth2": VendorLinkedIn, "linkedin": VendorLinkedIn, "cognito": VendorCognito, " Custom ": VendorCustom,
	} {
		if got, err := ParseVendor(in); err != nil || got != want {
			t.Errorf("ParseVendor(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseVendor("ZendeskOauth2"); err == nil {
		t.Error("an invented vendor was accepted")
	}
}
