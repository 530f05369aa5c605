package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/keyrange"
)

// querier is what ops needs from *sql.DB and *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ops implements store.Tx on a querier. Write methods assume q is a write
// transaction (Store wraps them in one), which is what makes read-then-write
// sequences such as Update and Create with MaxCount atomic.
type ops struct {
	q   querier
	now func() time.Time
}

var _ store.Tx = ops{}

const columns = `kind, account, key, data, version, created_at, updated_at, expires_at`

// live is the visibility predicate; its single parameter is now in micros.
const live = `(expires_at IS NULL OR expires_at > ?)`

func (o ops) nowMicros() int64 { return o.now().UnixMicro() }

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (store.Record, error) {
	var (
		r                store.Record
		created, updated int64
		expires          sql.NullInt64
	)
	if err := sc.Scan(&r.Kind, &r.Account, &r.Key, &r.Data, &r.Version, &created, &updated, &expires); err != nil {
		return store.Record{}, err
	}
	if r.Data == nil {
		// SQLite hands back zero-length blobs as nil; keep "empty" and
		// "absent" indistinguishable from the other backend.
		r.Data = []byte{}
	}
	r.CreatedAt = time.UnixMicro(created).UTC()
	r.UpdatedAt = time.UnixMicro(updated).UTC()
	if expires.Valid {
		r.ExpiresAt = time.UnixMicro(expires.Int64).UTC()
	}
	return r, nil
}

func expiresArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func dataArg(b []byte) []byte {
	if b == nil {
		return []byte{} // the column is NOT NULL; nil would bind as NULL
	}
	return b
}

// insertRecord creates a record or replaces an expired one; a live record
// at the address makes it change no row. Its last parameter is now.
const insertRecord = `
		INSERT INTO records (` + columns + `) VALUES (?, ?, ?, ?, 1, ?, ?, ?)
		ON CONFLICT (kind, account, key) DO UPDATE SET
			data = excluded.data,
			version = 1,
			created_at = excluded.created_at,
			updated_at = excluded.updated_at,
			expires_at = excluded.expires_at
		WHERE records.expires_at IS NOT NULL AND records.expires_at <= ?`

// CreateMany implements store.Tx. Callers run it in a write transaction
// (Store.CreateMany opens one), which makes the records all-or-none. It
// does not read the rows back, as Create does. The records go in
// multi-row INSERTs of power-of-two sizes, so a batch of n costs at most
// log2(n)+1 statements, each of a text the statement cache keeps.
func (o ops) CreateMany(ctx context.Context, recs []store.Record) error {
	now := o.nowMicros()
	for len(recs) > 0 {
		n := min(maxRowsPerInsert, 1<<(bits.Len(uint(len(recs)))-1))
		chunk := recs[:n]
		recs = recs[n:]
		args := make([]any, 0, n*7+1)
		for _, r := range chunk {
			args = append(args, r.Kind, r.Account, r.Key, dataArg(r.Data), now, now, expiresArg(r.ExpiresAt))
		}
		args = append(args, now)
		res, err := o.q.ExecContext(ctx, insertRecordsTexts[bits.Len(uint(n))-1], args...)
		if err != nil {
			return fmt.Errorf("sqlite: create %d %s records: %w", n, chunk[0].Kind, err)
		}
		// A live record at an address, or an address given twice, makes
		// its row change nothing, so fewer rows than records changed.
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			return fmt.Errorf("sqlite: create %d %s records: %w", n, chunk[0].Kind, errors.Join(store.ErrConflict, err))
		}
	}
	return nil
}

// maxRowsPerInsert bounds one multi-row INSERT (7 parameters a row, well
// under SQLite's parameter limit) and so the number of cached texts.
const maxRowsPerInsert = 64

// insertRecordsTexts[i] inserts 1<<i rows; it is a table of constants,
// built once rather than on every batch.
var insertRecordsTexts = func() (t [7]string) {
	for i := range t {
		t[i] = insertRecords(1 << i)
	}
	return t
}()

// insertRecords is insertRecord for n rows.
func insertRecords(n int) string {
	if n == 1 {
		return insertRecord
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO records (` + columns + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, 1, ?, ?, ?)`)
	}
	b.WriteString(insertRecord[strings.Index(insertRecord, "\n\t\tON CONFLICT"):])
	return b.String()
}

// Get implements store.Tx.
func (o ops) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	row := o.q.QueryRowContext(ctx,
		`SELECT `+columns+` FROM records WHERE kind = ? AND account = ? AND key = ? AND `+live,
		kind, account, key, o.nowMicros())
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlite: get %s %q: %w", kind, key, store.ErrNotFound)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: get %s %q: %w", kind, key, err)
	}
	return r, nil
}

