package credprovider

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/validate"
)

// The input types below mirror the wire shapes of the AgentCore model
// (member names as JSON tags) so that the control plane can decode a
// request straight into them. Union members are pointers; a nil pointer is
// an absent member.

// OAuth2ConfigInput is the oauth2ProviderConfigInput union.
type OAuth2ConfigInput struct {
	Custom     *CustomConfigInput    `json:"customOauth2ProviderConfig,omitempty"`
	Google     *ClientConfigInput    `json:"googleOauth2ProviderConfig,omitempty"`
	Github     *ClientConfigInput    `json:"githubOauth2ProviderConfig,omitempty"`
	Slack      *ClientConfigInput    `json:"slackOauth2ProviderConfig,omitempty"`
	Salesforce *ClientConfigInput    `json:"salesforceOauth2ProviderConfig,omitempty"`
	Microsoft  *MicrosoftConfigInput `json:"microsoftOauth2ProviderConfig,omitempty"`
	Atlassian  *ClientConfigInput    `json:"atlassianOauth2ProviderConfig,omitempty"`
	Linkedin   *ClientConfigInput    `json:"linkedinOauth2ProviderConfig,omitempty"`
	Included   *IncludedConfigInput  `json:"includedOauth2ProviderConfig,omitempty"`
}

// ClientConfigInput is the client registration every vendor config has (and
// all that the Google, GitHub, Slack, Salesforce, Atlassian and LinkedIn
// configs have).
type ClientConfigInput struct {
	ClientID     *string `json:"clientId,omitempty"`
	ClientSecret *string `json:"clientSecret,omitempty"`
	// ClientSecretSource and ClientSecretConfig select a secret kept in AWS
	// Secrets Manager; only MANAGED (the secret is passed and kept here) is
	// supported.
	ClientSecretSource *string          `json:"clientSecretSource,omitempty"`
	ClientSecretConfig *SecretReference `json:"clientSecretConfig,omitempty"`
}

// SecretReference points at an AWS Secrets Manager secret (unsupported; the
// type exists so its presence can be reported).
type SecretReference struct {
	SecretID *string `json:"secretId,omitempty"`
	JSONKey  *string `json:"jsonKey,omitempty"`
}

// MicrosoftConfigInput is microsoftOauth2ProviderConfig.
type MicrosoftConfigInput struct {
	ClientConfigInput
	TenantID *string `json:"tenantId,omitempty"`
}

// IncludedConfigInput is includedOauth2ProviderConfig. The endpoints are
// required for tenant-specific vendors and override the catalog otherwise.
type IncludedConfigInput struct {
	ClientConfigInput
	Issuer                *string `json:"issuer,omitempty"`
	AuthorizationEndpoint *string `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         *string `json:"tokenEndpoint,omitempty"`
}

// CustomConfigInput is customOauth2ProviderConfig.
type CustomConfigInput struct {
	ClientConfigInput
	OAuthDiscovery                *DiscoveryInput                `json:"oauthDiscovery,omitempty"`
	ClientAuthenticationMethod    *string                        `json:"clientAuthenticationMethod,omitempty"`
	OnBehalfOfTokenExchangeConfig *OnBehalfOfTokenExchangeConfig `json:"onBehalfOfTokenExchangeConfig,omitempty"`
	// The members below need AWS KMS or VPC Lattice and are rejected; any
	// non-null JSON value counts as present.
	PrivateKeyJwtConfig      any `json:"privateKeyJwtConfig,omitempty"`
	PrivateEndpoint          any `json:"privateEndpoint,omitempty"`
	PrivateEndpointOverrides any `json:"privateEndpointOverrides,omitempty"`
}

// DiscoveryInput is the Oauth2Discovery union.
type DiscoveryInput struct {
	DiscoveryURL                *string             `json:"discoveryUrl,omitempty"`
	AuthorizationServerMetadata *AuthServerMetadata `json:"authorizationServerMetadata,omitempty"`
}

// AuthServerMetadata is Oauth2AuthorizationServerMetadata, used for input,
// storage and output alike.
type AuthServerMetadata struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorizationEndpoint"`
	TokenEndpoint            string   `json:"tokenEndpoint"`
	ResponseTypes            []string `json:"responseTypes,omitempty"`
	TokenEndpointAuthMethods []string `json:"tokenEndpointAuthMethods,omitempty"`
}

