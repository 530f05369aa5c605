// Package postgres is the multi-replica store.Store backend on PostgreSQL,
// using pgx/v5's pool.
//
// Correctness across replicas rests on the database, not on process-local
// locks: Update locks its row with SELECT ... FOR UPDATE, Create with
// MaxCount serializes on a transaction-scoped advisory lock per (kind,
// account), and migrations run under a global advisory lock so replicas
// starting together apply each one exactly once. Transactions run at READ
// COMMITTED and are retried on serialization failures and deadlocks.
//
// Replicas that cache reads learn about each other's writes from the
// database too: writes of the kinds in Options.Announce send a NOTIFY in
// their transaction, delivered on commit to every handle's Watch.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockID is the single-bigint advisory lock key that serializes
// migrations ("agentcor" in ASCII). PostgreSQL keeps the single-bigint and
// the two-int4 key spaces apart, so it cannot collide with limitLockClass.
const migrationLockID int64 = 0x6167656e74636f72

// limitLockClass is the first key of the two-int4 advisory locks taken by
// Create with MaxCount; the second is a hash of (kind, account).
const limitLockClass int32 = 0x61676e74

// maxTxAttempts bounds how often a transaction is tried when PostgreSQL
// aborts it with a serialization failure or deadlock.
const maxTxAttempts = 5

// Options configure Open.
type Options struct {
	// URL is a libpq-style connection string or postgres:// URL.
	URL string
	// Now is the clock used for timestamps and expiry; nil means
	// time.Now. The database clock is never used, so replicas and tests
	// agree on expiry through this clock alone.
	Now func() time.Time
	// MaxConns caps the pool; 0 keeps pgxpool's default.
	MaxConns int32
	// Announce lists the kinds whose writes are announced to every
	// handle's Watch (every replica's read cache): each successful
	// Create, CreateMany, Update and Delete of such a kind also issues a
	// pg_notify in its transaction, so the announcement is delivered
	// exactly when the write commits. A direct write of an announced
	// kind therefore runs in a transaction of its own.
	Announce []string
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// announce holds Options.Announce; read-only after Open.
	announce map[string]bool
	// listenConfig configures Watch's dedicated connection: the pool's
	// connection settings, outside the pool's budget.
	listenConfig *pgx.ConnConfig
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.ChangeFeed = (*Store)(nil)
)

// Open connects and applies pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("postgres: Options.URL is required")
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	s := &Store{pool: pool, now: opts.Now, listenConfig: cfg.ConnConfig.Copy()}
	if len(opts.Announce) > 0 {
		s.announce = make(map[string]bool, len(opts.Announce))
		for _, k := range opts.Announce {
			s.announce[k] = true
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	migrations, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return s.runTx(ctx, func(o ops) error {
		// Lock before touching schema_migrations: even CREATE TABLE IF NOT
		// EXISTS fails when two sessions race to create the same table.
		if _, err := o.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockID); err != nil {
			return fmt.Errorf("postgres: lock migrations: %w", err)
		}
		if _, err := o.q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    bigint PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
			return fmt.Errorf("postgres: create schema_migrations: %w", err)
		}
		rows, err := o.q.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("postgres: read schema_migrations: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("postgres: read schema_migrations: %w", err)
		}
		applied := map[int64]bool{}
		for _, v := range versions {
			applied[v] = true
		}
		for _, m := range migrations {
			if applied[m.Version] {
				continue
			}
			// Without arguments pgx uses the simple protocol, which
			// accepts several statements in one file.
			if _, err := o.q.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: apply migration %s: %w", m.Name, err)
			}
			if _, err := o.q.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
				m.Version, s.now()); err != nil {
				return fmt.Errorf("postgres: record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// retryable reports whether PostgreSQL aborted the transaction in a way
// that a fresh attempt can succeed.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// runTx runs fn in a transaction, re-running it on serialization failures
// and deadlocks. fn's own error is returned unchanged.
func (s *Store) runTx(ctx context.Context, fn func(ops) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !retryable(err) {
			return err
		}
		// Jitter so that the transactions that just collided do not
		// collide again in lockstep.
		backoff := time.Duration(attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(backoff):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(ops) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer func() {
		// Return the connection clean even if fn panics.
		if p := recover(); p != nil {
			_ = tx.Rollback(ctx)
			panic(p)
		}
	}()
	if err := fn(ops{q: tx, now: s.now, inTx: true, announce: s.announce}); err != nil {
		// A failed rollback makes pgx close the connection, which aborts
		// the transaction server-side; fn's error is what matters.
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// direct runs single statements on the pool; ops that need more than one
// statement to be atomic open their own transaction via s.
func (s *Store) direct() ops { return ops{q: s.pool, now: s.now, store: s, announce: s.announce} }

// Get implements store.Tx.
func (s *Store) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	return s.direct().Get(ctx, kind, account, key)
}

// Create implements store.Tx.
func (s *Store) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	return s.direct().Create(ctx, rec, opts)
}

// CreateMany implements store.Tx.
func (s *Store) CreateMany(ctx context.Context, recs []store.Record) error {
	return s.direct().CreateMany(ctx, recs)
}

// Update implements store.Tx.
func (s *Store) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	return s.direct().Update(ctx, kind, account, key, fn)
}

// Swap implements store.Tx.
func (s *Store) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	return s.direct().Swap(ctx, kind, account, key, version, data)
}

// Delete implements store.Tx.
func (s *Store) Delete(ctx context.Context, kind, account, key string) error {
	return s.direct().Delete(ctx, kind, account, key)
}

// List implements store.Tx.
func (s *Store) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	return s.direct().List(ctx, kind, account, opts)
}

// Count implements store.Tx.
func (s *Store) Count(ctx context.Context, kind, account string) (int, error) {
	return s.direct().Count(ctx, kind, account)
}

// CountKind implements store.Store.
func (s *Store) CountKind(ctx context.Context, kind string) (int, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM records
		WHERE kind = $1 AND (expires_at IS NULL OR expires_at > $2)`, kind, s.now()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", kind, err)
	}
	return int(n), nil
}

// InTx implements store.Store. fn may run up to maxTxAttempts times.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.runTx(ctx, func(o ops) error { return fn(o) })
}

// DeleteExpired implements store.Store.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM records WHERE expires_at <= $1`, s.now())
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close implements store.Store. It waits for acquired connections to be
// released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
