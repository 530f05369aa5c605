package identitycmd

import (
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

func TestCreateCredentialProvider(t *testing.T) {
	h := newHarness(t)
	idp := oidctest.Start(t, oidctest.Options{})
	h.writeProject()

	tests := []struct {
		name       string
		args       []string
		wantKind   identity.ProviderKind
		wantVendor identity.Vendor
		wantType   string // in the project file
		wantErr    string
	}{
		{"github type", []string{"--type", "github", "--client-id", "id", "--client-secret", "s"}, identity.KindOAuth2, identity.VendorGitHub, "github", ""},
		{"seed oauth2 with vendor", []string{"--type", "oauth2", "--vendor", "GitHubOauth2", "--client-id", "id", "--client-secret", "s"}, identity.KindOAuth2, identity.VendorGitHub, "github", ""},
		{"google type", []string{"-t", "google", "--client-id", "id", "--client-secret", "s"}, identity.KindOAuth2, identity.VendorGoogle, "google", ""},
		{"cognito is custom discovery", []string{"--type", "cognito", "--discovery-url", idp.DiscoveryURL(), "--client-id", "id", "--client-secret", "s"}, identity.KindOAuth2, identity.VendorCustom, "cognito", ""},
		{"custom endpoints", []string{"--type", "oauth2", "--authorize-url", "https://api.example.com/oauth/authorize", "--token-url", "https://api.example.com/oauth/token", "--client-id", "id", "--client-secret", "s"}, identity.KindOAuth2, identity.VendorCustom, "custom", ""},
		{"api key", []string{"--type", "api_key", "--vendor", "github", "--api-key", "ghp_123"}, identity.KindAPIKey, "", "api_key", ""},
		{"api key missing", []string{"--type", "api_key"}, "", "", "", "needs --api-key"},
		{"cognito without discovery", []string{"--type", "cognito", "--client-id", "id", "--client-secret", "s"}, "", "", "", "needs --discovery-url"},
		{"custom without endpoints", []string{"--type", "oauth2", "--client-id", "id", "--client-secret", "s"}, "", "", "", "--discovery-url, or --authorize-url"},
		{"no secret", []string{"--type", "github", "--client-id", "id"}, "", "", "", "--client-secret"},
		{"unknown vendor", []string{"--type", "zendesk", "--client-id", "id", "--client-secret", "s"}, "", "", "", "zendesk"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "prov" + string(rune('a'+i))
			r := h.run(append([]string{"create-credential-provider", "--name", name}, tc.args...)...)
			if tc.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, r.err)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.errOut)
			}
			p, err := h.client().GetCredentialProvider(h.ctx(), name)
			if err != nil || p.Kind != tc.wantKind || p.Vendor != tc.wantVendor {
				t.Fatalf("server provider = %+v, %v", p, err)
			}
			if tc.wantKind == identity.KindOAuth2 {
				if p.CallbackURL == "" || !strings.Contains(r.out, "ACTION REQUIRED") || !strings.Contains(r.out, p.CallbackURL) {
					t.Fatalf("callback URL %q not shown in an ACTION REQUIRED panel:\n%s", p.CallbackURL, r.out)
				}
			}
			var rec *struct{ arn, typ, cb string }
			for _, cp := range h.agent().Identity.CredentialProviders {
				if cp.Name == name {
					rec = &struct{ arn, typ, cb string }{cp.ARN, cp.Type, cp.CallbackURL}
				}
			}
			if rec == nil || rec.arn != p.ARN || rec.typ != tc.wantType || rec.cb != p.CallbackURL {
				t.Fatalf("YAML entry = %+v, want arn %s type %s", rec, p.ARN, tc.wantType)
			}
		})
	}

	var listed listProvidersJSON
	h.jsonOf(&listed, "list-providers", "--json")
	byName := map[string]providerJSON{}
	for _, p := range listed.Providers {
		byName[p.Name] = p
	}
	if len(listed.Providers) != 6 {
		t.Fatalf("listed %d providers, want 6: %+v", len(listed.Providers), listed.Providers)
	}
	if p := byName["prova"]; p.Type != "oauth2" || p.Vendor != "GithubOauth2" || p.Status != "READY" || p.CallbackURL == "" || !p.InProject {
		t.Errorf("github provider listed as %+v", p)
	}
	if p := byName["provf"]; p.Type != "api_key" || p.Vendor != "" || !p.InProject {
		t.Errorf("api key provider listed as %+v", p)
	}
	// The alias and the real name print the same table.
	a, b := h.must("list-providers"), h.must("list-credential-providers")
	if a.out != b.out || !strings.Contains(a.out, "NAME") || !strings.Contains(a.out, "provf") {
		t.Fatalf("table output:\n%s\n---\n%s", a.out, b.out)
	}
	// A provider recorded in YAML but gone from the server is reported.
	if err := h.client().DeleteCredentialProvider(h.ctx(), "prova"); err != nil {
		t.Fatal(err)
	}
	h.jsonOf(&listed, "list-providers", "--json")
	if len(listed.MissingOnServer) != 1 || listed.MissingOnServer[0] != "prova" {
		t.Fatalf("missingOnServer = %v", listed.MissingOnServer)
	}
}