// OnBehalfOfTokenExchangeConfig is OnBehalfOfTokenExchangeConfigType.
type OnBehalfOfTokenExchangeConfig struct {
	GrantType                      string                          `json:"grantType"`
	TokenExchangeGrantTypeConfig   *TokenExchangeGrantTypeConfig   `json:"tokenExchangeGrantTypeConfig,omitempty"`
	OnBehalfOfAuthenticationConfig *OnBehalfOfAuthenticationConfig `json:"onBehalfOfAuthenticationConfig,omitempty"`
}

// TokenExchangeGrantTypeConfig is TokenExchangeGrantTypeConfigType.
type TokenExchangeGrantTypeConfig struct {
	ActorTokenContent string   `json:"actorTokenContent"`
	ActorTokenScopes  []string `json:"actorTokenScopes,omitempty"`
}

// OnBehalfOfAuthenticationConfig is the on-behalf-of client authentication
// override.
type OnBehalfOfAuthenticationConfig struct {
	ClientAuthenticationMethod string `json:"clientAuthenticationMethod"`
}

// Constraints from the model.
var (
	DiscoveryURLRE    = regexp.MustCompile(`^.+/\.well-known/(openid-configuration|oauth-authorization-server)$`)
	tokenAuthMethodRE = regexp.MustCompile(`^(client_secret_post|client_secret_basic)$`)
	// The model leaves tenantId free-form; it is spliced into Microsoft
	// URLs, so only GUID, domain and alias characters are allowed.
	tenantIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// maxURLLen bounds endpoint URLs; the model sets none, this keeps records
// small and matches the longest string members of the model.
const maxURLLen = 2048

// Wire enum values of the custom config.
const (
	methodClientSecretBasic = "CLIENT_SECRET_BASIC"
	methodClientSecretPost  = "CLIENT_SECRET_POST"
	methodIAMIDToken        = "AWS_IAM_ID_TOKEN_JWT"
	methodPrivateKeyJWT     = "PRIVATE_KEY_JWT"
	grantTokenExchange      = "TOKEN_EXCHANGE"
	grantJWTAuthorization   = "JWT_AUTHORIZATION_GRANT"
	actorNone               = "NONE"
	actorM2M                = "M2M"
	actorIAMIDToken         = "AWS_IAM_ID_TOKEN_JWT"
	onBehalfOfNoClient      = "NO_CLIENT"
)

// storedConfig is the non-secret part of a provider's configuration as kept
// in its store document.
type storedConfig struct {
	ClientID string `json:"clientId"`
	// TenantID: Microsoft only.
	TenantID string `json:"tenantId,omitempty"`
	// DiscoveryURL or Metadata: custom providers. Metadata also holds the
	// endpoints given in an includedOauth2ProviderConfig.
	DiscoveryURL               string                         `json:"discoveryUrl,omitempty"`
	Metadata                   *AuthServerMetadata            `json:"authorizationServerMetadata,omitempty"`
	ClientAuthenticationMethod string                         `json:"clientAuthenticationMethod,omitempty"`
	OnBehalfOf                 *OnBehalfOfTokenExchangeConfig `json:"onBehalfOfTokenExchangeConfig,omitempty"`
}

// member is one set member of the config union.
type member struct {
	name   string
	client *ClientConfigInput
}

func (in OAuth2ConfigInput) members() []member {
	var out []member
	add := func(name string, c *ClientConfigInput) { out = append(out, member{name, c}) }
	if in.Custom != nil {
		add(MemberCustom, &in.Custom.ClientConfigInput)
	}
	if in.Google != nil {
		add(MemberGoogle, in.Google)
	}
	if in.Github != nil {
		add(MemberGithub, in.Github)
	}
	if in.Slack != nil {
		add(MemberSlack, in.Slack)
	}
	if in.Salesforce != nil {
		add(MemberSalesforce, in.Salesforce)
	}
	if in.Microsoft != nil {
		add(MemberMicrosoft, &in.Microsoft.ClientConfigInput)
	}
	if in.Atlassian != nil {
		add(MemberAtlassian, in.Atlassian)
	}
	if in.Linkedin != nil {
		add(MemberLinkedin, in.Linkedin)
	}
	if in.Included != nil {
		add(MemberIncluded, &in.Included.ClientConfigInput)
	}
	return out
}

// validateOAuth2 checks a vendor and its config and returns the catalog
// entry, the config to store and the client secret (nil when absent, which
// only an update allows: the stored secret is then kept). Failures are
// added to v; the results are meaningful only when v stays empty.
//
// Each vendor takes exactly one union member: its own member for the
// vendors that have one (Google, GitHub, Slack, Salesforce, Microsoft,
// Atlassian, LinkedIn, Custom) and includedOauth2ProviderConfig for all
// others (VendorInfo.ConfigMember).
func validateOAuth2(v *validate.Errors, vendor string, in OAuth2ConfigInput, create bool) (VendorInfo, storedConfig, *string) {
	const root = "oauth2ProviderConfigInput"
	info, known := Vendor(vendor)
	if !known {
		v.OneOf("credentialProviderVendor", vendor, VendorNames()...)
	}
	ms := in.members()
	if len(ms) != 1 {
		v.Add(root, "Member must have exactly one member set, found %d", len(ms))
		return info, storedConfig{}, nil
	}
	m := ms[0]
	if !known {
		return info, storedConfig{}, nil
	}
	if m.name != info.ConfigMember {
		v.Add(root, "Vendor %s must be configured with member %s, not %s", vendor, info.ConfigMember, m.name)
		return info, storedConfig{}, nil
	}
	prefix := root + "." + m.name + "."

	var cfg storedConfig
	c := m.client
	if v.Required(prefix+"clientId", c.ClientID != nil) {
		v.String(prefix+"clientId", *c.ClientID, 1, 256, nil)
		cfg.ClientID = *c.ClientID
	}
	rejectExternalSecret(v, prefix, "clientSecretSource", "clientSecretConfig", c.ClientSecretSource, c.ClientSecretConfig != nil)
	if create {
		v.Required(prefix+"clientSecret", c.ClientSecret != nil)
	}
	v.OptString(prefix+"clientSecret", c.ClientSecret, 1, 2048, nil)

	switch {
	case in.Microsoft != nil:
		if t := in.Microsoft.TenantID; t != nil {
			v.String(prefix+"tenantId", *t, 1, 2048, tenantIDRE)
			cfg.TenantID = *t
		}
	case in.Included != nil:
		cfg.Metadata = validateIncluded(v, prefix, info, in.Included)
	case in.Custom != nil:
		validateCustom(v, prefix, in.Custom, &cfg)
	}
	return info, cfg, c.ClientSecret
}

// validateIncluded checks the endpoints of an includedOauth2ProviderConfig
// and returns those given (nil when none are).
func validateIncluded(v *validate.Errors, prefix string, info VendorInfo, in *IncludedConfigInput) *AuthServerMetadata {
	fields := []struct {
		name string
		val  *string
	}{
		{"issuer", in.Issuer},
		{"authorizationEndpoint", in.AuthorizationEndpoint},
		{"tokenEndpoint", in.TokenEndpoint},
	}
	given := false
	for _, f := range fields {
		if f.val == nil {
			if info.TenantSpecific {
				v.Add(prefix+f.name, "Member must not be null: %s endpoints are tenant-specific (issuer like %s)", info.Name, info.EndpointHint)
			}
			continue
		}
		given = true
		checkURL(v, prefix+f.name, *f.val)
	}
	if !given {
		return nil
	}
	return &AuthServerMetadata{
		Issuer:                deref(in.Issuer),
		AuthorizationEndpoint: deref(in.AuthorizationEndpoint),
		TokenEndpoint:         deref(in.TokenEndpoint),
	}
}

func validateCustom(v *validate.Errors, prefix string, in *CustomConfigInput, cfg *storedConfig) {
	if v.Required(prefix+"oauthDiscovery", in.OAuthDiscovery != nil) {
		d := in.OAuthDiscovery
		dp := prefix + "oauthDiscovery"
		switch {
		case (d.DiscoveryURL == nil) == (d.AuthorizationServerMetadata == nil):
			v.Add(dp, "Member must have exactly one of discoveryUrl or authorizationServerMetadata set")
		case d.DiscoveryURL != nil:
			if v.String(dp+".discoveryUrl", *d.DiscoveryURL, 1, maxURLLen, DiscoveryURLRE) {
				checkURL(v, dp+".discoveryUrl", *d.DiscoveryURL)
			}
			cfg.DiscoveryURL = *d.DiscoveryURL
		default:
			md := *d.AuthorizationServerMetadata
			validateMetadata(v, dp+".authorizationServerMetadata.", md)
			cfg.Metadata = &md
		}
	}
	if m := in.ClientAuthenticationMethod; m != nil {
		field := prefix + "clientAuthenticationMethod"
		if v.OneOf(field, *m, methodClientSecretBasic, methodClientSecretPost, methodIAMIDToken, methodPrivateKeyJWT) &&
			(*m == methodIAMIDToken || *m == methodPrivateKeyJWT) {
			v.Add(field, "%s is not supported by this server (it needs AWS IAM or KMS); use %s or %s",
				*m, methodClientSecretBasic, methodClientSecretPost)
		}
		cfg.ClientAuthenticationMethod = *m
	}
	if o := in.OnBehalfOfTokenExchangeConfig; o != nil {
		validateOnBehalfOf(v, prefix+"onBehalfOfTokenExchangeConfig.", o)
		cp := *o
		cfg.OnBehalfOf = &cp
	}
	for _, u := range []struct {
		name    string
		present bool
		why     string
	}{
		{"privateKeyJwtConfig", in.PrivateKeyJwtConfig != nil, "it needs a private key in AWS KMS"},
		{"privateEndpoint", in.PrivateEndpoint != nil, "it needs Amazon VPC Lattice"},
		{"privateEndpointOverrides", in.PrivateEndpointOverrides != nil, "it needs Amazon VPC Lattice"},
	} {
		if u.present {
			v.Add(prefix+u.name, "Member is not supported by this server (%s)", u.why)
		}
	}
}

func validateMetadata(v *validate.Errors, prefix string, md AuthServerMetadata) {
	for _, f := range []struct{ name, val string }{
		{"issuer", md.Issuer},
		{"authorizationEndpoint", md.AuthorizationEndpoint},
		{"tokenEndpoint", md.TokenEndpoint},
	} {
		if v.Required(prefix+f.name, f.val != "") {
			checkURL(v, prefix+f.name, f.val)
		}
	}
	for i, rt := range md.ResponseTypes {
		if !v.String(fmt.Sprintf("%sresponseTypes.%d", prefix, i+1), rt, 1, 256, nil) {
			break
		}
	}
	if md.TokenEndpointAuthMethods != nil && v.Count(prefix+"tokenEndpointAuthMethods", len(md.TokenEndpointAuthMethods), 1, 2) {
		for i, m := range md.TokenEndpointAuthMethods {
			if !v.String(fmt.Sprintf("%stokenEndpointAuthMethods.%d", prefix, i+1), m, 1, 64, tokenAuthMethodRE) {
				break
			}
		}
	}
}

func validateOnBehalfOf(v *validate.Errors, prefix string, o *OnBehalfOfTokenExchangeConfig) {
	if v.Required(prefix+"grantType", o.GrantType != "") {
		v.OneOf(prefix+"grantType", o.GrantType, grantTokenExchange, grantJWTAuthorization)
	}
	if t := o.TokenExchangeGrantTypeConfig; t != nil {
		tp := prefix + "tokenExchangeGrantTypeConfig."
		if o.GrantType != grantTokenExchange {
			v.Add(prefix+"tokenExchangeGrantTypeConfig", "Member is only valid with grantType %s", grantTokenExchange)
		}
		if v.Required(tp+"actorTokenContent", t.ActorTokenContent != "") &&
			v.OneOf(tp+"actorTokenContent", t.ActorTokenContent, actorNone, actorM2M, actorIAMIDToken) &&
			t.ActorTokenContent == actorIAMIDToken {
			v.Add(tp+"actorTokenContent", "%s is not supported by this server (it needs AWS IAM)", actorIAMIDToken)
		}
		if len(t.ActorTokenScopes) > 0 && t.ActorTokenContent != actorM2M {
			v.Add(tp+"actorTokenScopes", "Member is only valid with actorTokenContent %s", actorM2M)
		}
		for i, sc := range t.ActorTokenScopes {
			if !v.String(fmt.Sprintf("%sactorTokenScopes.%d", tp, i+1), sc, 1, 128, nil) {
				break
			}
		}
	}
	if a := o.OnBehalfOfAuthenticationConfig; a != nil {
		f := prefix + "onBehalfOfAuthenticationConfig.clientAuthenticationMethod"
		if v.Required(f, a.ClientAuthenticationMethod != "") {
			v.OneOf(f, a.ClientAuthenticationMethod, onBehalfOfNoClient)
		}
	}
}

// checkURL requires an absolute http(s) URL. http is allowed because a
// self-hosted deployment often talks to a local identity provider.
func checkURL(v *validate.Errors, field, s string) bool {
	if !v.String(field, s, 1, maxURLLen, nil) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		v.Add(field, "Member must be an absolute http or https URL")
		return false
	}
	return true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
