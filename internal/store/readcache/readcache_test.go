package readcache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/readcache"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

// suiteKinds are the kinds the conformance suite uses: caching all of them
// makes the suite exercise the cache, not just pass through it.
var suiteKinds = []string{
	"a", "ab", "acct", "blob", "ctr", "event", "gadget", "item", "other", "other-kind",
	"sess", "tok", "token", "tokens", "widget",
}

func openSQLite(t *testing.T, path string, now func() time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path, Now: now})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		inner := openSQLite(t, t.TempDir()+"/agentcore.db", now)
		return readcache.New(inner, readcache.Options{Kinds: suiteKinds, Now: now})
	})
}

// fixture is a cache over SQLite in memory on a test clock, with the
// inner store at hand for writes behind the cache's back (what another
// process would do).
type fixture struct {
	ctx   context.Context
	clock *storetest.Clock
	inner store.Store
	c     *readcache.Store
}

const (
	kind   = "widget"
	acct   = "acct-1"
	plain  = "plain" // not cached
	hour   = time.Hour
	record = "k"
)

func newFixture(t *testing.T, opts readcache.Options) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	f := &fixture{ctx: t.Context(), clock: clock}
	f.inner = openSQLite(t, sqlite.MemoryPath, clock.Now)
	if opts.Kinds == nil {
		opts.Kinds = []string{kind}
	}
	opts.Now = clock.Now
	f.c = readcache.New(f.inner, opts)
	return f
}

