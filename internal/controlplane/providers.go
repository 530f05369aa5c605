package controlplane

import (
	"context"
	"net/http"

	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// providerOperations is the credential provider part of the operation table.
func (h *Handlers) providerOperations() []awsproto.Operation {
	op := func(name string, status int, handle func(context.Context, *awsproto.Request) (any, error)) awsproto.Operation {
		return awsproto.Operation{Name: name, Method: http.MethodPost, Path: "/identities/" + name, Status: status, Handle: handle}
	}
	return []awsproto.Operation{
		op("CreateOauth2CredentialProvider", http.StatusCreated, h.createOAuth2Provider),
		op("GetOauth2CredentialProvider", http.StatusOK, h.getOAuth2Provider),
		op("UpdateOauth2CredentialProvider", http.StatusOK, h.updateOAuth2Provider),
		op("DeleteOauth2CredentialProvider", http.StatusNoContent, h.deleteOAuth2Provider),
		op("ListOauth2CredentialProviders", http.StatusOK, h.listOAuth2Providers),
		op("CreateApiKeyCredentialProvider", http.StatusCreated, h.createAPIKeyProvider),
		op("GetApiKeyCredentialProvider", http.StatusOK, h.getAPIKeyProvider),
		op("UpdateApiKeyCredentialProvider", http.StatusOK, h.updateAPIKeyProvider),
		op("DeleteApiKeyCredentialProvider", http.StatusNoContent, h.deleteAPIKeyProvider),
		op("ListApiKeyCredentialProviders", http.StatusOK, h.listAPIKeyProviders),
	}
}

type secretOutput struct {
	SecretARN string `json:"secretArn"`
}

// ---- OAuth2 ----

type oauth2ProviderInput struct {
	Name   *string                         `json:"name"`
	Vendor *string                         `json:"credentialProviderVendor"`
	Config *credprovider.OAuth2ConfigInput `json:"oauth2ProviderConfigInput"`
	Tags   map[string]string               `json:"tags"`
}

// require checks the members the model requires on create and update.
func (in *oauth2ProviderInput) require() error {
	var v validate.Errors
	v.Required("name", in.Name != nil)
	v.Required("credentialProviderVendor", in.Vendor != nil)
	v.Required("oauth2ProviderConfigInput", in.Config != nil)
	return v.Err()
}

type oauthDiscoveryOutput struct {
	DiscoveryURL string                           `json:"discoveryUrl,omitempty"`
	Metadata     *credprovider.AuthServerMetadata `json:"authorizationServerMetadata,omitempty"`
}

type oauth2ConfigOutput struct {
	OAuthDiscovery             oauthDiscoveryOutput                        `json:"oauthDiscovery"`
	ClientID                   string                                      `json:"clientId,omitempty"`
	ClientAuthenticationMethod string                                      `json:"clientAuthenticationMethod,omitempty"`
	OnBehalfOf                 *credprovider.OnBehalfOfTokenExchangeConfig `json:"onBehalfOfTokenExchangeConfig,omitempty"`
}

// oauth2ProviderOutput covers the Create, Get and Update responses; Create
// leaves out the vendor and timestamps, as its model does.
type oauth2ProviderOutput struct {
	Name               string                        `json:"name"`
	Vendor             string                        `json:"credentialProviderVendor,omitempty"`
	ARN                string                        `json:"credentialProviderArn"`
	ClientSecretARN    secretOutput                  `json:"clientSecretArn"`
	ClientSecretSource string                        `json:"clientSecretSource"`
	CallbackURL        string                        `json:"callbackUrl,omitempty"`
	Config             map[string]oauth2ConfigOutput `json:"oauth2ProviderConfigOutput"`
	Status             string                        `json:"status,omitempty"`
	CreatedTime        *awsproto.Epoch               `json:"createdTime,omitempty"`
	LastUpdatedTime    *awsproto.Epoch               `json:"lastUpdatedTime,omitempty"`
}

func toOAuth2Output(p credprovider.OAuth2Provider, withMeta bool) oauth2ProviderOutput {
	cfg := oauth2ConfigOutput{
		OAuthDiscovery:             oauthDiscoveryOutput{DiscoveryURL: p.DiscoveryURL, Metadata: p.Metadata},
		ClientID:                   p.ClientID,
		ClientAuthenticationMethod: p.ClientAuthenticationMethod,
		OnBehalfOf:                 p.OnBehalfOf,
	}
	out := oauth2ProviderOutput{
		Name:               p.Name,
		ARN:                p.ARN,
		ClientSecretARN:    secretOutput{SecretARN: p.SecretARN},
		ClientSecretSource: credprovider.SecretSourceManaged,
		CallbackURL:        p.CallbackURL,
		Config:             map[string]oauth2ConfigOutput{p.VendorInfo.ConfigMember: cfg},
		Status:             p.Status,
	}
	if withMeta {
		out.Vendor = p.Vendor
		out.CreatedTime = awsproto.EpochPtr(p.CreatedAt)
		out.LastUpdatedTime = awsproto.EpochPtr(p.UpdatedAt)
	}
	return out
}

func (h *Handlers) createOAuth2Provider(ctx context.Context, req *awsproto.Request) (any, error) {
	var in oauth2ProviderInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := in.require(); err != nil {
		return nil, err
	}
	p, err := h.Providers.CreateOAuth2(ctx, acct, *in.Name, *in.Vendor, *in.Config, in.Tags)
	if err != nil {
		return nil, err
	}
	return toOAuth2Output(p, false), nil
}

func (h *Handlers) getOAuth2Provider(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := h.Providers.GetOAuth2(ctx, acct, name)
	if err != nil {
		return nil, err
	}
	return toOAuth2Output(p, true), nil
}

func (h *Handlers) updateOAuth2Provider(ctx context.Context, req *awsproto.Request) (any, error) {
	var in oauth2ProviderInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := in.require(); err != nil {
		return nil, err
	}
	p, err := h.Providers.UpdateOAuth2(ctx, acct, *in.Name, *in.Vendor, *in.Config)
	if err != nil {
		return nil, err
	}
	return toOAuth2Output(p, true), nil
}

func (h *Handlers) deleteOAuth2Provider(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	return nil, h.Providers.DeleteOAuth2(ctx, acct, name)
}

func (h *Handlers) listOAuth2Providers(ctx context.Context, req *awsproto.Request) (any, error) {
	return listProviders(ctx, req, 20, h.Providers.ListOAuth2, func(p credprovider.OAuth2Provider) providerItem {
		return providerItem{Name: p.Name, Vendor: p.Vendor, ARN: p.ARN,
			CreatedTime: awsproto.EpochPtr(p.CreatedAt), LastUpdatedTime: awsproto.EpochPtr(p.UpdatedAt)}
	})
}

// providerItem is one element of a List*CredentialProviders response;
// API-key providers have no vendor.
type providerItem struct {
	Name            string          `json:"name"`
	Vendor          string          `json:"credentialProviderVendor,omitempty"`
	ARN             string          `json:"credentialProviderArn"`
	CreatedTime     *awsproto.Epoch `json:"createdTime,omitempty"`
	LastUpdatedTime *awsproto.Epoch `json:"lastUpdatedTime,omitempty"`
}

// listProviders serves a List*CredentialProviders request with list and
// converts each provider with item.
func listProviders[P any](ctx context.Context, req *awsproto.Request, defaultLimit int32,
	list func(ctx context.Context, account string, limit int, after string) ([]P, string, error),
	item func(P) providerItem) (any, error) {
	acct, limit, after, err := listRequest(ctx, req, defaultLimit)
	if err != nil {
		return nil, err
	}
	ps, next, err := list(ctx, acct, limit, after)
	if err != nil {
		return nil, err
	}
	out := struct {
		Items     []providerItem `json:"credentialProviders"`
		NextToken *string        `json:"nextToken,omitempty"`
	}{Items: make([]providerItem, 0, len(ps)), NextToken: awsproto.EncodeToken(next)}
	for _, p := range ps {
		out.Items = append(out.Items, item(p))
	}
	return out, nil
}

// ---- API key ----

type apiKeyProviderInput struct {
	Name *string `json:"name"`
	credprovider.APIKeyInput
	Tags map[string]string `json:"tags"`
}

// apiKeyProviderOutput covers the Create, Get and Update responses; Create
// leaves out the timestamps, as its model does.
type apiKeyProviderOutput struct {
	Name               string          `json:"name"`
	ARN                string          `json:"credentialProviderArn"`
	APIKeySecretARN    secretOutput    `json:"apiKeySecretArn"`
	APIKeySecretSource string          `json:"apiKeySecretSource"`
	CreatedTime        *awsproto.Epoch `json:"createdTime,omitempty"`
	LastUpdatedTime    *awsproto.Epoch `json:"lastUpdatedTime,omitempty"`
}

func toAPIKeyOutput(p credprovider.APIKeyProvider, withTimes bool) apiKeyProviderOutput {
	out := apiKeyProviderOutput{
		Name: p.Name, ARN: p.ARN,
		APIKeySecretARN:    secretOutput{SecretARN: p.SecretARN},
		APIKeySecretSource: credprovider.SecretSourceManaged,
	}
	if withTimes {
		out.CreatedTime = awsproto.EpochPtr(p.CreatedAt)
		out.LastUpdatedTime = awsproto.EpochPtr(p.UpdatedAt)
	}
	return out
}

func (h *Handlers) createAPIKeyProvider(ctx context.Context, req *awsproto.Request) (any, error) {
	var in apiKeyProviderInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := requireName(in.Name); err != nil {
		return nil, err
	}
	p, err := h.Providers.CreateAPIKey(ctx, acct, *in.Name, in.APIKeyInput, in.Tags)
	if err != nil {
		return nil, err
	}
	return toAPIKeyOutput(p, false), nil
}

func (h *Handlers) getAPIKeyProvider(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	p, err := h.Providers.GetAPIKey(ctx, acct, name)
	if err != nil {
		return nil, err
	}
	return toAPIKeyOutput(p, true), nil
}

func (h *Handlers) updateAPIKeyProvider(ctx context.Context, req *awsproto.Request) (any, error) {
	var in apiKeyProviderInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := requireName(in.Name); err != nil {
		return nil, err
	}
	// tags is not an UpdateApiKeyCredentialProvider member; it is ignored
	// like any other unknown member.
	p, err := h.Providers.UpdateAPIKey(ctx, acct, *in.Name, in.APIKeyInput)
	if err != nil {
		return nil, err
	}
	return toAPIKeyOutput(p, true), nil
}

func (h *Handlers) deleteAPIKeyProvider(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	return nil, h.Providers.DeleteAPIKey(ctx, acct, name)
}

func (h *Handlers) listAPIKeyProviders(ctx context.Context, req *awsproto.Request) (any, error) {
	return listProviders(ctx, req, 100, h.Providers.ListAPIKeys, func(p credprovider.APIKeyProvider) providerItem {
		return providerItem{Name: p.Name, ARN: p.ARN,
			CreatedTime: awsproto.EpochPtr(p.CreatedAt), LastUpdatedTime: awsproto.EpochPtr(p.UpdatedAt)}
	})
}
