package credprovider

import (
	"maps"
	"slices"
	"strings"
)

// Union members of oauth2ProviderConfigInput / oauth2ProviderConfigOutput.
const (
	MemberCustom     = "customOauth2ProviderConfig"
	MemberGoogle     = "googleOauth2ProviderConfig"
	MemberGithub     = "githubOauth2ProviderConfig"
	MemberSlack      = "slackOauth2ProviderConfig"
	MemberSalesforce = "salesforceOauth2ProviderConfig"
	MemberMicrosoft  = "microsoftOauth2ProviderConfig"
	MemberAtlassian  = "atlassianOauth2ProviderConfig"
	MemberLinkedin   = "linkedinOauth2ProviderConfig"
	MemberIncluded   = "includedOauth2ProviderConfig"
)

// Token endpoint client authentication methods (RFC 8414 names).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// TenantPlaceholder marks the part of a Microsoft endpoint that is replaced
// by the provider's tenantId.
const TenantPlaceholder = "{tenant}"

// DefaultMicrosoftTenant is used when a Microsoft provider names no tenant:
// "common" accepts both work/school and personal accounts.
const DefaultMicrosoftTenant = "common"

// Quirks are the ways a vendor departs from plain RFC 6749 that the data
// plane's authorization and token requests must account for.
type Quirks struct {
	// RequiresPKCE: the authorization server rejects code flows without
	// PKCE (S256).
	RequiresPKCE bool
	// FormEncodedTokenResponse: the token endpoint answers
	// application/x-www-form-urlencoded unless the request carries
	// "Accept: application/json".
	FormEncodedTokenResponse bool
	// OpaqueTokens: access tokens are not JWTs; their expiry is only known
	// from expires_in (or not at all).
	OpaqueTokens bool
	// UserTokenUnderAuthedUser: user-scoped tokens come back nested under
	// "authed_user" rather than at the top level (Slack v2).
	UserTokenUnderAuthedUser bool
	// TenantInURL: endpoints contain TenantPlaceholder.
	TenantInURL bool
	// JSONTokenRequest: the token endpoint expects a JSON body instead of a
	// form body.
	JSONTokenRequest bool
	// RequiresUserAgent: requests without a descriptive User-Agent are
	// throttled or refused.
	RequiresUserAgent bool
	// NoRefreshToken: the vendor does not issue refresh tokens in the
	// authorization code flow (long-lived tokens are obtained otherwise).
	NoRefreshToken bool
	// ScopeSeparator joins scopes in the authorization request; empty means
	// a single space.
	ScopeSeparator string
	// ExtraAuthParams are added to the authorization request, typically to
	// obtain a refresh token or force consent.
	ExtraAuthParams map[string]string
}

// VendorInfo describes one credentialProviderVendor value.
type VendorInfo struct {
	// Name is the wire enum value, e.g. "GoogleOauth2".
	Name        string
	DisplayName string
	// ConfigMember is the oauth2ProviderConfigInput union member the vendor
	// is configured with (and the output member it is reported under).
	ConfigMember string
	// Issuer, AuthorizationEndpoint and TokenEndpoint are the vendor's
	// public endpoints; empty when they are tenant-specific and must come
	// from the provider's configuration. For vendors without an OIDC issuer
	// Issuer is the vendor's authorization-server origin.
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	// TenantSpecific vendors must be given issuer, authorizationEndpoint
	// and tokenEndpoint in includedOauth2ProviderConfig.
	TenantSpecific bool
	// EndpointHint shows the shape of a tenant-specific issuer, for error
	// messages and documentation.
	EndpointHint string
	// TokenAuthMethod is how the client authenticates at the token
	// endpoint; empty for CustomOauth2, whose configuration decides.
	TokenAuthMethod string
	// DefaultScopes are a sensible starting set; callers normally name
	// their own scopes.
	DefaultScopes []string
	Quirks        Quirks
}

