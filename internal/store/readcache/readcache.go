// Package readcache is a store.Store decorator that answers point reads
// (Get) of chosen kinds from memory, so that the hot path of a credential
// vend — the workload identity and the credential provider, read on every
// call — does not touch the database.
//
// The cache is invalidated, not merely timed out:
//
//   - Every write of a cached kind through the decorator (Create,
//     CreateMany, Update, Delete, and writes inside InTx, committed or not)
//     drops the address before and after the write.
//   - A miss fills the cache only if nothing was invalidated between the
//     moment before the database read and the fill (a generation counter),
//     so a reader that read a row just before a writer changed it cannot
//     store the old row after the writer's invalidation.
//   - With a store.ChangeFeed (PostgreSQL, several replicas), the writes of
//     other replicas invalidate too, and cached entries are served only
//     while the feed is listening: when it drops, the cache is flushed and
//     reads go to the database until it listens again.
//
// Without a feed (SQLite: one process owns the database file) local
// invalidation is exact. In every case an entry lives at most TTL, the
// safety net for writes nobody announced, and never past its record's own
// ExpiresAt.
package readcache

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Defaults of Options.
const (
	DefaultTTL        = 10 * time.Second
	DefaultMaxEntries = 10000
)

// Options configure New.
type Options struct {
	// Kinds are the kinds whose records are cached; Gets of any other
	// kind, and all other operations, go to the inner store.
	Kinds []string
	// TTL bounds how long an entry is served; <= 0 means DefaultTTL.
	TTL time.Duration
	// MaxEntries bounds the number of entries; when a fill finds the
	// cache full, the cache is emptied first. <= 0 means
	// DefaultMaxEntries.
	MaxEntries int
	// Now is the clock for TTLs and record expiry; it must be the inner
	// store's clock. nil means time.Now.
	Now func() time.Time
	// Feed, when set, reports other handles' writes (Follow consumes
	// it). Entries are then served only while the feed is listening, so
	// until Follow's feed first listens, every Get reads the database.
	Feed store.ChangeFeed
	// Logger records feed interruptions; nil discards.
	Logger *slog.Logger
}

// Stats are counters for metrics.
type Stats struct {
	// Hits are Gets answered from memory; Misses those of cached kinds
	// that read the database.
	Hits, Misses uint64
	// Entries is the number of entries held (fresh or not).
	Entries int
	// Serving reports whether cached entries are served: always without
	// a feed, only while it listens with one.
	Serving bool
}

// Store is the caching decorator. It is safe for concurrent use.
type Store struct {
	inner  store.Store
	kinds  map[string]bool // read-only after New
	ttl    time.Duration
	max    int
	now    func() time.Time
	feed   store.ChangeFeed
	logger *slog.Logger

	mu      sync.RWMutex
	entries map[address]entry
	// gen counts invalidations (of cached kinds), flushes and feed state
	// changes. A fill is allowed only if gen has not moved since before
	// its database read.
	gen uint64
	// serving is false while a feed is not listening.
	serving bool

	hits, misses atomic.Uint64
	// feedDown is set from an interruption of the feed to the next time
	// it listens, so that an outage is logged once. Only the feed's
	// goroutine uses it.
	feedDown bool
}

var _ store.Store = (*Store)(nil)

type address struct{ kind, account, key string }

type entry struct {
	rec store.Record // Data is private to the cache
	// fetched is the clock reading taken before the database read.
	fetched time.Time
}

