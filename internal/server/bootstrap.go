package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// Bootstrap is the identity of this installation.
type Bootstrap struct {
	AccountID string
	Region    string
	// AdminKey is set only on the start that created it (the secret is
	// shown once, and written to the credentials file).
	AdminKey *accesskeys.Key
}

const (
	accountKind = "account"
	accountKey  = "default"
	// AdminUser is the IAM user name of the bootstrap admin key.
	AdminUser = "agentcore-admin"
	// CredentialsProfile is the profile written to the credentials file.
	CredentialsProfile = "agentcore"
)

type accountDoc struct {
	AccountID string `json:"accountId"`
}

func newAccountID() (string, error) {
	// 12 digits, first non-zero, like real account ids.
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d", n.Int64()+100_000_000_000), nil
}

// bootstrap finds or creates the account and, if no access key exists yet,
// the admin key. Replicas starting together race on Create; the loser reads
// the winner's record.
func bootstrap(ctx context.Context, st store.Store, keys *accesskeys.Service, cfg config.Config, log *slog.Logger) (Bootstrap, error) {
	info := Bootstrap{Region: cfg.Region}
	rec, err := st.Get(ctx, accountKind, "", accountKey)
	if errors.Is(err, store.ErrNotFound) {
		id, err := newAccountID()
		if err != nil {
			return info, err
		}
		data, _ := json.Marshal(accountDoc{AccountID: id})
		rec, err = st.Create(ctx, store.Record{Kind: accountKind, Key: accountKey, Data: data}, store.CreateOptions{})
		if errors.Is(err, store.ErrConflict) {
			rec, err = st.Get(ctx, accountKind, "", accountKey)
		}
		if err != nil {
			return info, fmt.Errorf("create account: %w", err)
		}
		log.Info("created account", slog.String("account", id))
	} else if err != nil {
		return info, fmt.Errorf("load account: %w", err)
	}
	var acct accountDoc
	if err := json.Unmarshal(rec.Data, &acct); err != nil {
		return info, fmt.Errorf("decode account: %w", err)
	}
	info.AccountID = acct.AccountID

	// The admin key is created under the account record's row lock so that
	// concurrently starting replicas create exactly one.
	err = st.InTx(ctx, func(tx store.Tx) error {
		info.AdminKey = nil // InTx may re-run fn
		if _, err := tx.Update(ctx, accountKind, "", accountKey, func(cur store.Record) (store.Record, error) {
			return cur, nil
		}); err != nil {
			return err
		}
		n, err := tx.Count(ctx, accesskeys.Kind, "")
		if err != nil || n > 0 {
			return err
		}
		k, err := keys.CreateIn(ctx, tx, accesskeys.Key{AccountID: acct.AccountID,
			ARN: arn.IAMUser(acct.AccountID, AdminUser), Admin: true})
		if err != nil {
			return err
		}
		info.AdminKey = &k
		return nil
	})
	if err != nil {
		return info, fmt.Errorf("bootstrap admin key: %w", err)
	}
	return info, nil
}

// WriteCredentialsFile writes an AWS shared-credentials file (0600) holding
// the admin key under profile "agentcore".
func WriteCredentialsFile(path string, k accesskeys.Key, region string) error {
	content := fmt.Sprintf("# Written by agentcore server on first start. Keep it secret.\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n",
		CredentialsProfile, k.AccessKeyID, k.SecretAccessKey, region)
	return writePrivateFile(path, []byte(content))
}

func writePrivateFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Endpoint describes a running server for local clients (the CLI finds the
// server through this file in the data directory).
type Endpoint struct {
	URL       string    `json:"url"`
	AccountID string    `json:"accountId"`
	Region    string    `json:"region"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"startedAt"`
}

// EndpointFile is the name of the endpoint description in the data dir.
const EndpointFile = "endpoint.json"

// WriteEndpointFile records where this server listens.
func WriteEndpointFile(dataDir string, ep Endpoint) error {
	b, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return err
	}
	return writePrivateFile(filepath.Join(dataDir, EndpointFile), b)
}

// OpenStore opens the store a configuration names (for admin commands that
// work on the database directly, such as audit verification). It has no
// read cache; on PostgreSQL its writes of CachedKinds are announced to the
// running replicas like their own. On SQLite a running server sees such
// writes only when its cache entries expire (readcache.DefaultTTL).
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	return openStore(ctx, cfg, time.Now, nil)
}

// AccountID returns the installation's account id, or store.ErrNotFound
// before the first server start.
func AccountID(ctx context.Context, st store.Store) (string, error) {
	rec, err := st.Get(ctx, accountKind, "", accountKey)
	if err != nil {
		return "", err
	}
	var acct accountDoc
	if err := json.Unmarshal(rec.Data, &acct); err != nil {
		return "", fmt.Errorf("decode account: %w", err)
	}
	return acct.AccountID, nil
}

func openStore(ctx context.Context, cfg config.Config, now func() time.Time, log *slog.Logger) (store.Store, error) {
	switch cfg.Store {
	case config.StorePostgres:
		st, err := postgres.Open(ctx, postgres.Options{URL: cfg.DatabaseURL, Now: now, Announce: CachedKinds()})
		if err != nil {
			return nil, fmt.Errorf("open postgres store: %w", err)
		}
		return st, nil
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		st, err := sqlite.Open(ctx, sqlite.Options{Path: cfg.SQLitePath(), Now: now, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open sqlite store: %w", err)
		}
		return st, nil
	}
}

// loadKEK reads the key-encryption key: from config (multi-replica), or the
// key file, created with 0600 on first start.
func loadKEK(cfg config.Config) (seal.KEKProvider, error) {
	if cfg.KEK != "" {
		k, err := seal.ParseKEKEnv(cfg.KEK)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", config.EnvName("kek"), err)
		}
		return k, nil
	}
	path := cfg.KEKPath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		if err := seal.GenerateKeyFile(path); err != nil {
			return nil, fmt.Errorf("create key-encryption key: %w", err)
		}
	}
	k, err := seal.LoadLocalKEK(path)
	if err != nil {
		return nil, fmt.Errorf("load key-encryption key: %w", err)
	}
	return k, nil
}