func (f *fixture) seed(t *testing.T, st store.Store, key, data string) {
	t.Helper()
	if _, err := st.Create(f.ctx, store.Record{Kind: kind, Account: acct, Key: key, Data: []byte(data)}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// set overwrites a record's data through st (the inner store: behind the
// cache's back).
func (f *fixture) set(t *testing.T, st store.Store, key, data string) {
	t.Helper()
	if _, err := st.Update(f.ctx, kind, acct, key, func(r store.Record) (store.Record, error) {
		r.Data = []byte(data)
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// get reads through the cache and returns the data, or "<not found>".
func (f *fixture) get(t *testing.T, key string) string {
	t.Helper()
	r, err := f.c.Get(f.ctx, kind, acct, key)
	if errors.Is(err, store.ErrNotFound) {
		return "<not found>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Data)
}

func (f *fixture) want(t *testing.T, key, want string) {
	t.Helper()
	if got := f.get(t, key); got != want {
		t.Fatalf("Get(%s) = %q, want %q", key, got, want)
	}
}

func TestHit(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	f.seed(t, f.inner, record, "v1")
	f.want(t, record, "v1")
	f.want(t, record, "v1")
	if s := f.c.Stats(); s.Hits != 1 || s.Misses != 1 || s.Entries != 1 || !s.Serving {
		t.Fatalf("stats after two reads = %+v, want 1 hit, 1 miss, 1 entry, serving", s)
	}
	// A write behind the cache's back is not seen: the second read
	// really came from memory (the TTL is what bounds this).
	f.set(t, f.inner, record, "v2")
	f.want(t, record, "v1")

	// Kinds not cached always read the database.
	if _, err := f.c.Create(f.ctx, store.Record{Kind: plain, Account: acct, Key: record, Data: []byte("p1")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.c.Get(f.ctx, plain, acct, record); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.c.Stats(); s.Hits != 2 || s.Misses != 1 {
		t.Fatalf("uncached kind touched the counters: %+v", s)
	}
}

func TestNotFoundIsNotCached(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	f.want(t, record, "<not found>")
	f.seed(t, f.inner, record, "v1") // created by "another process"
	f.want(t, record, "v1")
}

// TestWritesInvalidate changes the record behind the cache's back after
// caching it, then writes through the cache: whatever the write path and
// outcome, the next read must show the database, not the cached entry.
func TestWritesInvalidate(t *testing.T) {
	errBoom := errors.New("boom")
	setTo := func(data string) store.UpdateFunc {
		return func(r store.Record) (store.Record, error) { r.Data = []byte(data); return r, nil }
	}
	rec := func(key, data string) store.Record {
		return store.Record{Kind: kind, Account: acct, Key: key, Data: []byte(data)}
	}
	cases := []struct {
		name string
		// behind runs on the inner store after the record was cached.
		behind func(ctx context.Context, st store.Store) error
		write  func(ctx context.Context, c store.Store) error
		want   string
	}{
		{"Create", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, kind, acct, record)
		}, func(ctx context.Context, c store.Store) error {
			_, err := c.Create(ctx, rec(record, "created"), store.CreateOptions{})
			return err
		}, "created"},
		{"CreateConflict", func(ctx context.Context, st store.Store) error {
			_, err := st.Update(ctx, kind, acct, record, setTo("behind"))
			return err
		}, func(ctx context.Context, c store.Store) error {
			if _, err := c.Create(ctx, rec(record, "x"), store.CreateOptions{}); !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("Create = %v, want ErrConflict", err)
			}
			return nil
		}, "behind"},
		{"CreateMany", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, kind, acct, record)
		}, func(ctx context.Context, c store.Store) error {
			return c.CreateMany(ctx, []store.Record{rec("other", "o"), rec(record, "batch")})
		}, "batch"},
		{"Update", nil, func(ctx context.Context, c store.Store) error {
			_, err := c.Update(ctx, kind, acct, record, setTo("updated"))
			return err
		}, "updated"},
		{"UpdateFnError", func(ctx context.Context, st store.Store) error {
			_, err := st.Update(ctx, kind, acct, record, setTo("behind"))
			return err
		}, func(ctx context.Context, c store.Store) error {
			_, err := c.Update(ctx, kind, acct, record, func(store.Record) (store.Record, error) { return store.Record{}, errBoom })
			if !errors.Is(err, errBoom) {
				return fmt.Errorf("Update = %v, want the fn's error", err)
			}
			return nil
		}, "behind"},
		{"Swap", nil, func(ctx context.Context, c store.Store) error {
			_, err := c.Swap(ctx, kind, acct, record, 1, []byte("swapped"))
			return err
		}, "swapped"},
		{"TxSwap", nil, func(ctx context.Context, c store.Store) error {
			return c.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.Swap(ctx, kind, acct, record, 1, []byte("tx-swapped"))
				return err
			})
		}, "tx-swapped"},
		{"Delete", nil, func(ctx context.Context, c store.Store) error {
			return c.Delete(ctx, kind, acct, record)
		}, "<not found>"},
		{"TxCommit", nil, func(ctx context.Context, c store.Store) error {
			return c.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.Update(ctx, kind, acct, record, setTo("in-tx"))
				return err
			})
		}, "in-tx"},
		{"TxDelete", nil, func(ctx context.Context, c store.Store) error {
			return c.InTx(ctx, func(tx store.Tx) error { return tx.Delete(ctx, kind, acct, record) })
		}, "<not found>"},
		{"TxCreateMany", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, kind, acct, record)
		}, func(ctx context.Context, c store.Store) error {
			return c.InTx(ctx, func(tx store.Tx) error { return tx.CreateMany(ctx, []store.Record{rec(record, "tx-batch")}) })
		}, "tx-batch"},
		{"TxRollback", func(ctx context.Context, st store.Store) error {
			_, err := st.Update(ctx, kind, acct, record, setTo("behind"))
			return err
		}, func(ctx context.Context, c store.Store) error {
			err := c.InTx(ctx, func(tx store.Tx) error {
				if _, err := tx.Update(ctx, kind, acct, record, setTo("rolled-back")); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				return fmt.Errorf("InTx = %v, want fn's error", err)
			}
			return nil
		}, "behind"},
		{"TxCreateRollback", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, kind, acct, record)
		}, func(ctx context.Context, c store.Store) error {
			err := c.InTx(ctx, func(tx store.Tx) error {
				if _, err := tx.Create(ctx, rec(record, "rolled-back"), store.CreateOptions{}); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				return fmt.Errorf("InTx = %v, want fn's error", err)
			}
			return nil
		}, "<not found>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, readcache.Options{TTL: hour})
			f.seed(t, f.inner, record, "cached")
			f.want(t, record, "cached")
			if tc.behind != nil {
				if err := tc.behind(f.ctx, f.inner); err != nil {
					t.Fatal(err)
				}
				f.want(t, record, "cached") // still served from memory
			}
			if err := tc.write(f.ctx, f.c); err != nil {
				t.Fatal(err)
			}
			f.want(t, record, tc.want)
		})
	}
}

