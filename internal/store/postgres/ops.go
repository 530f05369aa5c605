package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/keyrange"
)

// querier is what ops needs from *pgxpool.Pool and pgx.Tx.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ops implements store.Tx on a querier. When inTx is false, q is the pool
// and store is set, so multi-statement operations can open their own
// transaction.
type ops struct {
	q     querier
	now   func() time.Time
	inTx  bool
	store *Store
	// announce is the set of kinds whose writes notify (Options.Announce).
	announce map[string]bool
}

var _ store.Tx = ops{}

// atomic runs fn in the current transaction, or in a new one.
func (o ops) atomic(ctx context.Context, fn func(ops) error) error {
	if o.inTx {
		return fn(o)
	}
	return o.store.runTx(ctx, fn)
}

const columns = `kind, account, key, data, version, created_at, updated_at, expires_at`

func scanRecord(row pgx.Row) (store.Record, error) {
	var (
		r       store.Record
		expires *time.Time
	)
	if err := row.Scan(&r.Kind, &r.Account, &r.Key, &r.Data, &r.Version, &r.CreatedAt, &r.UpdatedAt, &expires); err != nil {
		return store.Record{}, err
	}
	if r.Data == nil {
		r.Data = []byte{}
	}
	r.CreatedAt = r.CreatedAt.UTC()
	r.UpdatedAt = r.UpdatedAt.UTC()
	if expires != nil {
		r.ExpiresAt = expires.UTC()
	}
	return r, nil
}

func expiresArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func dataArg(b []byte) []byte {
	if b == nil {
		return []byte{} // pgx sends nil as NULL; the column is NOT NULL
	}
	return b
}

// Get implements store.Tx.
func (o ops) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	r, err := o.get(ctx, kind, account, key, "")
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: get %s %q: %w", kind, key, err)
	}
	return r, nil
}

func (o ops) get(ctx context.Context, kind, account, key, suffix string) (store.Record, error) {
	row := o.q.QueryRow(ctx, `SELECT `+columns+` FROM records
		WHERE kind = $1 AND account = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > $4)`+suffix,
		kind, account, key, o.now())
	r, err := scanRecord(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, store.ErrNotFound
	}
	return r, err
}

// replaceExpired completes an INSERT into records whose parameter $5 is
// now: a row already at the address is overwritten only if it has expired.
const replaceExpired = `ON CONFLICT (kind, account, key) DO UPDATE SET
	data = EXCLUDED.data,
	version = 1,
	created_at = EXCLUDED.created_at,
	updated_at = EXCLUDED.updated_at,
	expires_at = EXCLUDED.expires_at
WHERE records.expires_at <= $5`

// Create implements store.Tx. The upsert overwrites only an expired row,
// so a live row yields no RETURNING row rather than a unique violation,
// which would abort an enclosing transaction.
func (o ops) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	var out store.Record
	insert := func(o ops) error {
		now := o.now()
		if opts.MaxCount > 0 {
			// Serialize creates in this (kind, account) until commit so
			// that the count below cannot go stale before the insert.
			if _, err := o.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
				limitLockClass, fmt.Sprintf("%d/%s/%s", len(rec.Kind), rec.Kind, rec.Account)); err != nil {
				return err
			}
			n, err := o.count(ctx, rec.Kind, rec.Account, now)
			if err != nil {
				return err
			}
			if n >= opts.MaxCount {
				// A duplicate is reported as such even when the kind is full.
				if _, err := o.Get(ctx, rec.Kind, rec.Account, rec.Key); err == nil {
					return store.ErrConflict
				}
				return fmt.Errorf("%d of %d: %w", n, opts.MaxCount, store.ErrLimitExceeded)
			}
		}
		row := o.q.QueryRow(ctx, `
			INSERT INTO records (`+columns+`) VALUES ($1, $2, $3, $4, 1, $5, $5, $6)
			`+replaceExpired+`
			RETURNING `+columns,
			rec.Kind, rec.Account, rec.Key, dataArg(rec.Data), now, expiresArg(rec.ExpiresAt))
		var err error
		out, err = scanRecord(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		return o.announceWrite(ctx, rec.Kind, rec.Account, rec.Key)
	}
	var err error
	if opts.MaxCount > 0 || o.announce[rec.Kind] {
		err = o.atomic(ctx, insert)
	} else {
		err = insert(o) // one statement: atomic on its own
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: create %s %q: %w", rec.Kind, rec.Key, translate(err))
	}
	return out, nil
}

