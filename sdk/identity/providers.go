package identity

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// ProviderKind tells OAuth2 and API-key credential providers apart.
type ProviderKind string

// Provider kinds.
const (
	KindOAuth2 ProviderKind = "oauth2"
	KindAPIKey ProviderKind = "api_key"
)

// CredentialProvider is a credential provider of either kind. Secrets are
// write-only: only the ARN of the secret that holds them is returned.
type CredentialProvider struct {
	Name string
	ARN  string
	Kind ProviderKind
	// Vendor is set for OAuth2 providers.
	Vendor Vendor
	// CallbackURL (OAuth2) must be registered as a redirect URI at the
	// provider's authorization server.
	CallbackURL string
	// Status (OAuth2) is READY, CREATING, ... ; FailureReason explains a
	// failed state.
	Status        string
	FailureReason string
	SecretARN     string
	Created       time.Time
	Updated       time.Time
}

func secretARN(s *types.Secret) string {
	if s == nil {
		return ""
	}
	return aws.ToString(s.SecretArn)
}

// CreateOAuth2CredentialProvider creates an OAuth2 credential provider.
// Register the returned CallbackURL at the authorization server.
func (c *Client) CreateOAuth2CredentialProvider(ctx context.Context, name string, cfg OAuth2Config) (*CredentialProvider, error) {
	out, err := c.control.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String(name), CredentialProviderVendor: types.CredentialProviderVendorType(cfg.Vendor),
		Oauth2ProviderConfigInput: cfg.input,
	})
	if err != nil {
		return nil, wrapErr("CreateOauth2CredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindOAuth2, Vendor: cfg.Vendor,
		CallbackURL: aws.ToString(out.CallbackUrl), Status: string(out.Status), SecretARN: secretARN(out.ClientSecretArn),
	}, nil
}