// vendors is the read-only catalog, in the enum's order. Endpoint facts are
// from each vendor's public OAuth documentation.
var vendors = []VendorInfo{
	{
		Name: "GoogleOauth2", DisplayName: "Google", ConfigMember: MemberGoogle,
		Issuer:                "https://accounts.google.com",
		AuthorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
		TokenEndpoint:         "https://oauth2.googleapis.com/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"openid", "email", "profile"},
		// Without these Google issues a refresh token only on first consent.
		Quirks: Quirks{ExtraAuthParams: map[string]string{"access_type": "offline", "prompt": "consent"}},
	},
	{
		Name: "GithubOauth2", DisplayName: "GitHub", ConfigMember: MemberGithub,
		Issuer:                "https://github.com",
		AuthorizationEndpoint: "https://github.com/login/oauth/authorize",
		TokenEndpoint:         "https://github.com/login/oauth/access_token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"read:user"},
		Quirks:                Quirks{FormEncodedTokenResponse: true, OpaqueTokens: true},
	},
	{
		Name: "SlackOauth2", DisplayName: "Slack", ConfigMember: MemberSlack,
		Issuer:                "https://slack.com",
		AuthorizationEndpoint: "https://slack.com/oauth/v2/authorize",
		TokenEndpoint:         "https://slack.com/api/oauth.v2.access",
		TokenAuthMethod:       AuthClientSecretPost,
		Quirks:                Quirks{UserTokenUnderAuthedUser: true, OpaqueTokens: true, ScopeSeparator: ","},
	},
	{
		Name: "SalesforceOauth2", DisplayName: "Salesforce", ConfigMember: MemberSalesforce,
		Issuer:                "https://login.salesforce.com",
		AuthorizationEndpoint: "https://login.salesforce.com/services/oauth2/authorize",
		TokenEndpoint:         "https://login.salesforce.com/services/oauth2/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"api", "refresh_token"},
		Quirks:                Quirks{OpaqueTokens: true},
	},
	{
		Name: "MicrosoftOauth2", DisplayName: "Microsoft Entra ID", ConfigMember: MemberMicrosoft,
		Issuer:                "https://login.microsoftonline.com/" + TenantPlaceholder + "/v2.0",
		AuthorizationEndpoint: "https://login.microsoftonline.com/" + TenantPlaceholder + "/oauth2/v2.0/authorize",
		TokenEndpoint:         "https://login.microsoftonline.com/" + TenantPlaceholder + "/oauth2/v2.0/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"openid", "profile", "offline_access", "User.Read"},
		Quirks:                Quirks{TenantInURL: true},
	},
	{
		Name: "CustomOauth2", DisplayName: "Custom OAuth2", ConfigMember: MemberCustom,
	},
	{
		Name: "AtlassianOauth2", DisplayName: "Atlassian", ConfigMember: MemberAtlassian,
		Issuer:                "https://auth.atlassian.com",
		AuthorizationEndpoint: "https://auth.atlassian.com/authorize",
		TokenEndpoint:         "https://auth.atlassian.com/oauth/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"read:me", "offline_access"},
		Quirks:                Quirks{ExtraAuthParams: map[string]string{"audience": "api.atlassian.com", "prompt": "consent"}},
	},
	{
		Name: "LinkedinOauth2", DisplayName: "LinkedIn", ConfigMember: MemberLinkedin,
		Issuer:                "https://www.linkedin.com/oauth",
		AuthorizationEndpoint: "https://www.linkedin.com/oauth/v2/authorization",
		TokenEndpoint:         "https://www.linkedin.com/oauth/v2/accessToken",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"openid", "profile", "email"},
		// Refresh tokens are only granted to approved partner apps.
		Quirks: Quirks{OpaqueTokens: true, NoRefreshToken: true},
	},
	{
		Name: "XOauth2", DisplayName: "X (Twitter)", ConfigMember: MemberIncluded,
		Issuer:                "https://x.com",
		AuthorizationEndpoint: "https://x.com/i/oauth2/authorize",
		TokenEndpoint:         "https://api.x.com/2/oauth2/token",
		TokenAuthMethod:       AuthClientSecretBasic,
		DefaultScopes:         []string{"tweet.read", "users.read", "offline.access"},
		Quirks:                Quirks{RequiresPKCE: true, OpaqueTokens: true},
	},
	{
		Name: "OktaOauth2", DisplayName: "Okta", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://{yourOktaDomain}/oauth2/default",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "profile", "email", "offline_access"},
	},
	{
		Name: "OneLoginOauth2", DisplayName: "OneLogin", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://{subdomain}.onelogin.com/oidc/2",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "profile"},
	},
	{
		Name: "PingOneOauth2", DisplayName: "PingOne", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://auth.pingone.com/{environmentId}/as",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "profile"},
	},
	{
		Name: "FacebookOauth2", DisplayName: "Facebook", ConfigMember: MemberIncluded,
		Issuer: "https://www.facebook.com",
		// Unversioned endpoints follow the app's configured Graph API version.
		AuthorizationEndpoint: "https://www.facebook.com/dialog/oauth",
		TokenEndpoint:         "https://graph.facebook.com/oauth/access_token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"public_profile", "email"},
		Quirks:                Quirks{OpaqueTokens: true, NoRefreshToken: true},
	},
	{
		Name: "YandexOauth2", DisplayName: "Yandex", ConfigMember: MemberIncluded,
		Issuer:                "https://oauth.yandex.com",
		AuthorizationEndpoint: "https://oauth.yandex.com/authorize",
		TokenEndpoint:         "https://oauth.yandex.com/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"login:info"},
		Quirks:                Quirks{OpaqueTokens: true},
	},
	{
		Name: "RedditOauth2", DisplayName: "Reddit", ConfigMember: MemberIncluded,
		Issuer:                "https://www.reddit.com",
		AuthorizationEndpoint: "https://www.reddit.com/api/v1/authorize",
		TokenEndpoint:         "https://www.reddit.com/api/v1/access_token",
		TokenAuthMethod:       AuthClientSecretBasic,
		DefaultScopes:         []string{"identity"},
		Quirks: Quirks{OpaqueTokens: true, RequiresUserAgent: true,
			ExtraAuthParams: map[string]string{"duration": "permanent"}},
	},
	{
		Name: "ZoomOauth2", DisplayName: "Zoom", ConfigMember: MemberIncluded,
		Issuer:                "https://zoom.us",
		AuthorizationEndpoint: "https://zoom.us/oauth/authorize",
		TokenEndpoint:         "https://zoom.us/oauth/token",
		TokenAuthMethod:       AuthClientSecretBasic,
	},
	{
		Name: "TwitchOauth2", DisplayName: "Twitch", ConfigMember: MemberIncluded,
		Issuer:                "https://id.twitch.tv/oauth2",
		AuthorizationEndpoint: "https://id.twitch.tv/oauth2/authorize",
		TokenEndpoint:         "https://id.twitch.tv/oauth2/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"user:read:email"},
		Quirks:                Quirks{OpaqueTokens: true},
	},
	{
		Name: "SpotifyOauth2", DisplayName: "Spotify", ConfigMember: MemberIncluded,
		Issuer:                "https://accounts.spotify.com",
		AuthorizationEndpoint: "https://accounts.spotify.com/authorize",
		TokenEndpoint:         "https://accounts.spotify.com/api/token",
		TokenAuthMethod:       AuthClientSecretBasic,
		DefaultScopes:         []string{"user-read-email"},
		Quirks:                Quirks{OpaqueTokens: true},
	},
	{
		Name: "DropboxOauth2", DisplayName: "Dropbox", ConfigMember: MemberIncluded,
		Issuer:                "https://www.dropbox.com",
		AuthorizationEndpoint: "https://www.dropbox.com/oauth2/authorize",
		TokenEndpoint:         "https://api.dropboxapi.com/oauth2/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"account_info.read"},
		// Dropbox issues only short-lived tokens unless offline access is asked for.
		Quirks: Quirks{OpaqueTokens: true, ExtraAuthParams: map[string]string{"token_access_type": "offline"}},
	},
	{
		Name: "NotionOauth2", DisplayName: "Notion", ConfigMember: MemberIncluded,
		Issuer:                "https://api.notion.com",
		AuthorizationEndpoint: "https://api.notion.com/v1/oauth/authorize",
		TokenEndpoint:         "https://api.notion.com/v1/oauth/token",
		TokenAuthMethod:       AuthClientSecretBasic,
		// Notion has no scopes; access is chosen by the user on the consent page.
		Quirks: Quirks{OpaqueTokens: true, JSONTokenRequest: true,
			ExtraAuthParams: map[string]string{"owner": "user"}},
	},
	{
		Name: "HubspotOauth2", DisplayName: "HubSpot", ConfigMember: MemberIncluded,
		Issuer:                "https://app.hubspot.com",
		AuthorizationEndpoint: "https://app.hubspot.com/oauth/authorize",
		TokenEndpoint:         "https://api.hubapi.com/oauth/v1/token",
		TokenAuthMethod:       AuthClientSecretPost,
		DefaultScopes:         []string{"oauth"},
		Quirks:                Quirks{OpaqueTokens: true},
	},
	{
		Name: "CyberArkOauth2", DisplayName: "CyberArk Identity", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://{tenant}.id.cyberark.cloud/{applicationId}",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "profile"},
	},
	{
		Name: "FusionAuthOauth2", DisplayName: "FusionAuth", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://{yourFusionAuthHost}",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "offline_access"},
	},
	{
		Name: "Auth0Oauth2", DisplayName: "Auth0", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://{yourTenant}.auth0.com/",
		TokenAuthMethod: AuthClientSecretPost,
		DefaultScopes:   []string{"openid", "profile", "email", "offline_access"},
	},
	{
		Name: "CognitoOauth2", DisplayName: "Amazon Cognito", ConfigMember: MemberIncluded, TenantSpecific: true,
		EndpointHint:    "https://cognito-idp.{region}.amazonaws.com/{userPoolId}",
		TokenAuthMethod: AuthClientSecretBasic,
		DefaultScopes:   []string{"openid", "email", "profile"},
	},
}