// TestTxReadsDatabase: a read inside a transaction never comes from the
// cache, and never fills it.
func TestTxReadsDatabase(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	f.seed(t, f.inner, record, "v1")
	f.want(t, record, "v1")
	f.set(t, f.inner, record, "v2")
	err := f.c.InTx(f.ctx, func(tx store.Tx) error {
		r, err := tx.Get(f.ctx, kind, acct, record)
		if err != nil {
			return err
		}
		if string(r.Data) != "v2" {
			return fmt.Errorf("tx.Get = %q, want the database's v2", r.Data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.c.Stats(); s.Hits != 0 || s.Misses != 1 {
		t.Fatalf("a read in a transaction touched the cache: %+v", s)
	}
}

// TestTxInvalidatesAtTheEnd reads through the cache while a transaction
// that wrote the record is still open: the read sees (and caches) the
// committed row, so the commit must invalidate again.
func TestTxInvalidatesAtTheEnd(t *testing.T) {
	clock := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
	// A file: readers do not wait for the open write transaction.
	inner := openSQLite(t, t.TempDir()+"/agentcore.db", clock.Now)
	f := &fixture{ctx: t.Context(), clock: clock, inner: inner,
		c: readcache.New(inner, readcache.Options{Kinds: []string{kind}, TTL: hour, Now: clock.Now})}
	f.seed(t, inner, record, "v1")
	err := f.c.InTx(f.ctx, func(tx store.Tx) error {
		if _, err := tx.Update(f.ctx, kind, acct, record, func(r store.Record) (store.Record, error) {
			r.Data = []byte("v2")
			return r, nil
		}); err != nil {
			return err
		}
		if got := f.get(t, record); got != "v1" {
			return fmt.Errorf("read outside the open transaction = %q, want the committed v1", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.want(t, record, "v2")
}

// pausingStore stops a Get of the inner store after it read the database
// and before it returns, so a test can interleave a write there.
type pausingStore struct {
	store.Store
	mu    sync.Mutex
	pause chan struct{} // when set, the next Get signals read and waits for release
	read  chan struct{}
}

func (p *pausingStore) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	rec, err := p.Store.Get(ctx, kind, account, key)
	p.mu.Lock()
	release := p.pause
	p.pause = nil
	p.mu.Unlock()
	if release != nil {
		p.read <- struct{}{}
		<-release
	}
	return rec, err
}

// arm makes the next Get pause; it returns the release channel.
func (p *pausingStore) arm() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pause, p.read = make(chan struct{}), make(chan struct{})
	return p.pause
}

// TestFillRace is the classic race of read-through caches: a reader reads
// the old row, a writer commits and invalidates, and only then the
// reader stores what it read. The stale row must not be cached.
func TestFillRace(t *testing.T) {
	cases := []struct {
		name string
		// interleave runs while the reader holds the old row.
		interleave func(f *fixture, t *testing.T)
		want       string
	}{
		{"none", func(*fixture, *testing.T) {}, "v1"},
		{"local write", func(f *fixture, t *testing.T) { f.set(t, f.c, record, "v2") }, "v2"},
		{"local write in a transaction", func(f *fixture, t *testing.T) {
			if err := f.c.InTx(f.ctx, func(tx store.Tx) error {
				_, err := tx.Update(f.ctx, kind, acct, record, func(r store.Record) (store.Record, error) {
					r.Data = []byte("v2")
					return r, nil
				})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}, "v2"},
		// A change another replica announced: the write is behind the
		// cache's back, the notification calls Invalidate.
		{"announced remote write", func(f *fixture, t *testing.T) {
			f.set(t, f.inner, record, "v2")
			f.c.Invalidate(kind, acct, record)
		}, "v2"},
		{"flush", func(f *fixture, t *testing.T) {
			f.set(t, f.inner, record, "v2")
			f.c.Flush()
		}, "v2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := storetest.NewClock(time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC))
			base := openSQLite(t, sqlite.MemoryPath, clock.Now)
			p := &pausingStore{Store: base}
			f := &fixture{ctx: t.Context(), clock: clock, inner: base,
				c: readcache.New(p, readcache.Options{Kinds: []string{kind}, TTL: hour, Now: clock.Now})}
			f.seed(t, base, record, "v1")

			release := p.arm()
			got := make(chan string, 1)
			go func() {
				r, err := f.c.Get(f.ctx, kind, acct, record)
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(r.Data)
			}()
			<-p.read // the reader holds v1
			tc.interleave(f, t)
			close(release)
			if g := <-got; g != "v1" {
				t.Fatalf("the racing read returned %q, want v1 (what it read)", g)
			}
			f.want(t, record, tc.want)
			f.want(t, record, tc.want)
			if tc.want == "v1" {
				if s := f.c.Stats(); s.Hits != 2 {
					t.Fatalf("without an interleaved write the racing read should have filled: %+v", s)
				}
			}
		})
	}
}

func TestRecordExpiry(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	exp := f.clock.Now().Add(time.Minute)
	if _, err := f.c.Create(f.ctx, store.Record{Kind: kind, Account: acct, Key: record, Data: []byte("v1"), ExpiresAt: exp}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.want(t, record, "v1")
	f.clock.Set(exp.Add(-time.Microsecond))
	f.want(t, record, "v1")
	if s := f.c.Stats(); s.Hits != 1 {
		t.Fatalf("stats = %+v, want a hit before expiry", s)
	}
	f.clock.Set(exp) // expiry is inclusive, as in the backends
	f.want(t, record, "<not found>")
}

func TestTTL(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: 10 * time.Second})
	f.seed(t, f.inner, record, "v1")
	f.want(t, record, "v1")
	f.set(t, f.inner, record, "v2") // unannounced: only the TTL bounds it
	f.clock.Advance(10*time.Second - time.Microsecond)
	f.want(t, record, "v1")
	f.clock.Advance(time.Microsecond)
	f.want(t, record, "v2")
}

func TestDefaults(t *testing.T) {
	f := newFixture(t, readcache.Options{})
	f.seed(t, f.inner, record, "v1")
	f.want(t, record, "v1")
	f.set(t, f.inner, record, "v2")
	f.clock.Advance(readcache.DefaultTTL - time.Microsecond)
	f.want(t, record, "v1")
	f.clock.Advance(time.Microsecond)
	f.want(t, record, "v2")
}

func TestCopySafety(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	f.seed(t, f.inner, record, "pristine")
	miss, err := f.c.Get(f.ctx, kind, acct, record)
	if err != nil {
		t.Fatal(err)
	}
	copy(miss.Data, "XXXX") // the record the fill came from
	hit, err := f.c.Get(f.ctx, kind, acct, record)
	if err != nil {
		t.Fatal(err)
	}
	if string(hit.Data) != "pristine" {
		t.Fatalf("scribbling on a miss's Data changed the cache: %q", hit.Data)
	}
	copy(hit.Data, "YYYY") // a record served from memory
	f.want(t, record, "pristine")
	if s := f.c.Stats(); s.Hits != 2 {
		t.Fatalf("stats = %+v, want the reads after the first from memory", s)
	}
}

func TestMaxEntries(t *testing.T) {
	const max = 3
	f := newFixture(t, readcache.Options{TTL: hour, MaxEntries: max})
	for i := range 10 {
		key := fmt.Sprint("k", i)
		f.seed(t, f.inner, key, key)
		f.want(t, key, key)
		if n := f.c.Stats().Entries; n > max || n < 1 {
			t.Fatalf("after %d fills: %d entries, want 1..%d", i+1, n, max)
		}
	}
	f.want(t, "k9", "k9") // the newest fill survives
	if s := f.c.Stats(); s.Hits != 1 {
		t.Fatalf("stats = %+v, want the last read from memory", s)
	}
}

// DeleteExpired physically removes expired records; a clock moved back
// must not bring one back from memory.
func TestDeleteExpiredDropsExpiring(t *testing.T) {
	f := newFixture(t, readcache.Options{TTL: hour})
	start := f.clock.Now()
	if _, err := f.c.Create(f.ctx, store.Record{Kind: kind, Account: acct, Key: record, Data: []byte("v1"), ExpiresAt: start.Add(time.Minute)}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.want(t, record, "v1")
	f.clock.Advance(time.Minute)
	if n, err := f.c.DeleteExpired(f.ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	f.clock.Set(start)
	f.want(t, record, "<not found>")
}

// fakeFeed is a store.ChangeFeed the test drives by hand.
type fakeFeed struct {
	watcher chan store.Watcher
}

func (f *fakeFeed) Watch(ctx context.Context, w store.Watcher) error {
	f.watcher <- w
	<-ctx.Done()
	return ctx.Err()
}

func TestFeed(t *testing.T) {
	feed := &fakeFeed{watcher: make(chan store.Watcher, 1)}
	f := newFixture(t, readcache.Options{TTL: hour, Feed: feed})
	f.seed(t, f.inner, record, "v1")
	f.seed(t, f.inner, "other", "o1")

	// Until the feed listens, nothing is served or filled.
	f.want(t, record, "v1")
	f.want(t, record, "v1")
	if s := f.c.Stats(); s.Hits != 0 || s.Entries != 0 || s.Serving {
		t.Fatalf("before the feed listens: %+v, want nothing cached", s)
	}

	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- f.c.Follow(ctx) }()
	w := <-feed.watcher
	w.Listening()
	f.want(t, record, "v1")
	f.want(t, "other", "o1")
	f.want(t, record, "v1")
	if s := f.c.Stats(); s.Hits != 1 || !s.Serving {
		t.Fatalf("listening: %+v, want serving and a hit", s)
	}

	// A change another replica announced.
	f.set(t, f.inner, record, "v2")
	w.Changed(kind, acct, record)
	f.want(t, record, "v2")
	f.want(t, "other", "o1") // untouched
	if s := f.c.Stats(); s.Hits != 2 {
		t.Fatalf("stats = %+v, want the other record still served from memory", s)
	}

	// An unnamed change drops everything.
	f.set(t, f.inner, "other", "o2")
	w.Changed("", "", "")
	f.want(t, "other", "o2")

	// Interrupted: flushed, and nothing is served until it listens again.
	f.want(t, record, "v2") // cached again
	f.set(t, f.inner, record, "v3")
	w.Interrupted(errors.New("connection reset"))
	f.want(t, record, "v3")
	f.set(t, f.inner, record, "v4")
	f.want(t, record, "v4")
	if s := f.c.Stats(); s.Serving || s.Entries != 0 {
		t.Fatalf("interrupted: %+v, want not serving and empty", s)
	}
	w.Listening()
	f.want(t, record, "v4")
	f.want(t, record, "v4")
	hits := f.c.Stats().Hits

	// Once Follow returns nothing reports changes any more: stop serving.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v, want nil after cancellation", err)
	}
	f.set(t, f.inner, record, "v5")
	f.want(t, record, "v5")
	if s := f.c.Stats(); s.Serving || s.Hits != hits {
		t.Fatalf("after Follow returned: %+v, want not serving", s)
	}
}

func TestFollowWithoutFeed(t *testing.T) {
	f := newFixture(t, readcache.Options{})
	if err := f.c.Follow(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !f.c.Stats().Serving {
		t.Fatal("a cache without a feed must serve")
	}
}

// TestConcurrentReadersAndWriters hammers one record from readers and
// writers; every read must return a version at least as new as the last
// write that completed before the read began (run with -race).
func TestConcurrentReadersAndWriters(t *testing.T) {
	dir := t.TempDir()
	inner := openSQLite(t, dir+"/agentcore.db", nil)
	c := readcache.New(inner, readcache.Options{Kinds: []string{kind}, TTL: hour})
	ctx := t.Context()
	if _, err := c.Create(ctx, store.Record{Kind: kind, Account: acct, Key: record, Data: []byte("0")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		committed int64 = 1 // version of the last completed write
		wg        sync.WaitGroup
	)
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				floor := committed
				mu.Unlock()
				r, err := c.Get(ctx, kind, acct, record)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Version < floor {
					t.Errorf("read version %d after version %d was written", r.Version, floor)
					return
				}
			}
		})
	}
	for range 200 {
		r, err := c.Update(ctx, kind, acct, record, func(r store.Record) (store.Record, error) { return r, nil })
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		committed = r.Version
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
}
