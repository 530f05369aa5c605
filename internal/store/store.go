// Package store is the one persistence interface of the service. Records are
// JSON documents addressed by (kind, account, key); domain packages own the
// document shapes and seal any secret fields before they reach a backend.
// Backends (sqlite, postgres) must pass storetest.Run.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends translate driver errors into these, wrapped
// with %w; callers branch with errors.Is.
var (
	// ErrNotFound: no live record under that address.
	ErrNotFound = errors.New("store: record not found")
	// ErrConflict: a record already exists under that address.
	ErrConflict = errors.New("store: record already exists")
	// ErrLimitExceeded: Create with MaxCount found the kind already full.
	ErrLimitExceeded = errors.New("store: record limit reached")
)

// Record is one stored document.
type Record struct {
	Kind    string
	Account string
	Key     string
	// Data is an opaque document (JSON by convention). Secrets inside are
	// already sealed by the caller.
	Data []byte
	// Version is 1 after Create and grows by one on every Update.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt, when non-zero, makes the record invisible (ErrNotFound,
	// absent from List and Count) from that instant on.
	ExpiresAt time.Time
}

// ListOptions selects one page of records of a kind, in ascending byte order
// of Key.
type ListOptions struct {
	// Prefix keeps only keys that start with it.
	Prefix string
	// After is an exclusive lower bound: pass the previous Page.Next.
	After string
	// Limit is the page size; <= 0 means 100.
	Limit int
}

// Page is one List result. Next is non-empty when more records follow.
type Page struct {
	Records []Record
	Next    string
}

// CreateOptions tune Create.
type CreateOptions struct {
	// MaxCount, when > 0, fails the create with ErrLimitExceeded if the
	// account already holds that many live records of the kind. The check
	// and the insert are atomic with respect to concurrent creates. A live
	// record under the same address is still ErrConflict, full or not.
	MaxCount int
}

// UpdateFunc receives the current record and returns the one to store.
// Only Data and ExpiresAt of the returned record are written; returning an
// error aborts the update and is passed back unchanged.
type UpdateFunc func(current Record) (Record, error)

// Tx is the set of operations available both directly on a Store and inside
// a transaction.
type Tx interface {
	// Get returns the live record or ErrNotFound.
	Get(ctx context.Context, kind, account, key string) (Record, error)
	// Create inserts a new record (Version 1) or fails with ErrConflict.
	// An expired record under the same address is replaced.
	Create(ctx context.Context, rec Record, opts CreateOptions) (Record, error)
	// CreateMany creates every record as Create without options would,
	// all or none, in one round trip where the backend has round trips
	// (appending a batch of audit events under a held row lock). If any
	// address is taken by a live record, or appears twice, it fails with
	// ErrConflict.
	CreateMany(ctx context.Context, recs []Record) error
	// Update applies fn to the live record while holding it locked against
	// concurrent updates (across processes too), and stores the result
	// with Version+1. ErrNotFound if there is no live record.
	Update(ctx context.Context, kind, account, key string, fn UpdateFunc) (Record, error)
	// Swap writes data into the live record only if its Version is still
	// version, without reading it first (a compare-and-swap), and returns
	// the new Version (version+1). ExpiresAt is kept; UpdatedAt is now.
	// ErrConflict if the live record has another Version, ErrNotFound if
	// there is none. A caller that remembers what it wrote last (the audit
	// chain head) saves Update's read; ErrConflict tells it to Update.
	Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error)
	// Delete removes the live record or returns ErrNotFound.
	Delete(ctx context.Context, kind, account, key string) error
	// List returns one page of live records.
	List(ctx context.Context, kind, account string, opts ListOptions) (Page, error)
	// Count returns the number of live records of a kind in an account.
	Count(ctx context.Context, kind, account string) (int, error)
}

// Taken is the outcome of one Store.Take.
type Taken struct {
	// Allowed reports that a token was taken.
	Allowed bool
	// RetryAfter, when not allowed, is how long until the bucket holds a
	// whole token again (at the rate of this call, absent other takers).
	RetryAfter time.Duration
}

// Store is a Tx plus transactions and lifecycle.
type Store interface {
	Tx
	// Take takes one token from the named token bucket, shared by every
	// handle on the same database (every replica). A bucket holds up to
	// burst tokens, starts full and refills at rate tokens per second:
	// with state (tokens, updatedAt) and now from the store's clock,
	// refill = min(burst, tokens + max(0, now-updatedAt)*rate); the take
	// is allowed when refill >= 1 and then leaves refill-1, otherwise it
	// is refused, consumes nothing and RetryAfter = (1-refill)/rate.
	//
	// Time comes from the store's clock, not the database's, so replicas
	// must keep their clocks in sync (NTP). Elapsed time is clamped at 0
	// and updatedAt never moves backwards, so a replica whose clock lags
	// never mints tokens. Each call is atomic across processes. Take is
	// not part of Tx: a rate-limit decision neither waits for nor rolls
	// back with a caller's transaction. rate must be > 0 and burst >= 1.
	Take(ctx context.Context, bucket string, rate float64, burst int) (Taken, error)
	// CountKind counts the unexpired records of kind across every
	// account, for gauges such as the token vault's size. It is a scan of
	// the kind's key range: call it rarely (metrics cache it).
	CountKind(ctx context.Context, kind string) (int, error)
	// InTx runs fn in one transaction: all of its writes commit together
	// or, if fn returns an error, none do. fn may be re-run by backends
	// that retry serialization failures, so it must not have side effects
	// outside the Tx.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// DeleteExpired removes records whose ExpiresAt has passed.
	DeleteExpired(ctx context.Context) (int, error)
	// Ping checks the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend.
	Close() error
}

// ChangeFeed is implemented by backends that several processes share (the
// replicas of a cluster on PostgreSQL): it tells each handle about the
// writes committed through every handle, so that a handle that caches
// records (readcache) can drop the ones another replica changed. Only the
// kinds a backend was told to announce are reported.
type ChangeFeed interface {
	// Watch reports changes to w until ctx ends, then returns ctx's
	// error. It calls w.Listening each time it starts listening, first
	// and after every reconnection: only changes committed from then on
	// are reported. It calls w.Interrupted when it stops listening (the
	// connection dropped, or connecting failed), and keeps reconnecting
	// with backoff until ctx ends. Calls to w come from one goroutine.
	Watch(ctx context.Context, w Watcher) error
}

// Watcher receives the events of a ChangeFeed.
type Watcher interface {
	// Listening: changes committed from now on will be reported; any
	// committed earlier (in particular while interrupted) were not.
	Listening()
	// Interrupted: the feed stopped listening, with the cause. Changes
	// committed until the next Listening are not reported.
	Interrupted(err error)
	// Changed: a write to the record at (kind, account, key) committed.
	// All three empty means a write the feed could not name: any record
	// may have changed.
	Changed(kind, account, key string)
}