// CreateMany implements store.Tx with one INSERT over arrays: a batch
// costs one round trip however many records it holds. Like Create, it
// replaces only expired rows, so a live row makes the statement insert
// fewer rows than asked, which is ErrConflict (and, in a transaction
// that the caller then rolls back, or in the one opened here, undone).
func (o ops) CreateMany(ctx context.Context, recs []store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	kinds, accounts, keys := make([]string, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	data, expires := make([][]byte, len(recs)), make([]*time.Time, len(recs))
	for i, r := range recs {
		kinds[i], accounts[i], keys[i], data[i] = r.Kind, r.Account, r.Key, dataArg(r.Data)
		if !r.ExpiresAt.IsZero() {
			e := r.ExpiresAt
			expires[i] = &e
		}
	}
	err := o.atomic(ctx, func(o ops) error {
		tag, err := o.q.Exec(ctx, `
			INSERT INTO records (`+columns+`)
			SELECT k, a, y, d, 1, $5, $5, e
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $6::timestamptz[]) AS t(k, a, y, d, e)
			`+replaceExpired,
			kinds, accounts, keys, data, o.now(), expires)
		if err != nil {
			return err
		}
		if n := tag.RowsAffected(); n != int64(len(recs)) {
			return fmt.Errorf("%d of %d records created: %w", n, len(recs), store.ErrConflict)
		}
		var payloads []string
		for _, r := range recs {
			if o.announce[r.Kind] {
				payloads = append(payloads, changePayload(r.Kind, r.Account, r.Key))
			}
		}
		return o.notify(ctx, payloads)
	})
	if err != nil {
		return fmt.Errorf("postgres: create %d records: %w", len(recs), translate(err))
	}
	return nil
}

// translate maps a unique violation, which the upsert should make
// impossible, to the sentinel callers expect anyway.
func translate(err error) error {
	var pgErr *pgconn.PgError
	// 21000: the same address twice in one CreateMany statement.
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "21000") {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// Update implements store.Tx. FOR UPDATE holds the row lock from the read
// to the write, across processes, so concurrent updates queue instead of
// overwriting each other.
func (o ops) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	var out store.Record
	var fnErr error
	err := o.atomic(ctx, func(o ops) error {
		fnErr = nil // a retried attempt starts over
		cur, err := o.get(ctx, kind, account, key, ` FOR UPDATE`)
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		row := o.q.QueryRow(ctx, `
			UPDATE records SET data = $4, expires_at = $5, version = version + 1, updated_at = $6
			WHERE kind = $1 AND account = $2 AND key = $3
			RETURNING `+columns,
			kind, account, key, dataArg(next.Data), expiresArg(next.ExpiresAt), o.now())
		if out, err = scanRecord(row); err != nil {
			return err
		}
		return o.announceWrite(ctx, kind, account, key)
	})
	if fnErr != nil {
		return store.Record{}, fnErr // the contract: fn's error comes back unchanged
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("postgres: update %s %q: %w", kind, key, err)
	}
	return out, nil
}

// Swap implements store.Tx: one UPDATE guarded by the version, which waits
// for the row lock of a concurrent writer and then re-checks the version,
// and a read only when it changed nothing, to tell a conflict from a
// missing record.
func (o ops) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	swap := func(o ops) error {
		now := o.now()
		tag, err := o.q.Exec(ctx, `UPDATE records SET data = $5, version = version + 1, updated_at = $6
			WHERE kind = $1 AND account = $2 AND key = $3 AND version = $4
				AND (expires_at IS NULL OR expires_at > $6)`,
			kind, account, key, version, dataArg(data), now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			cur, err := o.get(ctx, kind, account, key, "")
			if err != nil {
				return err
			}
			return fmt.Errorf("version %d, not %d: %w", cur.Version, version, store.ErrConflict)
		}
		return o.announceWrite(ctx, kind, account, key)
	}
	var err error
	if o.announce[kind] {
		err = o.atomic(ctx, swap)
	} else {
		err = swap(o) // the write is one statement: atomic on its own
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: swap %s %q: %w", kind, key, err)
	}
	return version + 1, nil
}

