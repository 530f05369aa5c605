// Package sqlite is the single-node store.Store backend, built on the pure-Go
// modernc.org/sqlite driver so the service needs no cgo.
//
// Writes go through a pool of exactly one connection whose transactions start
// with BEGIN IMMEDIATE: goroutines queue in database/sql instead of racing for
// the SQLite write lock, and other processes wait in busy_timeout. Reads use a
// separate pool of query-only connections, which WAL lets run alongside the
// writer. A ":memory:" database lives in a single connection that serves both
// roles, since every new connection to ":memory:" would be a different empty
// database.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/migrate"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// MemoryPath is the Options.Path that selects a private in-memory database.
const MemoryPath = ":memory:"

// busyTimeoutMS bounds how long a connection waits for a lock held by
// another process before SQLite reports SQLITE_BUSY.
const busyTimeoutMS = 10000

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure Open.
type Options struct {
	// Path is the database file, created with mode 0600 if missing, or
	// MemoryPath for a database that lives as long as the Store.
	Path string
	// Now is the clock used for timestamps and expiry; nil means time.Now.
	Now func() time.Time
	// Logger receives failures of background work (WAL checkpoints); nil
	// discards them.
	Logger *slog.Logger
}

// Store is a store.Store on SQLite. It is safe for concurrent use.
type Store struct {
	writer *sql.DB // one connection; all write transactions
	reader *sql.DB // query-only connections; the writer itself for MemoryPath
	now    func() time.Time

	// Prepared statements of each pool (the same cache when the pools
	// are one); nil until migrations have run.
	writeStmts, readStmts *stmtCache

	ckpt *checkpointer // nil for MemoryPath
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database and applies pending
// migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite: Options.Path is required")
	}
	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Path == MemoryPath {
		db, err := sql.Open("sqlite", MemoryPath+"?_txlock=immediate&_foreign_keys=1")
		if err != nil {
			return nil, fmt.Errorf("sqlite: open memory database: %w", err)
		}
		// Losing the only connection would lose the data, so never let
		// the pool retire it.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.writer, s.reader = db, db
	} else {
		if err := s.openFile(opts.Path, opts.Logger); err != nil {
			return nil, err
		}
		if err := s.enableWAL(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.writeStmts, s.readStmts = newStmtCache(s.writer), newStmtCache(s.reader)
	if s.reader == s.writer {
		s.readStmts = s.writeStmts
	}
	if opts.Path != MemoryPath {
		// The -wal and -shm files exist now that WAL mode is on and a
		// transaction has run; SQLite copies the main file's mode onto
		// them, but tighten them explicitly rather than rely on that.
		for _, suffix := range []string{"-wal", "-shm"} {
			if err := os.Chmod(opts.Path+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
				_ = s.Close()
				return nil, fmt.Errorf("sqlite: chmod %s: %w", opts.Path+suffix, err)
			}
		}
	}
	return s, nil
}

func (s *Store) openFile(path string, log *slog.Logger) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("sqlite: resolve %s: %w", path, err)
	}
	// Create the file ourselves so it never exists with wider permissions
	// than 0600, and tighten a pre-existing one: it holds sealed secrets
	// and their metadata.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := os.Chmod(abs, 0o600); err != nil {
		return fmt.Errorf("sqlite: chmod %s: %w", path, err)
	}

	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	common.Set("_foreign_keys", "1")
	common.Set("_synchronous", "NORMAL")

	w := cloneValues(common)
	w.Set("_txlock", "immediate")
	w.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointFrames)) // see checkpoint.go
	writer, err := sql.Open("sqlite", fileDSN(abs, w))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)

	r := cloneValues(common)
	r.Set("_query_only", "1")
	reader, err := sql.Open("sqlite", fileDSN(abs, r))
	if err != nil {
		_ = writer.Close()
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)

	c := cloneValues(common)
	c.Set("_busy_timeout", fmt.Sprint(restartWaitMS))
	ck, err := sql.Open("sqlite", fileDSN(abs, c))
	if err != nil {
		_ = writer.Close()
		_ = reader.Close()
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	s.writer, s.reader = writer, reader
	s.ckpt = startCheckpointer(ck, writer, log)
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// fileDSN builds a SQLite URI filename. Only '%', '?' and '#' are special in
// the path part of such a URI, so only they are escaped.
func fileDSN(absPath string, params url.Values) string {
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(absPath))
	return "file:" + p + "?" + params.Encode()
}