// vendorIndex maps enum value to catalog position; built once, never written.
var vendorIndex = func() map[string]int {
	m := make(map[string]int, len(vendors))
	for i, v := range vendors {
		m[v.Name] = i
	}
	return m
}()

// Vendor returns the catalog entry of a credentialProviderVendor value.
func Vendor(name string) (VendorInfo, bool) {
	i, ok := vendorIndex[name]
	if !ok {
		return VendorInfo{}, false
	}
	return vendors[i].clone(), true
}

// Vendors returns the whole catalog in enum order.
func Vendors() []VendorInfo {
	out := make([]VendorInfo, len(vendors))
	for i, v := range vendors {
		out[i] = v.clone()
	}
	return out
}

// VendorNames returns the enum values in order.
func VendorNames() []string {
	out := make([]string, len(vendors))
	for i, v := range vendors {
		out[i] = v.Name
	}
	return out
}

// clone copies the slices and maps so callers cannot change the catalog.
func (v VendorInfo) clone() VendorInfo {
	v.DefaultScopes = slices.Clone(v.DefaultScopes)
	v.Quirks.ExtraAuthParams = maps.Clone(v.Quirks.ExtraAuthParams)
	return v
}

// endpoints returns the catalog endpoints with the tenant filled in.
func (v VendorInfo) endpoints(tenant string) Endpoints {
	if tenant == "" {
		tenant = DefaultMicrosoftTenant
	}
	sub := func(s string) string { return strings.ReplaceAll(s, TenantPlaceholder, tenant) }
	return Endpoints{
		Issuer:                sub(v.Issuer),
		AuthorizationEndpoint: sub(v.AuthorizationEndpoint),
		TokenEndpoint:         sub(v.TokenEndpoint),
	}
}