// Delete implements store.Tx.
func (o ops) Delete(ctx context.Context, kind, account, key string) error {
	del := func(o ops) error {
		tag, err := o.q.Exec(ctx, `DELETE FROM records
			WHERE kind = $1 AND account = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > $4)`,
			kind, account, key, o.now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return o.announceWrite(ctx, kind, account, key)
	}
	var err error
	if o.announce[kind] {
		err = o.atomic(ctx, del)
	} else {
		err = del(o) // one statement: atomic on its own
	}
	if err != nil {
		return fmt.Errorf("postgres: delete %s %q: %w", kind, key, err)
	}
	return nil
}

// List implements store.Tx. It fetches one row beyond the page to learn
// whether a next page exists without a second query.
func (o ops) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	limit := keyrange.Limit(opts.Limit)
	args := []any{kind, account, o.now()}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var q strings.Builder
	q.WriteString(`SELECT ` + columns + ` FROM records
		WHERE kind = $1 AND account = $2 AND (expires_at IS NULL OR expires_at > $3)`)
	if opts.After != "" {
		q.WriteString(` AND key > ` + arg(opts.After))
	}
	if opts.Prefix != "" {
		// A range on the "C"-collated key, not LIKE: no wildcard escaping,
		// and the primary key index bounds the scan on both ends.
		q.WriteString(` AND key >= ` + arg(opts.Prefix))
		if end, ok := keyrange.PrefixEndUTF8(opts.Prefix); ok {
			q.WriteString(` AND key < ` + arg(end))
		}
	}
	q.WriteString(` ORDER BY key LIMIT ` + arg(limit+1))

	rows, err := o.q.Query(ctx, q.String(), args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: list %s: %w", kind, err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Record, error) { return scanRecord(row) })
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: list %s: %w", kind, err)
	}
	page := store.Page{Records: recs}
	if page.Records == nil {
		page.Records = []store.Record{}
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		page.Next = page.Records[limit-1].Key
	}
	return page, nil
}

// Count implements store.Tx.
func (o ops) Count(ctx context.Context, kind, account string) (int, error) {
	n, err := o.count(ctx, kind, account, o.now())
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s: %w", kind, err)
	}
	return n, nil
}

func (o ops) count(ctx context.Context, kind, account string, now time.Time) (int, error) {
	var n int64
	err := o.q.QueryRow(ctx, `SELECT count(*) FROM records
		WHERE kind = $1 AND account = $2 AND (expires_at IS NULL OR expires_at > $3)`,
		kind, account, now).Scan(&n)
	return int(n), err
}

// announceWrite notifies the watchers of a write if its kind is announced.
// o must be in a transaction (callers use atomic for announced kinds), so
// that the notification is delivered when, and only if, the write commits.
func (o ops) announceWrite(ctx context.Context, kind, account, key string) error {
	if !o.announce[kind] {
		return nil
	}
	return o.notify(ctx, []string{changePayload(kind, account, key)})
}

// notify queues one notification per payload on the change channel, in
// one statement.
func (o ops) notify(ctx context.Context, payloads []string) error {
	if len(payloads) == 0 {
		return nil
	}
	if !o.inTx {
		// Outside a transaction the notification could be sent before,
		// or without, the write it announces.
		return errors.New("postgres: announcing a change outside a transaction")
	}
	if _, err := o.q.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS t(p)`, changeChannel, payloads); err != nil {
		return fmt.Errorf("announce change: %w", err)
	}
	return nil
}
