package identity

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// Vendor is an OAuth2 credential provider vendor (credentialProviderVendor).
type Vendor string

// The vendors of the AgentCore model. Note the service's spellings
// GithubOauth2 and LinkedinOauth2; ParseVendor also accepts GitHub/LinkedIn.
const (
	VendorCustom     Vendor = "CustomOauth2"
	VendorGoogle     Vendor = "GoogleOauth2"
	VendorGitHub     Vendor = "GithubOauth2"
	VendorSlack      Vendor = "SlackOauth2"
	VendorSalesforce Vendor = "SalesforceOauth2"
	VendorMicrosoft  Vendor = "MicrosoftOauth2"
	VendorAtlassian  Vendor = "AtlassianOauth2"
	VendorLinkedIn   Vendor = "LinkedinOauth2"
	VendorX          Vendor = "XOauth2"
	VendorOkta       Vendor = "OktaOauth2"
	VendorOneLogin   Vendor = "OneLoginOauth2"
	VendorPingOne    Vendor = "PingOneOauth2"
	VendorFacebook   Vendor = "FacebookOauth2"
	VendorYandex     Vendor = "YandexOauth2"
	VendorReddit     Vendor = "RedditOauth2"
	VendorZoom       Vendor = "ZoomOauth2"
	VendorTwitch     Vendor = "TwitchOauth2"
	VendorSpotify    Vendor = "SpotifyOauth2"
	VendorDropbox    Vendor = "DropboxOauth2"
	VendorNotion     Vendor = "NotionOauth2"
	VendorHubspot    Vendor = "HubspotOauth2"
	VendorCyberArk   Vendor = "CyberArkOauth2"
	VendorFusionAuth Vendor = "FusionAuthOauth2"
	VendorAuth0      Vendor = "Auth0Oauth2"
	VendorCognito    Vendor = "CognitoOauth2"
)

// Vendors lists every vendor.
func Vendors() []Vendor {
	return []Vendor{VendorCustom, VendorGoogle, VendorGitHub, VendorSlack, VendorSalesforce, VendorMicrosoft,
		VendorAtlassian, VendorLinkedIn, VendorX, VendorOkta, VendorOneLogin, VendorPingOne, VendorFacebook,
		VendorYandex, VendorReddit, VendorZoom, VendorTwitch, VendorSpotify, VendorDropbox, VendorNotion,
		VendorHubspot, VendorCyberArk, VendorFusionAuth, VendorAuth0, VendorCognito}
}

// ParseVendor accepts a vendor in any case, with or without the "Oauth2"
// suffix ("github", "GitHubOauth2" and "GithubOauth2" are all VendorGitHub).
func ParseVendor(s string) (Vendor, error) {
	key := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "oauth2")
	for _, v := range Vendors() {
		if strings.ToLower(strings.TrimSuffix(string(v), "Oauth2")) == key {
			return v, nil
		}
	}
	return "", fmt.Errorf("identity: unknown OAuth2 vendor %q", s)
}

// OAuth2Config is the configuration of an OAuth2 credential provider. Build
// one with CustomOAuth2Discovery, CustomOAuth2Endpoints, a vendor preset
// (GitHubOAuth2, GoogleOAuth2, SlackOAuth2, SalesforceOAuth2,
// MicrosoftOAuth2, VendorOAuth2, IncludedOAuth2) or RawOAuth2Config.
type OAuth2Config struct {
	Vendor Vendor
	input  types.Oauth2ProviderConfigInput
}

// AuthorizationServer describes a provider without a discovery document.
type AuthorizationServer struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	// ResponseTypes and TokenEndpointAuthMethods (client_secret_basic,
	// client_secret_post) are optional.
	ResponseTypes            []string
	TokenEndpointAuthMethods []string
}

func (s AuthorizationServer) metadata() types.Oauth2AuthorizationServerMetadata {
	return types.Oauth2AuthorizationServerMetadata{
		Issuer: aws.String(s.Issuer), AuthorizationEndpoint: aws.String(s.AuthorizationEndpoint),
		TokenEndpoint: aws.String(s.TokenEndpoint), ResponseTypes: s.ResponseTypes,
		TokenEndpointAuthMethods: s.TokenEndpointAuthMethods,
	}
}

// CustomOAuth2Discovery is any OAuth2/OIDC provider found through its
// discovery document (a URL ending in /.well-known/openid-configuration or
// /.well-known/oauth-authorization-server).
func CustomOAuth2Discovery(discoveryURL, clientID, clientSecret string) OAuth2Config {
	return OAuth2Config{Vendor: VendorCustom, input: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{
		Value: types.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: discoveryURL},
			ClientId:       aws.String(clientID), ClientSecret: aws.String(clientSecret),
		}}}
}