// New wraps inner.
func New(inner store.Store, opts Options) *Store {
	s := &Store{
		inner: inner, kinds: make(map[string]bool, len(opts.Kinds)),
		ttl: opts.TTL, max: opts.MaxEntries, now: opts.Now, feed: opts.Feed, logger: opts.Logger,
		entries: map[address]entry{}, serving: opts.Feed == nil,
	}
	for _, k := range opts.Kinds {
		s.kinds[k] = true
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.max <= 0 {
		s.max = DefaultMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Entries: len(s.entries), Serving: s.serving}
}

// Invalidate drops the entry of one address, and keeps reads that are in
// flight from filling it with what they read.
func (s *Store) Invalidate(kind, account, key string) {
	if !s.kinds[kind] {
		return
	}
	s.mu.Lock()
	s.gen++
	delete(s.entries, address{kind, account, key})
	s.mu.Unlock()
}

// Flush drops every entry, and keeps reads that are in flight from filling.
func (s *Store) Flush() {
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

func (s *Store) flushLocked() {
	s.gen++
	clear(s.entries)
}

// Follow consumes Options.Feed until ctx ends: other handles' writes
// invalidate, and entries are served only while the feed listens. Run it
// once, on its own goroutine, for as long as the store is used; after it
// returns nothing is served from memory any more (changes would go
// unnoticed). Without a feed it returns at once.
func (s *Store) Follow(ctx context.Context) error {
	if s.feed == nil {
		return nil
	}
	err := s.feed.Watch(ctx, watcher{s})
	s.setServing(false)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// setServing flushes and switches serving: entries filled before a switch
// may have missed changes, whichever way it goes.
func (s *Store) setServing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	s.serving = on
}

// watcher adapts Store to store.Watcher without exposing the methods.
type watcher struct{ s *Store }

func (w watcher) Listening() {
	w.s.setServing(true)
	if w.s.feedDown {
		w.s.feedDown = false
		w.s.logger.Info("store read cache: change feed listening again")
	}
}

func (w watcher) Interrupted(err error) {
	w.s.setServing(false)
	if !w.s.feedDown {
		w.s.feedDown = true
		w.s.logger.Warn("store read cache: change feed interrupted; reading the database until it is back",
			slog.Any("error", err))
		return
	}
	w.s.logger.Debug("store read cache: change feed still down", slog.Any("error", err))
}

func (w watcher) Changed(kind, account, key string) {
	if kind == "" {
		w.s.Flush()
		return
	}
	w.s.Invalidate(kind, account, key)
}

// Get implements store.Tx: from memory when a fresh entry exists,
// otherwise from the inner store, filling the cache.
func (s *Store) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	if !s.kinds[kind] {
		return s.inner.Get(ctx, kind, account, key)
	}
	a := address{kind, account, key}
	now := s.now()
	s.mu.RLock()
	e, ok := s.entries[a]
	gen, serving := s.gen, s.serving
	s.mu.RUnlock()
	if ok && serving && s.fresh(e, now) {
		s.hits.Add(1)
		rec := e.rec
		rec.Data = bytes.Clone(e.rec.Data) // callers may scribble on Data
		return rec, nil
	}
	s.misses.Add(1)
	rec, err := s.inner.Get(ctx, kind, account, key)
	// Not found is not cached: a record created by another replica must
	// be visible at once, and misses of absent records are rare.
	if err != nil || !serving {
		return rec, err
	}
	s.fill(a, gen, rec, now)
	return rec, nil
}

func (s *Store) fresh(e entry, now time.Time) bool {
	if !e.rec.ExpiresAt.IsZero() && !now.Before(e.rec.ExpiresAt) {
		return false // the backend would say not found from this instant
	}
	return now.Before(e.fetched.Add(s.ttl))
}

// fill stores rec unless an invalidation happened since gen was read.
func (s *Store) fill(a address, gen uint64, rec store.Record, fetched time.Time) {
	rec.Data = bytes.Clone(rec.Data) // the caller owns the original
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen || !s.serving {
		return
	}
	if _, ok := s.entries[a]; !ok && len(s.entries) >= s.max {
		clear(s.entries) // crude, but bounded and rare: the kinds cached are small
	}
	s.entries[a] = entry{rec: rec, fetched: fetched}
}

// around runs write with the addresses of cached kinds among addrs
// invalidated before and after it: after, because a read between the two
// may have filled the old record; before, so that nothing already cached
// is served while the write is in progress.
func (s *Store) around(addrs []address, write func()) {
	s.invalidateAll(addrs)
	defer s.invalidateAll(addrs)
	write()
}

// cachedAddresses lists the addresses of the records of cached kinds
// (none for a batch of audit events, the usual CreateMany).
func (s *Store) cachedAddresses(recs []store.Record) []address {
	var addrs []address
	for _, r := range recs {
		if s.kinds[r.Kind] {
			addrs = append(addrs, address{r.Kind, r.Account, r.Key})
		}
	}
	return addrs
}

// invalidateAll drops addrs, all of cached kinds (every caller filters).
func (s *Store) invalidateAll(addrs []address) {
	if len(addrs) == 0 {
		return
	}
	s.mu.Lock()
	s.gen++
	for _, a := range addrs {
		delete(s.entries, a)
	}
	s.mu.Unlock()
}

// Create implements store.Tx.
func (s *Store) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (out store.Record, err error) {
	if !s.kinds[rec.Kind] {
		return s.inner.Create(ctx, rec, opts)
	}
	s.around([]address{{rec.Kind, rec.Account, rec.Key}}, func() { out, err = s.inner.Create(ctx, rec, opts) })
	return out, err
}

// CreateMany implements store.Tx.
func (s *Store) CreateMany(ctx context.Context, recs []store.Record) (err error) {
	addrs := s.cachedAddresses(recs)
	if len(addrs) == 0 {
		return s.inner.CreateMany(ctx, recs)
	}
	s.around(addrs, func() { err = s.inner.CreateMany(ctx, recs) })
	return err
}

// Update implements store.Tx.
func (s *Store) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (out store.Record, err error) {
	if !s.kinds[kind] {
		return s.inner.Update(ctx, kind, account, key, fn)
	}
	s.around([]address{{kind, account, key}}, func() { out, err = s.inner.Update(ctx, kind, account, key, fn) })
	return out, err
}

// Swap implements store.Tx.
func (s *Store) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (out int64, err error) {
	if !s.kinds[kind] {
		return s.inner.Swap(ctx, kind, account, key, version, data)
	}
	s.around([]address{{kind, account, key}}, func() { out, err = s.inner.Swap(ctx, kind, account, key, version, data) })
	return out, err
}

// Delete implements store.Tx.
func (s *Store) Delete(ctx context.Context, kind, account, key string) (err error) {
	if !s.kinds[kind] {
		return s.inner.Delete(ctx, kind, account, key)
	}
	s.around([]address{{kind, account, key}}, func() { err = s.inner.Delete(ctx, kind, account, key) })
	return err
}

// List implements store.Tx; it always reads the inner store.
func (s *Store) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	return s.inner.List(ctx, kind, account, opts)
}