// UpdateOAuth2CredentialProvider replaces an OAuth2 provider's configuration.
func (c *Client) UpdateOAuth2CredentialProvider(ctx context.Context, name string, cfg OAuth2Config) (*CredentialProvider, error) {
	out, err := c.control.UpdateOauth2CredentialProvider(ctx, &cp.UpdateOauth2CredentialProviderInput{
		Name: aws.String(name), CredentialProviderVendor: types.CredentialProviderVendorType(cfg.Vendor),
		Oauth2ProviderConfigInput: cfg.input,
	})
	if err != nil {
		return nil, wrapErr("UpdateOauth2CredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindOAuth2,
		Vendor: Vendor(out.CredentialProviderVendor), CallbackURL: aws.ToString(out.CallbackUrl), Status: string(out.Status),
		SecretARN: secretARN(out.ClientSecretArn), Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// GetOAuth2CredentialProvider returns an OAuth2 provider (ErrNotFound if absent).
func (c *Client) GetOAuth2CredentialProvider(ctx context.Context, name string) (*CredentialProvider, error) {
	out, err := c.control.GetOauth2CredentialProvider(ctx, &cp.GetOauth2CredentialProviderInput{Name: aws.String(name)})
	if err != nil {
		return nil, wrapErr("GetOauth2CredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindOAuth2,
		Vendor: Vendor(out.CredentialProviderVendor), CallbackURL: aws.ToString(out.CallbackUrl), Status: string(out.Status),
		FailureReason: aws.ToString(out.FailureReason), SecretARN: secretARN(out.ClientSecretArn),
		Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// DeleteOAuth2CredentialProvider deletes an OAuth2 provider and its secret.
func (c *Client) DeleteOAuth2CredentialProvider(ctx context.Context, name string) error {
	_, err := c.control.DeleteOauth2CredentialProvider(ctx, &cp.DeleteOauth2CredentialProviderInput{Name: aws.String(name)})
	return wrapErr("DeleteOauth2CredentialProvider", err)
}

// ListOAuth2CredentialProviders returns every OAuth2 provider.
func (c *Client) ListOAuth2CredentialProviders(ctx context.Context) ([]CredentialProvider, error) {
	var all []CredentialProvider
	p := cp.NewListOauth2CredentialProvidersPaginator(c.control, &cp.ListOauth2CredentialProvidersInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("ListOauth2CredentialProviders", err)
		}
		for _, it := range page.CredentialProviders {
			all = append(all, CredentialProvider{
				Name: aws.ToString(it.Name), ARN: aws.ToString(it.CredentialProviderArn), Kind: KindOAuth2,
				Vendor: Vendor(it.CredentialProviderVendor), Created: aws.ToTime(it.CreatedTime), Updated: aws.ToTime(it.LastUpdatedTime),
			})
		}
	}
	return all, nil
}

// CreateAPIKeyCredentialProvider stores apiKey in the token vault under name.
func (c *Client) CreateAPIKeyCredentialProvider(ctx context.Context, name, apiKey string) (*CredentialProvider, error) {
	out, err := c.control.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
		Name: aws.String(name), ApiKey: aws.String(apiKey),
	})
	if err != nil {
		return nil, wrapErr("CreateApiKeyCredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindAPIKey,
		SecretARN: secretARN(out.ApiKeySecretArn),
	}, nil
}

// UpdateAPIKeyCredentialProvider replaces (rotates) the stored key.
func (c *Client) UpdateAPIKeyCredentialProvider(ctx context.Context, name, apiKey string) (*CredentialProvider, error) {
	out, err := c.control.UpdateApiKeyCredentialProvider(ctx, &cp.UpdateApiKeyCredentialProviderInput{
		Name: aws.String(name), ApiKey: aws.String(apiKey),
	})
	if err != nil {
		return nil, wrapErr("UpdateApiKeyCredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindAPIKey,
		SecretARN: secretARN(out.ApiKeySecretArn), Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// GetAPIKeyCredentialProvider returns an API-key provider (not the key).
func (c *Client) GetAPIKeyCredentialProvider(ctx context.Context, name string) (*CredentialProvider, error) {
	out, err := c.control.GetApiKeyCredentialProvider(ctx, &cp.GetApiKeyCredentialProviderInput{Name: aws.String(name)})
	if err != nil {
		return nil, wrapErr("GetApiKeyCredentialProvider", err)
	}
	return &CredentialProvider{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.CredentialProviderArn), Kind: KindAPIKey,
		SecretARN: secretARN(out.ApiKeySecretArn), Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// DeleteAPIKeyCredentialProvider deletes an API-key provider and its key.
func (c *Client) DeleteAPIKeyCredentialProvider(ctx context.Context, name string) error {
	_, err := c.control.DeleteApiKeyCredentialProvider(ctx, &cp.DeleteApiKeyCredentialProviderInput{Name: aws.String(name)})
	return wrapErr("DeleteApiKeyCredentialProvider", err)
}

// ListAPIKeyCredentialProviders returns every API-key provider.
func (c *Client) ListAPIKeyCredentialProviders(ctx context.Context) ([]CredentialProvider, error) {
	var all []CredentialProvider
	p := cp.NewListApiKeyCredentialProvidersPaginator(c.control, &cp.ListApiKeyCredentialProvidersInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("ListApiKeyCredentialProviders", err)
		}
		for _, it := range page.CredentialProviders {
			all = append(all, CredentialProvider{
				Name: aws.ToString(it.Name), ARN: aws.ToString(it.CredentialProviderArn), Kind: KindAPIKey,
				Created: aws.ToTime(it.CreatedTime), Updated: aws.ToTime(it.LastUpdatedTime),
			})
		}
	}
	return all, nil
}

// ListCredentialProviders returns the providers of both kinds, sorted by
// name (OAuth2 first on a tie). The service has no such operation; this is
// the list the CLI's list-credential-providers shows.
func (c *Client) ListCredentialProviders(ctx context.Context) ([]CredentialProvider, error) {
	oauth, err := c.ListOAuth2CredentialProviders(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := c.ListAPIKeyCredentialProviders(ctx)
	if err != nil {
		return nil, err
	}
	all := append(oauth, keys...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// GetCredentialProvider looks name up as an OAuth2 provider, then as an
// API-key provider.
func (c *Client) GetCredentialProvider(ctx context.Context, name string) (*CredentialProvider, error) {
	p, err := c.GetOAuth2CredentialProvider(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return c.GetAPIKeyCredentialProvider(ctx, name)
	}
	return p, err
}

// DeleteCredentialProvider deletes the provider called name, of whichever
// kind (both, if both kinds use the name).
func (c *Client) DeleteCredentialProvider(ctx context.Context, name string) error {
	oerr := c.DeleteOAuth2CredentialProvider(ctx, name)
	if oerr != nil && !errors.Is(oerr, ErrNotFound) {
		return oerr
	}
	kerr := c.DeleteAPIKeyCredentialProvider(ctx, name)
	if kerr != nil && !errors.Is(kerr, ErrNotFound) {
		return kerr
	}
	if oerr != nil && kerr != nil {
		return kerr // not found as either kind
	}
	return nil
}
