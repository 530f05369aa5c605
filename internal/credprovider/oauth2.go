package credprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

const (
	oauth2What        = "OAuth2 credential provider"
	clientSecretField = "clientSecret"
)

// Endpoints are the OAuth2 endpoints a provider resolves to.
type Endpoints struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
}

// OAuth2Provider is an OAuth2 credential provider as the rest of the
// service sees it.
type OAuth2Provider struct {
	Name   string
	ARN    string
	Vendor string
	// VendorInfo is the catalog entry (endpoints, quirks) of Vendor.
	VendorInfo VendorInfo
	ClientID   string
	// ClientSecret is set only by ResolveOAuth2.
	ClientSecret Secret
	SecretARN    string
	CallbackID   string
	CallbackURL  string
	Status       string
	// DiscoveryURL is set for custom providers configured by discovery
	// URL; Endpoints are then empty and the data plane must fetch it.
	DiscoveryURL string
	// Metadata is what oauthDiscovery.authorizationServerMetadata reports:
	// the custom metadata as given, or the vendor's effective endpoints.
	// Nil when DiscoveryURL is set.
	Metadata *AuthServerMetadata
	// Endpoints are the effective endpoints (catalog, tenant and
	// configuration combined).
	Endpoints Endpoints
	// TokenAuthMethod is client_secret_basic or client_secret_post; empty
	// when it is to be chosen from the discovery document.
	TokenAuthMethod string
	TenantID        string
	// ClientAuthenticationMethod and OnBehalfOf are custom-only wire values.
	ClientAuthenticationMethod string
	OnBehalfOf                 *OnBehalfOfTokenExchangeConfig
	CreatedAt                  time.Time
	UpdatedAt                  time.Time
}

// oauth2Doc is the stored document.
type oauth2Doc struct {
	Name   string       `json:"name"`
	Vendor string       `json:"vendor"`
	Config storedConfig `json:"config"`
	// SealedSecret is the seal envelope of the client secret (base64 in
	// JSON), bound to (kind, account, name, "clientSecret").
	SealedSecret []byte `json:"clientSecretSealed"`
	// CallbackID is made at create and never changes, so the callback URL
	// registered at the vendor stays valid across updates.
	CallbackID   string `json:"callbackId"`
	SecretSuffix string `json:"secretSuffix"`
	Status       string `json:"status"`
}

// CreateOAuth2 makes a new OAuth2 credential provider.
func (s *Service) CreateOAuth2(ctx context.Context, account, name, vendor string, in OAuth2ConfigInput, tags map[string]string) (OAuth2Provider, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	_, cfg, secret := validateOAuth2(&v, vendor, in, true)
	v.Tags("tags", tags)
	if err := v.Err(); err != nil {
		return OAuth2Provider{}, err
	}
	sealed, err := s.sealField(ctx, OAuth2Kind, account, name, clientSecretField, *secret)
	if err != nil {
		return OAuth2Provider{}, err
	}
	data, err := json.Marshal(oauth2Doc{
		Name: name, Vendor: vendor, Config: cfg, SealedSecret: sealed,
		CallbackID: uuid.NewString(), SecretSuffix: secretSuffix(), Status: StatusReady,
	})
	if err != nil {
		return OAuth2Provider{}, awserr.Internal(err)
	}
	var rec store.Record
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Create(ctx, store.Record{Kind: OAuth2Kind, Account: account, Key: name, Data: data},
			store.CreateOptions{MaxCount: s.cfg.MaxOAuth2})
		if err != nil {
			return err
		}
		return s.tags.Set(ctx, tx, account, arn.OAuth2Provider(s.cfg.Region, account, name), tags)
	})
	if err := s.createErr(err, oauth2What, name, s.cfg.MaxOAuth2); err != nil {
		return OAuth2Provider{}, err
	}
	p, _, err := s.oauth2FromRecord(rec)
	return p, err
}

// GetOAuth2 returns one provider, without its secret.
func (s *Service) GetOAuth2(ctx context.Context, account, name string) (OAuth2Provider, error) {
	p, _, err := s.getOAuth2(ctx, account, name)
	return p, err
}

// ResolveOAuth2 returns a provider with its client secret unsealed, for the
// data plane's token requests. The secret must never be logged or returned
// to a caller.
func (s *Service) ResolveOAuth2(ctx context.Context, account, name string) (OAuth2Provider, error) {
	p, d, err := s.getOAuth2(ctx, account, name)
	if err != nil {
		return OAuth2Provider{}, err
	}
	secret, err := s.openField(ctx, OAuth2Kind, account, name, clientSecretField, d.SealedSecret)
	if err != nil {
		return OAuth2Provider{}, err
	}
	p.ClientSecret = Secret(secret)
	return p, nil
}

func (s *Service) getOAuth2(ctx context.Context, account, name string) (OAuth2Provider, oauth2Doc, error) {
	if err := checkName(name); err != nil {
		return OAuth2Provider{}, oauth2Doc{}, err
	}
	rec, err := s.store.Get(ctx, OAuth2Kind, account, name)
	if err != nil {
		return OAuth2Provider{}, oauth2Doc{}, notFound(err, oauth2What, name)
	}
	return s.oauth2FromRecord(rec)
}

