package identitycmd

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd/cognitosetup"
	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

type providerFlags struct {
	name, typ, vendor, agent             string
	clientID, clientSecret, apiKey       string
	discoveryURL, authorizeURL, tokenURL string
	issuer, cognitoPoolID                string
}

func newCreateCredentialProviderCmd(e *env) *cobra.Command {
	var pf providerFlags
	cmd := &cobra.Command{
		Use:   "create-credential-provider",
		Short: "Create an OAuth2 or API-key credential provider and record it in the project file",
		Long: `Create an outbound credential provider.

--type is oauth2, api_key, cognito (a user pool through its discovery URL,
as the toolkit does), custom, or a vendor (github, google, salesforce,
slack, microsoft, ...). With --type oauth2, --vendor picks the vendor; with
no vendor the provider is custom and needs --discovery-url, or
--authorize-url and --token-url (and optionally --issuer).

The provider's callback URL must be registered as a redirect URI at the
authorization server; with --cognito-pool-id it is added to the Cognito
app client --client-id for you.`,
		Example: `  agentcore identity create-credential-provider --name github --type github --client-id ID --client-secret SECRET
  agentcore identity create-credential-provider --name ExternalServiceProvider --type cognito \
      --client-id $IDENTITY_CLIENT_ID --client-secret $IDENTITY_CLIENT_SECRET \
      --discovery-url $IDENTITY_DISCOVERY_URL --cognito-pool-id $IDENTITY_POOL_ID
  agentcore identity create-credential-provider --name weather --type api_key --api-key KEY`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.createProvider(cmd, pf)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&pf.name, "name", "n", "", "provider name (required)")
	f.StringVarP(&pf.typ, "type", "t", "", "oauth2, api_key, cognito, custom, or a vendor: github, google, salesforce, slack, microsoft, ... (required)")
	f.StringVar(&pf.vendor, "vendor", "", "vendor of an oauth2 provider (github, GithubOauth2, ...)")
	f.StringVar(&pf.clientID, "client-id", "", "OAuth2 client id")
	f.StringVar(&pf.clientSecret, "client-secret", "", "OAuth2 client secret")
	f.StringVar(&pf.apiKey, "api-key", "", "API key (with --type api_key)")
	f.StringVar(&pf.discoveryURL, "discovery-url", "", "OpenID discovery URL (cognito and custom providers)")
	f.StringVar(&pf.authorizeURL, "authorize-url", "", "authorization endpoint of a custom provider")
	f.StringVar(&pf.tokenURL, "token-url", "", "token endpoint of a custom provider")
	f.StringVar(&pf.issuer, "issuer", "", "issuer of a custom provider (default the origin of --authorize-url)")
	f.StringVar(&pf.cognitoPoolID, "cognito-pool-id", "", "add the callback URL to this user pool's app client --client-id")
	f.StringVarP(&pf.agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

// providerConfig maps the toolkit's --type (and seed 002's --type/--vendor
// spelling) to an SDK configuration. apiKey is true for API-key providers.
func providerConfig(pf providerFlags) (cfg identity.OAuth2Config, apiKey bool, err error) {
	typ := strings.ToLower(strings.ReplaceAll(pf.typ, "-", "_"))
	switch typ {
	case "api_key", "apikey":
		if pf.apiKey == "" {
			return cfg, true, errors.New("--type api_key needs --api-key")
		}
		return cfg, true, nil
	case "oauth2", "oauth":
		typ = pf.vendor
	}
	if pf.apiKey != "" {
		return cfg, false, errors.New("--api-key is only for --type api_key")
	}
	if pf.issuer == "" && pf.authorizeURL != "" {
		// The service requires an issuer; most servers use their origin.
		if u, err := url.Parse(pf.authorizeURL); err == nil && u.Host != "" {
			pf.issuer = u.Scheme + "://" + u.Host
		}
	}
	if pf.clientID == "" || pf.clientSecret == "" {
		return cfg, false, fmt.Errorf("--type %s needs --client-id and --client-secret", pf.typ)
	}
	custom := func() (identity.OAuth2Config, bool, error) {
		switch {
		case pf.discoveryURL != "":
			return identity.CustomOAuth2Discovery(pf.discoveryURL, pf.clientID, pf.clientSecret), false, nil
		case pf.authorizeURL != "" && pf.tokenURL != "":
			return identity.CustomOAuth2Endpoints(identity.AuthorizationServer{
				Issuer: pf.issuer, AuthorizationEndpoint: pf.authorizeURL, TokenEndpoint: pf.tokenURL,
			}, pf.clientID, pf.clientSecret), false, nil
		}
		return cfg, false, errors.New("a custom provider needs --discovery-url, or --authorize-url and --token-url")
	}
	switch strings.ToLower(typ) {
	case "", "custom", "customoauth2", "cognito":
		// The toolkit registers Cognito as a custom provider through the
		// pool's discovery URL, not as the CognitoOauth2 vendor.
		if strings.EqualFold(typ, "cognito") && pf.discoveryURL == "" {
			return cfg, false, errors.New("--type cognito needs --discovery-url")
		}
		return custom()
	}
	v, err := identity.ParseVendor(typ)
	if err != nil {
		return cfg, false, fmt.Errorf("--type/--vendor %q: %w", typ, err)
	}
	if v == identity.VendorCustom {
		return custom()
	}
	if pf.authorizeURL != "" || pf.tokenURL != "" {
		// Tenant-specific vendors (Okta, Auth0, ...) need their endpoints.
		return identity.IncludedOAuth2(v, pf.clientID, pf.clientSecret, &identity.AuthorizationServer{
			Issuer: pf.issuer, AuthorizationEndpoint: pf.authorizeURL, TokenEndpoint: pf.tokenURL,
		}), false, nil
	}
	return identity.VendorOAuth2(v, pf.clientID, pf.clientSecret), false, nil
}

// projectType is the type recorded in the project file: the toolkit's
// cognito/github/google/... vocabulary, or api_key.
func projectType(pf providerFlags, isAPIKey bool) string {
	t := strings.ToLower(pf.typ)
	switch {
	case isAPIKey:
		return string(identity.KindAPIKey)
	case t == "oauth2" || t == "oauth":
		if pf.vendor == "" {
			return "custom"
		}
		return strings.TrimSuffix(strings.ToLower(pf.vendor), "oauth2")
	}
	return t
}

func (e *env) createProvider(cmd *cobra.Command, pf providerFlags) error {
	ctx := cmd.Context()
	cfg, isAPIKey, err := providerConfig(pf)
	if err != nil {
		return err
	}
	t, err := e.target(ctx)
	if err != nil {
		return err
	}
	c, err := t.Identity()
	if err != nil {
		return err
	}
	var prov *identity.CredentialProvider
	if isAPIKey {
		prov, err = c.CreateAPIKeyCredentialProvider(ctx, pf.name, pf.apiKey)
	} else {
		prov, err = c.CreateOAuth2CredentialProvider(ctx, pf.name, cfg)
	}
	if err != nil {
		return fmt.Errorf("create credential provider %q: %w", pf.name, err)
	}
	p := e.printer(cmd)
	yamlType := projectType(pf, isAPIKey)
	body := fmt.Sprintf("Name:   %s\nARN:    %s\nType:   %s", prov.Name, prov.ARN, yamlType)
	if prov.Vendor != "" {
		body += "\nVendor: " + string(prov.Vendor)
	}
	p.Panel("✅ Credential Provider Created", body, output.Success)
	if prov.CallbackURL != "" {
		p.Panel("⚠️  ACTION REQUIRED", "Register this callback URL as a redirect URI at the authorization server:\n\n"+prov.CallbackURL, output.Warning)
	}
	if pf.cognitoPoolID != "" && prov.CallbackURL != "" {
		if err := cognitosetup.AddCallback(ctx, t, pf.cognitoPoolID, pf.clientID, prov.CallbackURL); err != nil {
			return fmt.Errorf("provider created, but adding its callback URL to the Cognito app client failed: %w", err)
		}
		p.Linef("✅ Added the callback URL to Cognito app client %s (pool %s)", pf.clientID, pf.cognitoPoolID)
	}
	name, ok, err := e.updateAgent(pf.agent, func(a *yamlconfig.Agent) error {
		if a.Identity == nil {
			a.Identity = &yamlconfig.Identity{}
		}
		a.Identity.CredentialProviders = slices.DeleteFunc(a.Identity.CredentialProviders,
			func(cp yamlconfig.CredentialProvider) bool { return cp.Name == prov.Name })
		a.Identity.CredentialProviders = append(a.Identity.CredentialProviders, yamlconfig.CredentialProvider{
			Name: prov.Name, ARN: prov.ARN, Type: yamlType, CallbackURL: prov.CallbackURL,
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("provider created, but saving %s failed: %w", yamlconfig.FileName, err)
	}
	if ok {
		p.Linef("Saved to %s (agent %s)", yamlconfig.FileName, name)
	} else {
		p.Warnf("no %s here: the provider exists but is not recorded in a project file (run `agentcore configure` first to track it)", yamlconfig.FileName)
	}
	return nil
}