// CustomOAuth2Endpoints is any OAuth2 provider given by its endpoints.
func CustomOAuth2Endpoints(server AuthorizationServer, clientID, clientSecret string) OAuth2Config {
	return OAuth2Config{Vendor: VendorCustom, input: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{
		Value: types.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &types.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: server.metadata()},
			ClientId:       aws.String(clientID), ClientSecret: aws.String(clientSecret),
		}}}
}

// GitHubOAuth2 is a GitHub OAuth app.
func GitHubOAuth2(clientID, clientSecret string) OAuth2Config {
	return VendorOAuth2(VendorGitHub, clientID, clientSecret)
}

// GoogleOAuth2 is a Google OAuth client.
func GoogleOAuth2(clientID, clientSecret string) OAuth2Config {
	return VendorOAuth2(VendorGoogle, clientID, clientSecret)
}

// SlackOAuth2 is a Slack app.
func SlackOAuth2(clientID, clientSecret string) OAuth2Config {
	return VendorOAuth2(VendorSlack, clientID, clientSecret)
}

// SalesforceOAuth2 is a Salesforce connected app.
func SalesforceOAuth2(clientID, clientSecret string) OAuth2Config {
	return VendorOAuth2(VendorSalesforce, clientID, clientSecret)
}

// MicrosoftOAuth2 is a Microsoft Entra ID application; tenantID may be empty
// (the multi-tenant "common" endpoint).
func MicrosoftOAuth2(clientID, clientSecret, tenantID string) OAuth2Config {
	in := types.MicrosoftOauth2ProviderConfigInput{ClientId: aws.String(clientID), ClientSecret: aws.String(clientSecret)}
	if tenantID != "" {
		in.TenantId = aws.String(tenantID)
	}
	return OAuth2Config{Vendor: VendorMicrosoft, input: &types.Oauth2ProviderConfigInputMemberMicrosoftOauth2ProviderConfig{Value: in}}
}

// VendorOAuth2 is a preset vendor whose endpoints the service knows: it
// uses the vendor's own configuration member where the model has one
// (Google, GitHub, Slack, Salesforce, Microsoft, Atlassian, LinkedIn) and
// includedOauth2ProviderConfig otherwise. Vendors that need endpoints
// (Okta, Cognito, Auth0, ...) take IncludedOAuth2.
func VendorOAuth2(v Vendor, clientID, clientSecret string) OAuth2Config {
	id, secret := aws.String(clientID), aws.String(clientSecret)
	var in types.Oauth2ProviderConfigInput
	switch v {
	case VendorGoogle:
		in = &types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	case VendorGitHub:
		in = &types.Oauth2ProviderConfigInputMemberGithubOauth2ProviderConfig{Value: types.GithubOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	case VendorSlack:
		in = &types.Oauth2ProviderConfigInputMemberSlackOauth2ProviderConfig{Value: types.SlackOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	case VendorSalesforce:
		in = &types.Oauth2ProviderConfigInputMemberSalesforceOauth2ProviderConfig{Value: types.SalesforceOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	case VendorMicrosoft:
		return MicrosoftOAuth2(clientID, clientSecret, "")
	case VendorAtlassian:
		in = &types.Oauth2ProviderConfigInputMemberAtlassianOauth2ProviderConfig{Value: types.AtlassianOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	case VendorLinkedIn:
		in = &types.Oauth2ProviderConfigInputMemberLinkedinOauth2ProviderConfig{Value: types.LinkedinOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}
	default:
		return IncludedOAuth2(v, clientID, clientSecret, nil)
	}
	return OAuth2Config{Vendor: v, input: in}
}

// IncludedOAuth2 is a vendor configured through includedOauth2ProviderConfig,
// with its endpoints when the vendor is tenant-specific (Okta, Cognito,
// Auth0, CyberArk, FusionAuth, OneLogin, PingOne).
func IncludedOAuth2(v Vendor, clientID, clientSecret string, server *AuthorizationServer) OAuth2Config {
	in := types.IncludedOauth2ProviderConfigInput{ClientId: aws.String(clientID), ClientSecret: aws.String(clientSecret)}
	if server != nil {
		in.Issuer = aws.String(server.Issuer)
		in.AuthorizationEndpoint = aws.String(server.AuthorizationEndpoint)
		in.TokenEndpoint = aws.String(server.TokenEndpoint)
	}
	return OAuth2Config{Vendor: v, input: &types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: in}}
}

// RawOAuth2Config passes an AWS SDK configuration through unchanged, for
// fields the helpers above do not expose.
func RawOAuth2Config(v Vendor, in types.Oauth2ProviderConfigInput) OAuth2Config {
	return OAuth2Config{Vendor: v, input: in}
}