// UpdateOAuth2 replaces a provider's vendor and configuration. The client
// secret is replaced only when the new configuration carries one; otherwise
// the stored secret is kept, so a caller can change the configuration
// without re-sending the secret. The callback id, secret ARN and tags are
// kept. The vendor may change too, since the model requires it on update.
func (s *Service) UpdateOAuth2(ctx context.Context, account, name, vendor string, in OAuth2ConfigInput) (OAuth2Provider, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	_, cfg, secret := validateOAuth2(&v, vendor, in, false)
	if err := v.Err(); err != nil {
		return OAuth2Provider{}, err
	}
	var sealed []byte
	if secret != nil {
		var err error
		if sealed, err = s.sealField(ctx, OAuth2Kind, account, name, clientSecretField, *secret); err != nil {
			return OAuth2Provider{}, err
		}
	}
	rec, err := s.store.Update(ctx, OAuth2Kind, account, name, func(cur store.Record) (store.Record, error) {
		var d oauth2Doc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode %s %q: %w", oauth2What, name, err)
		}
		d.Vendor, d.Config = vendor, cfg
		if sealed != nil {
			d.SealedSecret = sealed
		}
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	if err != nil {
		return OAuth2Provider{}, notFound(err, oauth2What, name)
	}
	p, _, err := s.oauth2FromRecord(rec)
	return p, err
}

// DeleteOAuth2 removes a provider and its tags.
func (s *Service) DeleteOAuth2(ctx context.Context, account, name string) error {
	return s.deleteProvider(ctx, OAuth2Kind, oauth2What, arn.OAuth2Provider(s.cfg.Region, account, name), account, name)
}

// ListOAuth2 returns a page of providers in name order.
func (s *Service) ListOAuth2(ctx context.Context, account string, limit int, after string) ([]OAuth2Provider, string, error) {
	return listProviders(ctx, s.store, OAuth2Kind, account, limit, after, s.oauth2FromRecord)
}

func (s *Service) oauth2FromRecord(rec store.Record) (OAuth2Provider, oauth2Doc, error) {
	var d oauth2Doc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return OAuth2Provider{}, d, awserr.Internal(fmt.Errorf("decode %s %q: %w", oauth2What, rec.Key, err))
	}
	info, ok := Vendor(d.Vendor)
	if !ok {
		return OAuth2Provider{}, d, awserr.Internal(fmt.Errorf("%s %q has unknown vendor %q", oauth2What, rec.Key, d.Vendor))
	}
	p := OAuth2Provider{
		Name:                       d.Name,
		ARN:                        arn.OAuth2Provider(s.cfg.Region, rec.Account, d.Name),
		Vendor:                     d.Vendor,
		VendorInfo:                 info,
		ClientID:                   d.Config.ClientID,
		SecretARN:                  arn.Secret(s.cfg.Region, rec.Account, "oauth2", d.Name, d.SecretSuffix),
		CallbackID:                 d.CallbackID,
		CallbackURL:                strings.TrimRight(s.cfg.CallbackBaseURL, "/") + CallbackPath + d.CallbackID,
		Status:                     d.Status,
		TenantID:                   d.Config.TenantID,
		ClientAuthenticationMethod: d.Config.ClientAuthenticationMethod,
		OnBehalfOf:                 d.Config.OnBehalfOf,
		CreatedAt:                  rec.CreatedAt,
		UpdatedAt:                  rec.UpdatedAt,
	}
	resolveEndpoints(&p, info, d.Config)
	return p, d, nil
}

// resolveEndpoints fills DiscoveryURL, Metadata, Endpoints and
// TokenAuthMethod from the catalog and the stored configuration.
func resolveEndpoints(p *OAuth2Provider, info VendorInfo, cfg storedConfig) {
	if info.ConfigMember == MemberCustom {
		p.TokenAuthMethod = customAuthMethod(cfg)
		if cfg.DiscoveryURL != "" {
			p.DiscoveryURL = cfg.DiscoveryURL
			return
		}
		if cfg.Metadata != nil {
			md := *cfg.Metadata
			p.Metadata = &md
			p.Endpoints = Endpoints{md.Issuer, md.AuthorizationEndpoint, md.TokenEndpoint}
		}
		return
	}
	ep := info.endpoints(cfg.TenantID)
	if o := cfg.Metadata; o != nil { // included-config endpoints win over the catalog
		ep.Issuer = firstNonEmpty(o.Issuer, ep.Issuer)
		ep.AuthorizationEndpoint = firstNonEmpty(o.AuthorizationEndpoint, ep.AuthorizationEndpoint)
		ep.TokenEndpoint = firstNonEmpty(o.TokenEndpoint, ep.TokenEndpoint)
	}
	p.Endpoints = ep
	p.TokenAuthMethod = info.TokenAuthMethod
	p.Metadata = &AuthServerMetadata{
		Issuer:                ep.Issuer,
		AuthorizationEndpoint: ep.AuthorizationEndpoint,
		TokenEndpoint:         ep.TokenEndpoint,
		ResponseTypes:         []string{"code"},
	}
}

// customAuthMethod is the token endpoint auth method of a custom provider:
// the explicit method, else the first one its metadata lists, else
// client_secret_basic (which RFC 6749 requires servers to support); empty
// for discovery-URL providers without an explicit method, whose discovery
// document decides.
func customAuthMethod(cfg storedConfig) string {
	switch cfg.ClientAuthenticationMethod {
	case methodClientSecretBasic:
		return AuthClientSecretBasic
	case methodClientSecretPost:
		return AuthClientSecretPost
	}
	if cfg.Metadata != nil {
		if len(cfg.Metadata.TokenEndpointAuthMethods) > 0 {
			return cfg.Metadata.TokenEndpointAuthMethods[0]
		}
		return AuthClientSecretBasic
	}
	return ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
