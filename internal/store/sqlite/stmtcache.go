package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds the cache: the store issues a fixed set of query
// texts (List builds a few variants), so the bound only guards against a
// future caller that formats values into SQL.
const maxCachedStmts = 128

// stmtCache prepares each query text once per *sql.DB and reuses it.
// Without it SQLite parses every statement on every call, which was about
// a fifth of the CPU of a cached credential vend in bench/load's profile.
// database/sql prepares a cached statement again on each pooled
// connection it runs on, once, and Tx.StmtContext reuses the transaction
// connection's copy.
//
// A nil *stmtCache caches nothing: migrations run before the caches exist,
// and their multi-statement scripts are not worth keeping.
type stmtCache struct {
	db *sql.DB

	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt
	closed bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, or nil when the caller
// should run query directly (cache full or closed, or preparing failed —
// running the query directly then reports the same error in context).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st, full := c.stmts[query], len(c.stmts) >= maxCachedStmts || c.closed
	c.mu.RUnlock()
	if st != nil || full {
		return st
	}
	// The statement outlives this request, so a cancelled request must
	// not be what fails to prepare it.
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.stmts[query]; prev != nil || c.closed {
		_ = st.Close() // lost a race to prepare it, or the store is closing
		return prev
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// cachedDB is a querier over a connection pool with a statement cache.
type cachedDB struct {
	db    *sql.DB
	cache *stmtCache
}

func (q cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.cache.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.db.ExecContext(ctx, query, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.cache.get(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.db.QueryContext(ctx, query, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.cache.get(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.db.QueryRowContext(ctx, query, args...)
}

// cachedTx is a querier over a transaction that uses the statements the
// cache of its pool already holds. It never prepares one itself: the write
// pool has a single connection, which the transaction holds, so preparing
// on the pool would wait for the transaction forever. It notes the misses
// instead, and Store.write prepares them once the connection is free.
// The per-transaction statements Tx.StmtContext returns are closed when
// the transaction ends.
type cachedTx struct {
	tx     *sql.Tx
	cache  *stmtCache
	missed *[]string
}

func (q cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if q.cache == nil {
		return nil
	}
	q.cache.mu.RLock()
	st := q.cache.stmts[query]
	q.cache.mu.RUnlock()
	if st == nil {
		*q.missed = append(*q.missed, query)
		return nil
	}
	return q.tx.StmtContext(ctx, st)
}

func (q cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