// enableWAL switches the file to WAL mode, which persists in the file.
// The switch needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
// instead of waiting when another process is opening the same new file, so
// retry here for up to the busy timeout.
func (s *Store) enableWAL(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, busyTimeoutMS*time.Millisecond)
	defer cancel()
	for {
		var mode string
		err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("sqlite: journal_mode is %q, want wal", mode)
			}
			return nil
		}
		if !isBusy(err) {
			return fmt.Errorf("sqlite: enable WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlite: enable WAL: %w", errors.Join(err, ctx.Err()))
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// isBusy reports SQLITE_BUSY, including its extended codes.
func isBusy(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// migrate applies pending migrations in one write transaction. BEGIN
// IMMEDIATE makes a second process that opens the same file wait and then
// see the versions already recorded.
func (s *Store) migrate(ctx context.Context) error {
	migrations, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return s.write(ctx, func(o ops) error {
		if _, err := o.q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		)`); err != nil {
			return fmt.Errorf("sqlite: create schema_migrations: %w", err)
		}
		applied := map[int64]bool{}
		rows, err := o.q.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("sqlite: read schema_migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return fmt.Errorf("sqlite: read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: read schema_migrations: %w", err)
		}
		for _, m := range migrations {
			if applied[m.Version] {
				continue
			}
			if _, err := o.q.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("sqlite: apply migration %s: %w", m.Name, err)
			}
			if _, err := o.q.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.Version, s.now().UnixMicro()); err != nil {
				return fmt.Errorf("sqlite: record migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// write runs fn in a write transaction. fn's error is returned unchanged so
// that sentinel and caller-defined errors survive for errors.Is.
func (s *Store) write(ctx context.Context, fn func(ops) error) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer func() {
		// A panicking fn must not leave the only writer connection inside
		// an open transaction, or every later write would hang.
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	var missed []string
	if err := fn(ops{q: cachedTx{tx: tx, cache: s.writeStmts, missed: &missed}, now: s.now}); err != nil {
		// A failed rollback cannot be acted on and would only mask fn's
		// error; database/sql discards broken connections itself.
		_ = tx.Rollback()
		s.prepare(ctx, missed)
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.ckpt.wrote()
	s.prepare(ctx, missed)
	return nil
}

// prepare caches the statements a write transaction had to parse, once the
// transaction has released the writer connection.
func (s *Store) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		s.writeStmts.get(ctx, q)
	}
}

func (s *Store) read() ops {
	return ops{q: cachedDB{db: s.reader, cache: s.readStmts}, now: s.now}
}

// Get implements store.Tx.
func (s *Store) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	return s.read().Get(ctx, kind, account, key)
}

// Create implements store.Tx.
func (s *Store) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	var out store.Record
	err := s.write(ctx, func(o ops) error {
		var err error
		out, err = o.Create(ctx, rec, opts)
		return err
	})
	return out, err
}

// CreateMany implements store.Tx.
func (s *Store) CreateMany(ctx context.Context, recs []store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return s.write(ctx, func(o ops) error { return o.CreateMany(ctx, recs) })
}

// Update implements store.Tx.
func (s *Store) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	var out store.Record
	err := s.write(ctx, func(o ops) error {
		var err error
		out, err = o.Update(ctx, kind, account, key, fn)
		return err
	})
	return out, err
}

// Swap implements store.Tx.
func (s *Store) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	var out int64
	err := s.write(ctx, func(o ops) error {
		var err error
		out, err = o.Swap(ctx, kind, account, key, version, data)
		return err
	})
	return out, err
}

// Delete implements store.Tx.
func (s *Store) Delete(ctx context.Context, kind, account, key string) error {
	return s.write(ctx, func(o ops) error { return o.Delete(ctx, kind, account, key) })
}

// List implements store.Tx.
func (s *Store) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	return s.read().List(ctx, kind, account, opts)
}

// Count implements store.Tx.
func (s *Store) Count(ctx context.Context, kind, account string) (int, error) {
	return s.read().Count(ctx, kind, account)
}

// CountKind implements store.Store.
func (s *Store) CountKind(ctx context.Context, kind string) (int, error) {
	var n int
	err := s.read().q.QueryRowContext(ctx,
		`SELECT count(*) FROM records WHERE kind = ? AND `+live, kind, s.now().UnixMicro()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", kind, err)
	}
	return n, nil
}

// InTx implements store.Store. Transactions are serialized with all other
// writes, so fn is never re-run. fn must use tx, not s: calling s's write
// methods (or, for a MemoryPath store, any method) from inside fn would wait
// for the one connection fn itself holds until ctx ends.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.write(ctx, func(o ops) error { return fn(o) })
}

// DeleteExpired implements store.Store.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(o ops) error {
		res, err := o.q.ExecContext(ctx,
			`DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?`, o.nowMicros())
		if err != nil {
			return fmt.Errorf("sqlite: delete expired: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: delete expired: %w", err)
		}
		return nil
	})
	return int(n), err
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	errs := []error{s.ckpt.close(), s.writeStmts.close()}
	if s.readStmts != s.writeStmts {
		errs = append(errs, s.readStmts.close())
	}
	if s.reader != nil && s.reader != s.writer {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
