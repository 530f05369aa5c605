package readcache_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/readcache"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

// propagation bounds how long a write through one replica may take to
// reach another replica's cache. It normally takes milliseconds.
const propagation = 2 * time.Second

func openPostgres(t *testing.T, url string, now func() time.Time, announce []string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Options{URL: url, Now: now, MaxConns: 8, Announce: announce})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// replica is one handle on the database with its own cache following the
// change feed, as a server replica has.
func replica(t *testing.T, url string, now func() time.Time, kinds []string, ttl time.Duration) *readcache.Store {
	t.Helper()
	inner := openPostgres(t, url, now, kinds)
	c := readcache.New(inner, readcache.Options{Kinds: kinds, Now: now, TTL: ttl, Feed: inner})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Follow(ctx) }()
	// Registered after the store's Close, so it runs before it.
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	waitFor(t, "the change feed to listen", 10*time.Second, func() bool { return c.Stats().Serving })
	return c
}

// waitFor polls cond and returns how long it took to hold.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func requirePostgres(t *testing.T) {
	t.Helper()
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skipf("PostgreSQL tests skipped: %s is not set", pgtest.EnvURL)
	}
}

func TestConformancePostgres(t *testing.T) {
	requirePostgres(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return replica(t, pgtest.NewDatabase(t), now, suiteKinds, 0)
	})
}

// TestSharedPostgres runs the two-handle cases over two caching replicas.
func TestSharedPostgres(t *testing.T) {
	requirePostgres(t)
	storetest.RunShared(t, func(t *testing.T, now func() time.Time) (store.Store, store.Store) {
		url := pgtest.NewDatabase(t)
		return replica(t, url, now, suiteKinds, 0), replica(t, url, now, suiteKinds, 0)
	})
}

// TestCrossReplica: a write through replica A reaches replica B's cache
// through the change feed, on every write path.
func TestCrossReplica(t *testing.T) {
	url := pgtest.NewDatabase(t)
	kinds := []string{kind}
	// A TTL of an hour: only the feed can make B see A's writes in time.
	a := replica(t, url, nil, kinds, time.Hour)
	b := replica(t, url, nil, kinds, time.Hour)
	ctx := t.Context()
	rec := func(key, data string) store.Record {
		return store.Record{Kind: kind, Account: acct, Key: key, Data: []byte(data)}
	}
	setTo := func(data string) store.UpdateFunc {
		return func(r store.Record) (store.Record, error) { r.Data = []byte(data); return r, nil }
	}
	read := func(st store.Store, key string) string {
		r, err := st.Get(ctx, kind, acct, key)
		if errors.Is(err, store.ErrNotFound) {
			return "<not found>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	steps := []struct {
		name  string
		write func() error
		key   string
		want  string
	}{
		{"create", func() error { _, err := a.Create(ctx, rec("k1", "v1"), store.CreateOptions{}); return err }, "k1", "v1"},
		{"update", func() error { _, err := a.Update(ctx, kind, acct, "k1", setTo("v2")); return err }, "k1", "v2"},
		{"update in tx", func() error {
			return a.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.Update(ctx, kind, acct, "k1", setTo("v3"))
				return err
			})
		}, "k1", "v3"},
		{"delete", func() error { return a.Delete(ctx, kind, acct, "k1") }, "k1", "<not found>"},
		{"create over deleted", func() error { _, err := a.Create(ctx, rec("k1", "v4"), store.CreateOptions{MaxCount: 10}); return err }, "k1", "v4"},
		{"create many", func() error { return a.CreateMany(ctx, []store.Record{rec("k2", "w1")}) }, "k2", "w1"},
		{"swap", func() error { _, err := a.Swap(ctx, kind, acct, "k1", 1, []byte("v5")); return err }, "k1", "v5"},
		{"delete in tx", func() error {
			return a.InTx(ctx, func(tx store.Tx) error { return tx.Delete(ctx, kind, acct, "k2") })
		}, "k2", "<not found>"},
	}
	// B caches k1 and k2 before every step (where they exist), so each
	// step must invalidate a live entry.
	warm := func() {
		for _, k := range []string{"k1", "k2"} {
			read(b, k)
			read(b, k)
		}
	}
	for _, st := range steps {
		warm()
		if err := st.write(); err != nil {
			t.Fatalf("%s through A: %v", st.name, err)
		}
		if got := read(a, st.key); got != st.want {
			t.Fatalf("%s: A reads %q, want %q (its own write)", st.name, got, st.want)
		}
		took := waitFor(t, st.name+" to reach B", propagation, func() bool { return read(b, st.key) == st.want })
		t.Logf("%s: seen by B after %v", st.name, took)
	}
	if s := b.Stats(); s.Hits == 0 {
		t.Fatalf("B never served from memory (%+v): the test proves nothing", s)
	}

	// A rolled-back transaction announces nothing, and changes nothing.
	warm()
	errBoom := errors.New("boom")
	if err := a.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Update(ctx, kind, acct, "k1", setTo("never")); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatal(err)
	}
	if got := read(b, "k1"); got != "v5" {
		t.Fatalf("after a rolled-back write B reads %q", got)
	}
}

// terminateListeners ends every LISTEN session on the test database, as a
// failover or an idle-session killer would.
func terminateListeners(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, postgres.ListenApplicationName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFeedInterruption: when B's listening connection is killed, B stops
// serving what it cached (it may have missed changes), reconnects, and
// caches again.
func TestFeedInterruption(t *testing.T) {
	url := pgtest.NewDatabase(t)
	kinds := []string{kind}
	b := replica(t, url, nil, kinds, time.Hour)
	// A handle that does not announce: its writes reach B only by B
	// reading the database.
	quiet := openPostgres(t, url, nil, nil)
	ctx := t.Context()
	if _, err := quiet.Create(ctx, store.Record{Kind: kind, Account: acct, Key: record, Data: []byte("v1")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		r, err := b.Get(ctx, kind, acct, record)
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	read()
	if _, err := quiet.Update(ctx, kind, acct, record, func(r store.Record) (store.Record, error) {
		r.Data = []byte("v2")
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "v1" {
		t.Fatalf("B reads %q; want its cached v1 (the unannounced write cannot reach it)", got)
	}

	if n := terminateListeners(t, url); n != 1 {
		t.Fatalf("terminated %d listening sessions, want B's one", n)
	}
	took := waitFor(t, "B to drop its cache", propagation, func() bool { return read() == "v2" })
	t.Logf("B stopped serving its stale entry %v after its feed was cut", took)

	// It listens again and caches again.
	waitFor(t, "the feed to listen again", 10*time.Second, func() bool { return b.Stats().Serving })
	read()
	hits := b.Stats().Hits
	if got := read(); got != "v2" || b.Stats().Hits != hits+1 {
		t.Fatalf("after reconnecting: read %q, stats %+v; want v2 from memory", got, b.Stats())
	}
}