// Count implements store.Tx; it always reads the inner store.
func (s *Store) Count(ctx context.Context, kind, account string) (int, error) {
	return s.inner.Count(ctx, kind, account)
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, bucket string, rate float64, burst int) (store.Taken, error) {
	return s.inner.Take(ctx, bucket, rate, burst)
}

// CountKind implements store.Store.
func (s *Store) CountKind(ctx context.Context, kind string) (int, error) {
	return s.inner.CountKind(ctx, kind)
}

// InTx implements store.Store. Reads inside the transaction go to the
// database (they must see the transaction's own writes, and they are
// often the read half of a read-modify-write). Every address the
// transaction writes is invalidated when written and again when InTx
// returns, committed, rolled back or failed.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	t := &tx{s: s}
	defer t.invalidateTouched()
	return s.inner.InTx(ctx, func(inner store.Tx) error {
		t.inner = inner
		return fn(t)
	})
}

// DeleteExpired implements store.Store. Expired entries are never served,
// but the clock of a test may move back: drop every entry that carries an
// expiry, so a physically deleted record cannot reappear from memory.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	n, err := s.inner.DeleteExpired(ctx)
	s.mu.Lock()
	s.gen++
	for a, e := range s.entries {
		if !e.rec.ExpiresAt.IsZero() {
			delete(s.entries, a)
		}
	}
	s.mu.Unlock()
	return n, err
}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }

// Close implements store.Store: it closes the inner store.
func (s *Store) Close() error { return s.inner.Close() }

// tx is the store.Tx handed to InTx's fn: reads pass through, writes of
// cached kinds are recorded for invalidation.
type tx struct {
	s     *Store
	inner store.Tx

	mu      sync.Mutex
	touched []address
}

var _ store.Tx = (*tx)(nil)

// touch invalidates addresses of cached kinds and remembers them for the
// invalidation after the transaction.
func (t *tx) touch(addrs ...address) {
	if len(addrs) == 0 {
		return
	}
	t.s.invalidateAll(addrs)
	t.mu.Lock()
	t.touched = append(t.touched, addrs...)
	t.mu.Unlock()
}

func (t *tx) invalidateTouched() {
	t.mu.Lock()
	touched := t.touched
	t.mu.Unlock()
	t.s.invalidateAll(touched)
}

func (t *tx) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	return t.inner.Get(ctx, kind, account, key)
}

func (t *tx) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	if t.s.kinds[rec.Kind] {
		t.touch(address{rec.Kind, rec.Account, rec.Key})
	}
	return t.inner.Create(ctx, rec, opts)
}

func (t *tx) CreateMany(ctx context.Context, recs []store.Record) error {
	t.touch(t.s.cachedAddresses(recs)...)
	return t.inner.CreateMany(ctx, recs)
}

func (t *tx) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	if t.s.kinds[kind] {
		t.touch(address{kind, account, key})
	}
	return t.inner.Update(ctx, kind, account, key, fn)
}

func (t *tx) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	if t.s.kinds[kind] {
		t.touch(address{kind, account, key})
	}
	return t.inner.Swap(ctx, kind, account, key, version, data)
}

func (t *tx) Delete(ctx context.Context, kind, account, key string) error {
	if t.s.kinds[kind] {
		t.touch(address{kind, account, key})
	}
	return t.inner.Delete(ctx, kind, account, key)
}

func (t *tx) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	return t.inner.List(ctx, kind, account, opts)
}

func (t *tx) Count(ctx context.Context, kind, account string) (int, error) {
	return t.inner.Count(ctx, kind, account)
}
