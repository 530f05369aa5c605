// Package credprovider is the credential provider domain: the OAuth2 client
// registrations (per vendor) and API keys that agents obtain tokens or keys
// through. Client secrets and API keys are sealed before they reach the
// store and are only ever unsealed for the data plane (ResolveOAuth2,
// APIKey); no output of the control plane carries them.
package credprovider

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// Store kinds.
const (
	OAuth2Kind = "oauth2-credential-provider"
	APIKeyKind = "apikey-credential-provider"
)

// Default per-account quotas.
const (
	DefaultMaxOAuth2 = 100
	DefaultMaxAPIKey = 50
)

// StatusReady is the only status a provider has here: creation is
// synchronous, so CREATING/UPDATING are never observable.
const StatusReady = "READY"

// SecretSourceManaged is the only secret source this server supports.
const SecretSourceManaged = "MANAGED"

// CallbackPath is appended to Config.CallbackBaseURL, followed by the
// provider's callback id, to form its callbackUrl.
const CallbackPath = "/identities/oauth2/callback/"

// NameRE is the credential provider name pattern from the model.
var NameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)

// Config tunes the service.
type Config struct {
	// Region goes into ARNs.
	Region string
	// CallbackBaseURL is this server's public base URL, e.g.
	// http://127.0.0.1:8400.
	CallbackBaseURL string
	// MaxOAuth2 and MaxAPIKey are per-account quotas; <= 0 means default.
	MaxOAuth2 int
	MaxAPIKey int
}

// Service manages credential providers.
type Service struct {
	store  store.Store
	sealer seal.Sealer
	tags   *tagging.Service
	cfg    Config
}

// NewService builds the service.
func NewService(st store.Store, sealer seal.Sealer, tags *tagging.Service, cfg Config) *Service {
	if cfg.MaxOAuth2 <= 0 {
		cfg.MaxOAuth2 = DefaultMaxOAuth2
	}
	if cfg.MaxAPIKey <= 0 {
		cfg.MaxAPIKey = DefaultMaxAPIKey
	}
	return &Service{store: st, sealer: sealer, tags: tags, cfg: cfg}
}

// RegisterTags makes both provider kinds taggable. Call at start-up.
func (s *Service) RegisterTags(t *tagging.Service) {
	t.Register(arn.OAuth2ProviderPrefix, func(ctx context.Context, account, name string) (bool, error) {
		return s.exists(ctx, OAuth2Kind, account, name)
	})
	t.Register(arn.APIKeyProviderPrefix, func(ctx context.Context, account, name string) (bool, error) {
		return s.exists(ctx, APIKeyKind, account, name)
	})
}

func (s *Service) exists(ctx context.Context, kind, account, name string) (bool, error) {
	_, err := s.store.Get(ctx, kind, account, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Secret holds a plaintext secret handed to the data plane. Its String,
// GoString, LogValue and MarshalJSON all redact, so printing, logging or
// serializing a provider never leaks it; use Reveal to get the value.
type Secret string

const redacted = "[REDACTED]"

// Reveal returns the plaintext.
func (s Secret) Reveal() string { return string(s) }

func (Secret) String() string   { return redacted }
func (Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// ValidateName checks a credential provider name.
func ValidateName(v *validate.Errors, field, name string) {
	v.String(field, name, 1, 128, NameRE)
}

func checkName(name string) error {
	var v validate.Errors
	ValidateName(&v, "name", name)
	return v.Err()
}

// sealField seals a secret bound to its record and field.
func (s *Service) sealField(ctx context.Context, kind, account, name, field, plaintext string) ([]byte, error) {
	env, err := s.sealer.Seal(ctx, []byte(plaintext), seal.AAD(kind, account, name, field))
	if err != nil {
		return nil, awserr.Internal(fmt.Errorf("seal %s of %s %q: %w", field, kind, name, err))
	}
	return env, nil
}

// openField reverses sealField.
func (s *Service) openField(ctx context.Context, kind, account, name, field string, env []byte) (string, error) {
	pt, err := s.sealer.Open(ctx, env, seal.AAD(kind, account, name, field))
	if err != nil {
		return "", awserr.Internal(fmt.Errorf("open %s of %s %q: %w", field, kind, name, err))
	}
	return string(pt), nil
}

// secretSuffix is the random six-character suffix of a secret ARN, as
// Secrets Manager makes them. It only keeps ARNs of re-created providers
// distinct; it is not secret, so the slight modulo bias does not matter.
func secretSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// createErr maps store errors of a create. The store reports a duplicate
// name as ErrConflict even when the account is also at its quota.
func (s *Service) createErr(err error, what, name string, quota int) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrLimitExceeded):
		return awserr.QuotaExceeded("The number of %ss in this account has reached its limit of %d.", what, quota)
	case errors.Is(err, store.ErrConflict):
		return awserr.Conflict("A %s named %q already exists.", what, name)
	default:
		return awserr.As(err)
	}
}

// notFound maps store errors of a read, update or delete.
func notFound(err error, what, name string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return awserr.NotFound("The %s %q was not found.", what, name)
	default:
		return awserr.As(err)
	}
}

// rejectExternalSecret reports the Secrets Manager-backed secret options,
// which need AWS Secrets Manager and are not offered by this server.
func rejectExternalSecret(v *validate.Errors, prefix, sourceMember, configMember string, source *string, hasConfig bool) {
	if source != nil && *source != SecretSourceManaged {
		if !v.OneOf(prefix+sourceMember, *source, SecretSourceManaged, "EXTERNAL") {
			return
		}
		v.Add(prefix+sourceMember, "EXTERNAL secrets (AWS Secrets Manager) are not supported by this server; use %s", SecretSourceManaged)
	}
	if hasConfig {
		v.Add(prefix+configMember, "External secret references (AWS Secrets Manager) are not supported by this server; pass the secret value instead")
	}
}

// deleteProvider removes a provider record of kind and its tags in one
// transaction; resource is the provider's ARN.
func (s *Service) deleteProvider(ctx context.Context, kind, what, resource, account, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, kind, account, name); err != nil {
			return err
		}
		return s.tags.Set(ctx, tx, account, resource, nil)
	})
	return notFound(err, what, name)
}

// listProviders returns a page of kind's providers in name order, each
// decoded by from.
func listProviders[P, D any](ctx context.Context, st store.Store, kind, account string, limit int, after string, from func(store.Record) (P, D, error)) ([]P, string, error) {
	page, err := st.List(ctx, kind, account, store.ListOptions{After: after, Limit: limit})
	if err != nil {
		return nil, "", awserr.Internal(err)
	}
	out := make([]P, 0, len(page.Records))
	for _, rec := range page.Records {
		p, _, err := from(rec)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, page.Next, nil
}
