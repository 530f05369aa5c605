// Package tokenvault is the token vault: the per-account container of
// credentials vended to workloads, with its encryption settings. Token
// records per (workload, user, provider) live here too.
package tokenvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// Kind is the store kind of vault settings.
const Kind = "token-vault"

// DefaultID is the id of the vault every account has.
const DefaultID = "default"

// Key types of kmsConfiguration.
const (
	ServiceManagedKey  = "ServiceManagedKey"
	CustomerManagedKey = "CustomerManagedKey"
)

var (
	vaultIDRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
	kmsARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[a-zA-Z0-9/_-]+$`)
)

// KMSConfiguration says which key protects the vault.
type KMSConfiguration struct {
	KeyType   string `json:"keyType"`
	KMSKeyARN string `json:"kmsKeyArn,omitempty"`
}

// Vault is a token vault's settings.
type Vault struct {
	ID             string
	KMS            KMSConfiguration
	LastModifiedAt time.Time
}

// Service manages vault settings.
type Service struct {
	store store.Store
	now   func() time.Time
}

// NewService builds the service.
func NewService(st store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, now: now}
}

func validateID(id string) (string, error) {
	if id == "" {
		return DefaultID, nil
	}
	var v validate.Errors
	v.String("tokenVaultId", id, 1, 64, vaultIDRE)
	if err := v.Err(); err != nil {
		return "", err
	}
	if id != DefaultID {
		return "", awserr.NotFound("Token vault %q not found.", id)
	}
	return id, nil
}

// Get returns the vault's settings; a vault never configured uses a
// service-managed key.
func (s *Service) Get(ctx context.Context, account, id string) (Vault, error) {
	id, err := validateID(id)
	if err != nil {
		return Vault{}, err
	}
	rec, err := s.store.Get(ctx, Kind, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return Vault{ID: id, KMS: KMSConfiguration{KeyType: ServiceManagedKey}, LastModifiedAt: s.now()}, nil
	}
	if err != nil {
		return Vault{}, awserr.Internal(err)
	}
	return fromRecord(rec)
}

// SetCMK records which key protects the vault. Secrets are sealed by the
// server's key-encryption key whatever is configured here; the setting is
// kept so that tooling which manages it round-trips.
func (s *Service) SetCMK(ctx context.Context, account, id string, kms *KMSConfiguration) (Vault, error) {
	id, err := validateID(id)
	if err != nil {
		return Vault{}, err
	}
	var v validate.Errors
	if v.Required("kmsConfiguration", kms != nil) {
		if v.OneOf("kmsConfiguration.keyType", kms.KeyType, CustomerManagedKey, ServiceManagedKey) {
			switch kms.KeyType {
			case CustomerManagedKey:
				if v.Required("kmsConfiguration.kmsKeyArn", kms.KMSKeyARN != "") {
					v.String("kmsConfiguration.kmsKeyArn", kms.KMSKeyARN, 1, 2048, kmsARNRE)
				}
			case ServiceManagedKey:
				if kms.KMSKeyARN != "" {
					v.Add("kmsConfiguration.kmsKeyArn", "Member must be absent when keyType is ServiceManagedKey")
				}
			}
		}
	}
	if err := v.Err(); err != nil {
		return Vault{}, err
	}
	data, err := json.Marshal(*kms)
	if err != nil {
		return Vault{}, awserr.Internal(err)
	}
	var rec store.Record
	err = s.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Update(ctx, Kind, account, id, func(cur store.Record) (store.Record, error) {
			cur.Data = data
			return cur, nil
		})
		if errors.Is(err, store.ErrNotFound) {
			rec, err = tx.Create(ctx, store.Record{Kind: Kind, Account: account, Key: id, Data: data}, store.CreateOptions{})
		}
		return err
	})
	if err != nil {
		return Vault{}, awserr.As(err)
	}
	return fromRecord(rec)
}

func fromRecord(rec store.Record) (Vault, error) {
	var kms KMSConfiguration
	if err := json.Unmarshal(rec.Data, &kms); err != nil {
		return Vault{}, awserr.Internal(fmt.Errorf("decode token vault %q: %w", rec.Key, err))
	}
	return Vault{ID: rec.Key, KMS: kms, LastModifiedAt: rec.UpdatedAt}, nil
}
