package credprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

const (
	apiKeyWhat  = "API key credential provider"
	apiKeyField = "apiKey"
	// MaxAPIKeyLen is the model's bound on apiKey.
	MaxAPIKeyLen = 65536
)

// APIKeyInput is the key part of Create/UpdateApiKeyCredentialProvider, in
// its wire shape. Only a MANAGED key passed as apiKey is supported; the
// Secrets Manager members are accepted on the wire so they can be rejected
// with a clear message.
type APIKeyInput struct {
	APIKey             *string          `json:"apiKey,omitempty"`
	APIKeySecretSource *string          `json:"apiKeySecretSource,omitempty"`
	APIKeySecretConfig *SecretReference `json:"apiKeySecretConfig,omitempty"`
}

// APIKeyProvider is an API key credential provider, without its key.
type APIKeyProvider struct {
	Name      string
	ARN       string
	SecretARN string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// apiKeyDoc is the stored document.
type apiKeyDoc struct {
	Name string `json:"name"`
	// SealedKey is the seal envelope of the key, bound to (kind, account,
	// name, "apiKey").
	SealedKey    []byte `json:"apiKeySealed"`
	SecretSuffix string `json:"secretSuffix"`
}

func validateAPIKey(v *validate.Errors, name string, in APIKeyInput) {
	ValidateName(v, "name", name)
	rejectExternalSecret(v, "", "apiKeySecretSource", "apiKeySecretConfig", in.APIKeySecretSource, in.APIKeySecretConfig != nil)
	if v.Required("apiKey", in.APIKey != nil) {
		v.String("apiKey", *in.APIKey, 1, MaxAPIKeyLen, nil)
	}
}

// CreateAPIKey makes a new API key credential provider.
func (s *Service) CreateAPIKey(ctx context.Context, account, name string, in APIKeyInput, tags map[string]string) (APIKeyProvider, error) {
	var v validate.Errors
	validateAPIKey(&v, name, in)
	v.Tags("tags", tags)
	if err := v.Err(); err != nil {
		return APIKeyProvider{}, err
	}
	sealed, err := s.sealField(ctx, APIKeyKind, account, name, apiKeyField, *in.APIKey)
	if err != nil {
		return APIKeyProvider{}, err
	}
	data, err := json.Marshal(apiKeyDoc{Name: name, SealedKey: sealed, SecretSuffix: secretSuffix()})
	if err != nil {
		return APIKeyProvider{}, awserr.Internal(err)
	}
	var rec store.Record
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Create(ctx, store.Record{Kind: APIKeyKind, Account: account, Key: name, Data: data},
			store.CreateOptions{MaxCount: s.cfg.MaxAPIKey})
		if err != nil {
			return err
		}
		return s.tags.Set(ctx, tx, account, arn.APIKeyProvider(s.cfg.Region, account, name), tags)
	})
	if err := s.createErr(err, apiKeyWhat, name, s.cfg.MaxAPIKey); err != nil {
		return APIKeyProvider{}, err
	}
	p, _, err := s.apiKeyFromRecord(rec)
	return p, err
}

// GetAPIKey returns one provider, without its key.
func (s *Service) GetAPIKey(ctx context.Context, account, name string) (APIKeyProvider, error) {
	p, _, err := s.getAPIKey(ctx, account, name)
	return p, err
}

// APIKey returns the unsealed key of a provider, for the data plane. It
// must never be logged or returned by the control plane.
func (s *Service) APIKey(ctx context.Context, account, name string) (string, error) {
	_, d, err := s.getAPIKey(ctx, account, name)
	if err != nil {
		return "", err
	}
	return s.openField(ctx, APIKeyKind, account, name, apiKeyField, d.SealedKey)
}

func (s *Service) getAPIKey(ctx context.Context, account, name string) (APIKeyProvider, apiKeyDoc, error) {
	if err := checkName(name); err != nil {
		return APIKeyProvider{}, apiKeyDoc{}, err
	}
	rec, err := s.store.Get(ctx, APIKeyKind, account, name)
	if err != nil {
		return APIKeyProvider{}, apiKeyDoc{}, notFound(err, apiKeyWhat, name)
	}
	return s.apiKeyFromRecord(rec)
}

// UpdateAPIKey replaces a provider's key; its secret ARN and tags are kept.
func (s *Service) UpdateAPIKey(ctx context.Context, account, name string, in APIKeyInput) (APIKeyProvider, error) {
	var v validate.Errors
	validateAPIKey(&v, name, in)
	if err := v.Err(); err != nil {
		return APIKeyProvider{}, err
	}
	sealed, err := s.sealField(ctx, APIKeyKind, account, name, apiKeyField, *in.APIKey)
	if err != nil {
		return APIKeyProvider{}, err
	}
	rec, err := s.store.Update(ctx, APIKeyKind, account, name, func(cur store.Record) (store.Record, error) {
		var d apiKeyDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode %s %q: %w", apiKeyWhat, name, err)
		}
		d.SealedKey = sealed
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	if err != nil {
		return APIKeyProvider{}, notFound(err, apiKeyWhat, name)
	}
	p, _, err := s.apiKeyFromRecord(rec)
	return p, err
}

// DeleteAPIKey removes a provider and its tags.
func (s *Service) DeleteAPIKey(ctx context.Context, account, name string) error {
	return s.deleteProvider(ctx, APIKeyKind, apiKeyWhat, arn.APIKeyProvider(s.cfg.Region, account, name), account, name)
}

// ListAPIKeys returns a page of providers in name order.
func (s *Service) ListAPIKeys(ctx context.Context, account string, limit int, after string) ([]APIKeyProvider, string, error) {
	return listProviders(ctx, s.store, APIKeyKind, account, limit, after, s.apiKeyFromRecord)
}

func (s *Service) apiKeyFromRecord(rec store.Record) (APIKeyProvider, apiKeyDoc, error) {
	var d apiKeyDoc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return APIKeyProvider{}, d, awserr.Internal(fmt.Errorf("decode %s %q: %w", apiKeyWhat, rec.Key, err))
	}
	return APIKeyProvider{
		Name:      d.Name,
		ARN:       arn.APIKeyProvider(s.cfg.Region, rec.Account, d.Name),
		SecretARN: arn.Secret(s.cfg.Region, rec.Account, "apikey", d.Name, d.SecretSuffix),
		CreatedAt: rec.CreatedAt,
		UpdatedAt: rec.UpdatedAt,
	}, d, nil
}
