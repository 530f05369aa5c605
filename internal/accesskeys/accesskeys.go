// Package accesskeys holds the AWS-style access keys callers sign requests
// with. Secrets are sealed at rest; a key maps to the principal it acts as.
package accesskeys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/sigv4"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Kind is the store kind of access keys. Keys are global (account ""), since
// the key id is what identifies the account.
const Kind = "access-key"

// Key is an access key and the principal it authenticates as.
type Key struct {
	AccessKeyID string
	// SecretAccessKey is only filled when a key is created or resolved for
	// signature verification.
	SecretAccessKey string
	AccountID       string
	ARN             string
	UserID          string
	Admin           bool
	// AllowedAudiences limits STS GetWebIdentityToken for non-admin keys.
	AllowedAudiences []string
	CreatedAt        time.Time
}

type doc struct {
	AccountID        string   `json:"accountId"`
	ARN              string   `json:"arn"`
	UserID           string   `json:"userId"`
	Admin            bool     `json:"admin,omitempty"`
	AllowedAudiences []string `json:"allowedAudiences,omitempty"`
	SealedSecret     []byte   `json:"secret"`
}

// Service stores keys and resolves them for SigV4.
type Service struct {
	store  store.Store
	sealer seal.Sealer
	now    func() time.Time
	// cache keeps unsealed secrets of recently used keys: every signed
	// request needs one, and unwrapping per request would dominate latency.
	// An entry is trusted for revalidateAfter; then one point read checks
	// the key still exists at the same version (another replica may have
	// deleted or changed it) before it is trusted again.
	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	key       Key
	version   int64
	checkedAt time.Time
}

// revalidateAfter bounds how long a key deleted or changed on another
// replica keeps working here (on this replica, the change is immediate).
const revalidateAfter = 5 * time.Second

// NewService builds the service.
func NewService(st store.Store, sealer seal.Sealer) *Service {
	return &Service{store: st, sealer: sealer, now: time.Now, cache: map[string]cached{}}
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomString(n int, alphabet string) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String(), nil
}

// Create makes a new key for the principal described by k (ID and secret
// are generated) and returns it with its secret.
func (s *Service) Create(ctx context.Context, k Key) (Key, error) {
	return s.CreateIn(ctx, s.store, k)
}

// CreateIn is Create inside a caller's transaction.
func (s *Service) CreateIn(ctx context.Context, tx store.Tx, k Key) (Key, error) {
	id, err := randomString(16, idAlphabet)
	if err != nil {
		return Key{}, err
	}
	k.AccessKeyID = "AKIA" + id
	raw := make([]byte, 30)
	if _, err := rand.Read(raw); err != nil {
		return Key{}, err
	}
	k.SecretAccessKey = base64.StdEncoding.EncodeToString(raw) // 40 characters, like AWS
	if k.UserID == "" {
		uid, err := randomString(17, idAlphabet)
		if err != nil {
			return Key{}, err
		}
		k.UserID = "AIDA" + uid
	}
	sealed, err := s.sealer.Seal(ctx, []byte(k.SecretAccessKey), seal.AAD(Kind, "", k.AccessKeyID, "secret"))
	if err != nil {
		return Key{}, fmt.Errorf("seal access key secret: %w", err)
	}
	data, err := json.Marshal(doc{AccountID: k.AccountID, ARN: k.ARN, UserID: k.UserID, Admin: k.Admin,
		AllowedAudiences: k.AllowedAudiences, SealedSecret: sealed})
	if err != nil {
		return Key{}, err
	}
	rec, err := tx.Create(ctx, store.Record{Kind: Kind, Key: k.AccessKeyID, Data: data}, store.CreateOptions{})
	if err != nil {
		return Key{}, fmt.Errorf("store access key: %w", err)
	}
	k.CreatedAt = rec.CreatedAt
	return k, nil
}

// Resolve returns the key with its unsealed secret.
func (s *Service) Resolve(ctx context.Context, accessKeyID string) (Key, error) {
	s.mu.RLock()
	c, ok := s.cache[accessKeyID]
	s.mu.RUnlock()
	now := s.now()
	if ok && now.Sub(c.checkedAt) < revalidateAfter {
		return c.key, nil
	}
	rec, err := s.store.Get(ctx, Kind, "", accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		s.forget(accessKeyID)
		return Key{}, fmt.Errorf("access key %s: %w", accessKeyID, sigv4.ErrUnknownKey)
	}
	if err != nil {
		return Key{}, fmt.Errorf("load access key: %w", err)
	}
	k := c.key
	if !ok || c.version != rec.Version {
		if k, err = s.open(ctx, rec); err != nil {
			return Key{}, err
		}
	}
	s.mu.Lock()
	if len(s.cache) > 10000 { // bounded: drop everything rather than track recency
		s.cache = map[string]cached{}
	}
	s.cache[accessKeyID] = cached{key: k, version: rec.Version, checkedAt: now}
	s.mu.Unlock()
	return k, nil
}

func (s *Service) open(ctx context.Context, rec store.Record) (Key, error) {
	var d doc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return Key{}, fmt.Errorf("decode access key: %w", err)
	}
	secret, err := s.sealer.Open(ctx, d.SealedSecret, seal.AAD(Kind, "", rec.Key, "secret"))
	if err != nil {
		return Key{}, fmt.Errorf("open access key secret: %w", err)
	}
	return Key{AccessKeyID: rec.Key, SecretAccessKey: string(secret), AccountID: d.AccountID, ARN: d.ARN,
		UserID: d.UserID, Admin: d.Admin, AllowedAudiences: d.AllowedAudiences, CreatedAt: rec.CreatedAt}, nil
}

func (s *Service) forget(accessKeyID string) {
	s.mu.Lock()
	delete(s.cache, accessKeyID)
	s.mu.Unlock()
}

// DeleteIn removes a key inside a caller's transaction; deleting a key
// that does not exist is not an error. Requests signed with it fail at
// once on this replica and within revalidateAfter on the others.
func (s *Service) DeleteIn(ctx context.Context, tx store.Tx, accessKeyID string) error {
	s.forget(accessKeyID)
	if err := tx.Delete(ctx, Kind, "", accessKeyID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete access key: %w", err)
	}
	return nil
}

// SetAllowedAudiencesIn replaces the audiences a non-admin key may request
// from STS, inside a caller's transaction.
func (s *Service) SetAllowedAudiencesIn(ctx context.Context, tx store.Tx, accessKeyID string, audiences []string) error {
	s.forget(accessKeyID)
	_, err := tx.Update(ctx, Kind, "", accessKeyID, func(cur store.Record) (store.Record, error) {
		var d doc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode access key: %w", err)
		}
		d.AllowedAudiences = audiences
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	if err != nil {
		return fmt.Errorf("update access key: %w", err)
	}
	return nil
}

// Lookup implements sigv4.CredentialSource.
func (s *Service) Lookup(ctx context.Context, accessKeyID string) (sigv4.Credential, error) {
	k, err := s.Resolve(ctx, accessKeyID)
	if err != nil {
		return sigv4.Credential{}, err
	}
	return sigv4.Credential{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}, nil
}

// Principal returns who a verified key acts as.
func (s *Service) Principal(ctx context.Context, accessKeyID, region string) (principal.Principal, error) {
	k, err := s.Resolve(ctx, accessKeyID)
	if err != nil {
		return principal.Principal{}, err
	}
	return principal.Principal{AccountID: k.AccountID, ARN: k.ARN, UserID: k.UserID,
		AccessKeyID: k.AccessKeyID, Admin: k.Admin, Region: region}, nil
}
