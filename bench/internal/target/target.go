// Package target starts what a load run targets: in-process agentcore
// replicas on loopback that share one store (SQLite in a temporary file, or
// a fresh PostgreSQL database) and one key-encryption key, or a running
// server at an endpoint. Replicas > 1 behind the round-robin client
// measures horizontal scaling on one database.
package target

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/jackc/pgx/v5"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// Env is the server under load.
type Env struct {
	// URLs are the replicas' base URLs (one for an external server).
	URLs    []string
	Creds   aws.Credentials
	Region  string
	Account string // empty for an external endpoint
	// Backend describes the store for the report.
	Backend string
	// Store and KEK are the first replica's, for filling the store and
	// in-process component floors; nil for an external endpoint.
	Store   store.Store
	KEK     seal.KEKProvider
	closers []func()
}

// Local says how to start in-process replicas.
type Local struct {
	Backend     string // config.StoreSQLite or config.StorePostgres
	PostgresURL string // admin URL; a fresh database is created on it
	Replicas    int
	// TmpDir is the parent of the temporary data directory (SQLite file);
	// empty means the system's.
	TmpDir    string
	ServerLog io.Writer // nil discards the request log
}

// StartLocal starts the replicas on loopback. Every replica is a full
// server with its own store handle (as separate processes would have),
// sharing the database and the key-encryption key; the first one
// bootstraps the account and admin key, the others adopt them. Close
// removes everything it created.
func StartLocal(ctx context.Context, l Local) (_ *Env, err error) {
	e := &Env{Region: config.Default().Region}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	dir, err := os.MkdirTemp(l.TmpDir, "agentcore-load-*")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })
	key := make([]byte, seal.KEKSize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	if e.KEK, err = seal.NewLocalKEK(map[string][]byte{"bench-kek": key}, "bench-kek"); err != nil {
		return nil, err
	}
	open := func(ctx context.Context) (store.Store, error) {
		return sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "agentcore.db")})
	}
	e.Backend = "sqlite (file in " + dir + ")"
	if l.Backend == config.StorePostgres {
		dbURL, drop, err := createDatabase(ctx, l.PostgresURL)
		if err != nil {
			return nil, err
		}
		e.closers = append(e.closers, drop)
		open = func(ctx context.Context) (store.Store, error) {
			return postgres.Open(ctx, postgres.Options{URL: dbURL, Announce: server.CachedKinds()})
		}
		e.Backend = "postgres (fresh database " + redact(dbURL) + ")"
	}
	log := slog.New(slog.DiscardHandler)
	if l.ServerLog != nil {
		log = slog.New(slog.NewJSONHandler(l.ServerLog, nil))
	}
	for i := range max(l.Replicas, 1) {
		st, err := open(ctx)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		e.closers = append(e.closers, func() { _ = st.Close() })
		// Replicas cache reads as `agentcore server` does, where that is
		// exact: on PostgreSQL (the change feed tells each replica about
		// the others' writes), or with one replica. Several in-process
		// handles on one SQLite file would not hear of each other's writes.
		cache := l.Backend == config.StorePostgres || l.Replicas <= 1
		if err := e.startReplica(ctx, dir, st, cache, log); err != nil {
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		if i == 0 {
			e.Store = st
		}
	}
	return e, nil
}

func (e *Env) startReplica(ctx context.Context, dir string, st store.Store, cache bool, log *slog.Logger) error {
	cfg := config.Default()
	cfg.DataDir = dir
	// Measure the server, not the per-account token rate limit.
	cfg.RateLimits.TokenRequestsPerSecond = 0
	// The harness's identity provider listens on loopback.
	cfg.AllowPrivateNetwork = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	publicURL := "http://" + ln.Addr().String()
	srv, err := server.New(ctx, server.Options{Config: cfg, Logger: log, Store: st, CacheReads: cache, KEK: e.KEK, PublicURL: publicURL})
	if err != nil {
		_ = ln.Close()
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(sctx, ln)
	}()
	e.closers = append(e.closers, func() { cancel(); <-done; srv.Close() })
	if k := srv.Info.AdminKey; k != nil {
		e.Creds = aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Source: "bootstrap"}
	}
	if e.Creds.AccessKeyID == "" {
		return errors.New("the store was not fresh: no admin key was bootstrapped")
	}
	e.Account = srv.Info.AccountID
	e.URLs = append(e.URLs, publicURL)
	return nil
}

// External targets a running server. Its token rate limit must be off
// (agentcore server --rate-limit-token-requests 0) or runs throttle, and
// the M2M and ForJWT scenarios need --allow-private-network: their
// identity provider runs in this process, on loopback.
func External(endpoint, region string, creds aws.Credentials) *Env {
	return &Env{URLs: []string{strings.TrimRight(endpoint, "/")}, Region: region, Creds: creds, Backend: "external (" + endpoint + ")"}
}

// Close stops replicas and drops what was created, last first.
func (e *Env) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

func (e *Env) credentials() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return e.Creds, nil })
}

// Control is a real control-plane SDK client for set-up (not measured).
func (e *Env) Control() *bedrockagentcorecontrol.Client {
	return bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		BaseEndpoint: aws.String(e.URLs[0]), Region: e.Region, Credentials: e.credentials(), RetryMaxAttempts: 1,
	})
}

// IAM is a real IAM SDK client for set-up.
func (e *Env) IAM() *iam.Client {
	return iam.New(iam.Options{BaseEndpoint: aws.String(e.URLs[0]), Region: e.Region, Credentials: e.credentials(), RetryMaxAttempts: 1})
}

// Client sends signed requests to every replica, round robin.
func (e *Env) Client(conns int) *loadgen.Client { return loadgen.NewClient(e.URLs, e.Creds, conns) }

// createDatabase makes an empty database on the server of adminURL (a
// postgres:// URL of a role allowed to create databases) and returns its
// URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	if adminURL == "" {
		return "", nil, errors.New("-store postgres needs -postgres-url or AGENTCORE_TEST_POSTGRES_URL")
	}
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("-postgres-url must be a postgres:// URL")
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "agentcore_bench_" + hex.EncodeToString(suffix)
	admin := func(ctx context.Context, sql string) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return fmt.Errorf("connect to postgres: %w", err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := admin(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		if err := admin(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "load: drop database %s: %v\n", name, err)
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// redact hides a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "?"
	}
	return u.Redacted()
}