// Create implements store.Tx. The upsert only overwrites a row that has
// expired, so a live row makes RETURNING yield nothing, which is the
// conflict signal; no constraint error is raised, leaving an enclosing
// transaction usable.
func (o ops) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	now := o.nowMicros()
	if opts.MaxCount > 0 {
		n, err := o.count(ctx, rec.Kind, rec.Account, now)
		if err != nil {
			return store.Record{}, fmt.Errorf("sqlite: create %s %q: %w", rec.Kind, rec.Key, err)
		}
		if n >= opts.MaxCount {
			// A duplicate is reported as such even when the kind is full.
			if _, err := o.Get(ctx, rec.Kind, rec.Account, rec.Key); err == nil {
				return store.Record{}, fmt.Errorf("sqlite: create %s %q: %w", rec.Kind, rec.Key, store.ErrConflict)
			}
			return store.Record{}, fmt.Errorf("sqlite: create %s %q: %d of %d: %w",
				rec.Kind, rec.Key, n, opts.MaxCount, store.ErrLimitExceeded)
		}
	}
	row := o.q.QueryRowContext(ctx, insertRecord+` RETURNING `+columns,
		rec.Kind, rec.Account, rec.Key, dataArg(rec.Data), now, now, expiresArg(rec.ExpiresAt), now)
	out, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, fmt.Errorf("sqlite: create %s %q: %w", rec.Kind, rec.Key, store.ErrConflict)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: create %s %q: %w", rec.Kind, rec.Key, err)
	}
	return out, nil
}

// Update implements store.Tx. The enclosing write transaction holds the
// database write lock, so no other writer can interleave.
func (o ops) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	cur, err := o.Get(ctx, kind, account, key)
	if err != nil {
		return store.Record{}, err
	}
	next, err := fn(cur)
	if err != nil {
		return store.Record{}, err
	}
	row := o.q.QueryRowContext(ctx, `
		UPDATE records SET data = ?, expires_at = ?, version = version + 1, updated_at = ?
		WHERE kind = ? AND account = ? AND key = ?
		RETURNING `+columns,
		dataArg(next.Data), expiresArg(next.ExpiresAt), o.nowMicros(), kind, account, key)
	out, err := scanRecord(row)
	if err != nil {
		return store.Record{}, fmt.Errorf("sqlite: update %s %q: %w", kind, key, err)
	}
	return out, nil
}

// Swap implements store.Tx: one UPDATE guarded by the version, and a read
// only when it changed nothing, to tell a conflict from a missing record.
func (o ops) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	now := o.nowMicros()
	res, err := o.q.ExecContext(ctx, `
		UPDATE records SET data = ?, version = version + 1, updated_at = ?
		WHERE kind = ? AND account = ? AND key = ? AND version = ? AND `+live,
		dataArg(data), now, kind, account, key, version, now)
	if err != nil {
		return 0, fmt.Errorf("sqlite: swap %s %q: %w", kind, key, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("sqlite: swap %s %q: %w", kind, key, err)
	} else if n == 1 {
		return version + 1, nil
	}
	cur, err := o.Get(ctx, kind, account, key)
	if err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("sqlite: swap %s %q: version %d, not %d: %w", kind, key, cur.Version, version, store.ErrConflict)
}

// Delete implements store.Tx.
func (o ops) Delete(ctx context.Context, kind, account, key string) error {
	res, err := o.q.ExecContext(ctx,
		`DELETE FROM records WHERE kind = ? AND account = ? AND key = ? AND `+live,
		kind, account, key, o.nowMicros())
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete %s %q: %w", kind, key, store.ErrNotFound)
	}
	return nil
}

// List implements store.Tx. It fetches one row beyond the page to learn
// whether a next page exists without a second query.
func (o ops) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	limit := keyrange.Limit(opts.Limit)
	var q strings.Builder
	q.WriteString(`SELECT ` + columns + ` FROM records WHERE kind = ? AND account = ? AND ` + live)
	args := []any{kind, account, o.nowMicros()}
	if opts.After != "" {
		q.WriteString(` AND key > ?`)
		args = append(args, opts.After)
	}
	if opts.Prefix != "" {
		// A byte range rather than LIKE: LIKE is case-insensitive for
		// ASCII in SQLite and treats '%' and '_' as wildcards.
		q.WriteString(` AND key >= ?`)
		args = append(args, opts.Prefix)
		if end, ok := keyrange.PrefixEndBytes(opts.Prefix); ok {
			q.WriteString(` AND key < ?`)
			args = append(args, end)
		}
	}
	q.WriteString(` ORDER BY key LIMIT ?`)
	args = append(args, limit+1)

	rows, err := o.q.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: list %s: %w", kind, err)
	}
	defer rows.Close()
	page := store.Page{Records: []store.Record{}}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return store.Page{}, fmt.Errorf("sqlite: list %s: %w", kind, err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: list %s: %w", kind, err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		page.Next = page.Records[limit-1].Key
	}
	return page, nil
}

// Count implements store.Tx.
func (o ops) Count(ctx context.Context, kind, account string) (int, error) {
	n, err := o.count(ctx, kind, account, o.nowMicros())
	if err != nil {
		return 0, fmt.Errorf("sqlite: count %s: %w", kind, err)
	}
	return n, nil
}

func (o ops) count(ctx context.Context, kind, account string, now int64) (int, error) {
	var n int
	err := o.q.QueryRowContext(ctx,
		`SELECT count(*) FROM records WHERE kind = ? AND account = ? AND `+live,
		kind, account, now).Scan(&n)
	return n, err
}
