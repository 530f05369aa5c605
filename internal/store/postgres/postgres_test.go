package postgres_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

func requirePostgres(t *testing.T) {
	t.Helper()
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skipf("PostgreSQL tests skipped: %s is not set", pgtest.EnvURL)
	}
}

func openAt(t *testing.T, url string, now func() time.Time) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Options{URL: url, Now: now, MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	requirePostgres(t)
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return openAt(t, pgtest.NewDatabase(t), now)
	})
}

// TestShared opens two pools on one database, as two replicas would: a
// token bucket holds across them.
func TestShared(t *testing.T) {
	requirePostgres(t)
	storetest.RunShared(t, func(t *testing.T, now func() time.Time) (store.Store, store.Store) {
		url := pgtest.NewDatabase(t)
		return openAt(t, url, now), openAt(t, url, now)
	})
}

// TestConcurrentOpen models several replicas starting at once against a
// fresh database: the advisory lock must let exactly one apply each
// migration while the others wait and then find nothing to do.
func TestConcurrentOpen(t *testing.T) {
	requirePostgres(t)
	url := pgtest.NewDatabase(t)
	const replicas = 6
	stores := make([]*postgres.Store, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := postgres.Open(t.Context(), postgres.Options{URL: url, MaxConns: 2})
			if err != nil {
				t.Errorf("replica %d Open: %v", i, err)
				return
			}
			stores[i] = s
		}()
	}
	close(start)
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { _ = s.Close() })
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Fatalf("schema_migrations has %d rows for %d versions", rows, distinct)
	}

	ctx := t.Context()
	if _, err := stores[0].Create(ctx, store.Record{Kind: "k", Account: "a", Key: "x", Data: []byte("hi")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := stores[replicas-1].Get(ctx, "k", "a", "x"); err != nil || string(got.Data) != "hi" {
		t.Fatalf("other replica Get = %q, %v", got.Data, err)
	}
	// Reopening finds every migration applied.
	again := openAt(t, url, nil)
	if err := again.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestKeyCollation checks the column collation directly: the conformance
// suite only notices a missing COLLATE "C" when the database default is
// linguistic, which depends on the server.
func TestKeyCollation(t *testing.T) {
	requirePostgres(t)
	url := pgtest.NewDatabase(t)
	openAt(t, url, nil)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT column_name, coalesce(collation_name, '') FROM information_schema.columns
		WHERE table_name = 'records' AND column_name IN ('kind', 'account', 'key') ORDER BY column_name`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var col, coll string
		if err := rows.Scan(&col, &coll); err != nil {
			t.Fatal(err)
		}
		got[col] = coll
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, col := range []string{"kind", "account", "key"} {
		if got[col] != "C" {
			t.Errorf("column %s collation = %q, want C", col, got[col])
		}
	}
}

// TestDeadlockIsRetried forces a real deadlock between two transactions
// that lock the same two rows in opposite order. PostgreSQL aborts one
// with 40P01; InTx must re-run it so both calls succeed.
func TestDeadlockIsRetried(t *testing.T) {
	requirePostgres(t)
	url := pgtest.NewDatabase(t)
	// Detection waits deadlock_timeout (1s by default); shorten it for
	// this database when the role may.
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(t.Context(), os.Getenv(pgtest.EnvURL)); err == nil {
		if _, err := conn.Exec(t.Context(), `ALTER DATABASE `+pgx.Identifier{cfg.Database}.Sanitize()+
			` SET deadlock_timeout = '50ms'`); err != nil {
			t.Logf("keeping the default deadlock_timeout: %v", err)
		}
		_ = conn.Close(t.Context())
	}
	s := openAt(t, url, nil)
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "acct", Key: k}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	appendByte := func(cur store.Record) (store.Record, error) {
		cur.Data = append(cur.Data, '+')
		return cur, nil
	}

	var (
		mu       sync.Mutex
		attempts int
		ready    sync.WaitGroup
	)
	ready.Add(2)
	run := func(first, second string) error {
		firstAttempt := true
		return s.InTx(ctx, func(tx store.Tx) error {
			mu.Lock()
			attempts++
			mu.Unlock()
			if _, err := tx.Update(ctx, "k", "acct", first, appendByte); err != nil {
				return err
			}
			if firstAttempt {
				// Hold the first row until the other transaction holds
				// its first row too, making the deadlock certain.
				firstAttempt = false
				ready.Done()
				ready.Wait()
			}
			_, err := tx.Update(ctx, "k", "acct", second, appendByte)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run("a", "b") }()
	go func() { errs <- run("b", "a") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("InTx: %v", err)
		}
	}
	if attempts != 3 {
		t.Errorf("fn ran %d times, want 3 (one deadlock victim retried once)", attempts)
	}
	for _, k := range []string{"a", "b"} {
		got, err := s.Get(ctx, "k", "acct", k)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 3 || string(got.Data) != "++" {
			t.Errorf("%s = %q v%d, want \"++\" v3", k, got.Data, got.Version)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := postgres.Open(ctx, postgres.Options{}); err == nil {
		t.Error("Open with empty URL succeeded")
	}
	if _, err := postgres.Open(ctx, postgres.Options{URL: "postgres://%zz"}); err == nil {
		t.Error("Open with malformed URL succeeded")
	}
	// Port 1 refuses connections; Open must report it rather than hand
	// back a store that fails later.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := postgres.Open(cctx, postgres.Options{URL: "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=5"}); err == nil {
		t.Error("Open against a closed port succeeded")
	}
}

// recorder is a store.Watcher that queues what it is told.
type recorder struct {
	events chan string
}

func (r *recorder) Listening()          { r.events <- "listening" }
func (r *recorder) Interrupted(e error) { r.events <- "interrupted" }
func (r *recorder) Changed(kind, account, key string) {
	r.events <- "changed " + kind + "/" + account + "/" + key
}

func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-r.events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event from Watch within 5s")
		return ""
	}
}

// TestWatch checks what is announced: committed writes of announced
// kinds on every path, nothing for other kinds or rolled-back
// transactions, and an unnamed change for an address the payload cannot
// carry.
func TestWatch(t *testing.T) {
	requirePostgres(t)
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(t.Context(), postgres.Options{URL: url, Announce: []string{"loud"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	other := openAt(t, url, nil) // announces nothing itself, but hears s

	ctx, cancel := context.WithCancel(t.Context())
	rec := &recorder{events: make(chan string, 100)}
	done := make(chan error, 1)
	go func() { done <- other.Watch(ctx, rec) }()
	if e := rec.next(t); e != "listening" {
		t.Fatalf("first event %q, want listening", e)
	}

	loud := func(key string) store.Record {
		return store.Record{Kind: "loud", Account: "acct", Key: key, Data: []byte("x")}
	}
	if _, err := s.Create(ctx, store.Record{Kind: "quiet", Account: "acct", Key: "q"}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	noop := func(r store.Record) (store.Record, error) { return r, nil }
	errBoom := errors.New("boom")
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"create", func() error { _, err := s.Create(ctx, loud("a"), store.CreateOptions{}); return err }, []string{"changed loud/acct/a"}},
		{"create with limit", func() error { _, err := s.Create(ctx, loud("b"), store.CreateOptions{MaxCount: 5}); return err }, []string{"changed loud/acct/b"}},
		{"create many", func() error {
			return s.CreateMany(ctx, []store.Record{loud("c"), {Kind: "quiet", Account: "acct", Key: "q2"}, loud("d")})
		}, []string{"changed loud/acct/c", "changed loud/acct/d"}},
		{"update", func() error { _, err := s.Update(ctx, "loud", "acct", "a", noop); return err }, []string{"changed loud/acct/a"}},
		{"delete", func() error { return s.Delete(ctx, "loud", "acct", "b") }, []string{"changed loud/acct/b"}},
		{"transaction", func() error {
			return s.InTx(ctx, func(tx store.Tx) error {
				if _, err := tx.Update(ctx, "quiet", "acct", "q", noop); err != nil {
					return err
				}
				if _, err := tx.Create(ctx, loud("e"), store.CreateOptions{}); err != nil {
					return err
				}
				return tx.Delete(ctx, "loud", "acct", "c")
			})
		}, []string{"changed loud/acct/e", "changed loud/acct/c"}},
		{"unnamed", func() error { _, err := s.Create(ctx, loud("odd\x1fkey"), store.CreateOptions{}); return err }, []string{"changed //"}},
	}
	for _, st := range steps {
		// A rolled-back transaction and writes of other kinds come first:
		// were they announced, their events would precede the step's.
		if err := s.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.Create(ctx, loud("never"), store.CreateOptions{}); err != nil {
				return err
			}
			return errBoom
		}); !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, "quiet", "acct", "q", noop); err != nil {
			t.Fatal(err)
		}
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, want := range st.want {
			if got := rec.next(t); got != want {
				t.Fatalf("%s: event %q, want %q", st.name, got, want)
			}
		}
	}
	// Failed writes announce nothing: the next event is the marker's.
	if _, err := s.Create(ctx, loud("a"), store.CreateOptions{}); !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "loud", "acct", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, loud("marker"), store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.next(t); got != "changed loud/acct/marker" {
		t.Fatalf("after failed writes: event %q, want the marker", got)
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch = %v, want context.Canceled", err)
	}
}
