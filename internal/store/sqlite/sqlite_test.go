package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

func openAt(t *testing.T, path string, now func() time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path, Now: now})
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "agentcore.db"), now)
	})
}

// TestSharedFile opens two handles on one file, as two processes would:
// a token bucket holds across them.
func TestSharedFile(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T, now func() time.Time) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "agentcore.db")
		return openAt(t, path, now), openAt(t, path, now)
	})
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return openAt(t, sqlite.MemoryPath, now)
	})
}

func TestMemoryStoresAreSeparate(t *testing.T) {
	ctx := t.Context()
	a := openAt(t, sqlite.MemoryPath, nil)
	b := openAt(t, sqlite.MemoryPath, nil)
	if _, err := a.Create(ctx, store.Record{Kind: "k", Account: "a", Key: "x"}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Count(ctx, "k", "a"); err != nil || n != 0 {
		t.Fatalf("second memory store sees %d records (%v), want 0", n, err)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agentcore.db")
	s := openAt(t, path, nil)
	if _, err := s.Create(t.Context(), store.Record{Kind: "k", Account: "a", Key: "x", Data: []byte("{}")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

func TestExistingFileIsTightened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agentcore.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, nil)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("mode %o, want 600", mode)
	}
}

// TestReopenKeepsDataAndSchema checks that migrations are recorded: a second
// Open must not try to create the tables again.
func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd ?#% name.db")
	ctx := t.Context()
	s, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: "x", Data: []byte("kept")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the requested path: %v", err)
	}
	s2 := openAt(t, path, nil)
	got, err := s2.Get(ctx, "k", "a", "x")
	if err != nil || string(got.Data) != "kept" {
		t.Fatalf("after reopen Get = %q, %v", got.Data, err)
	}
	if err := s2.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestTwoStoresOneFile stands in for two processes sharing a file: each has
// its own writer connection, so only BEGIN IMMEDIATE plus busy_timeout keep
// them from losing updates or surfacing SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := t.Context()
	var stores []*sqlite.Store
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := sqlite.Open(ctx, sqlite.Options{Path: path})
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
				return
			}
			mu.Lock()
			stores = append(stores, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, s := range stores {
		t.Cleanup(func() { _ = s.Close() })
	}
	if len(stores) != 2 {
		t.FailNow()
	}
	if _, err := stores[0].Create(ctx, store.Record{Kind: "c", Account: "a", Key: "n", Data: []byte("0")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inc := func(cur store.Record) (store.Record, error) {
		cur.Data = append(cur.Data, '+')
		return cur, nil
	}
	const perStore = 40
	for _, s := range stores {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perStore / 4 {
					if _, err := s.Update(ctx, "c", "a", "n", inc); err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	got, err := stores[1].Get(ctx, "c", "a", "n")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2*perStore+1 || len(got.Data) != 2*perStore+1 {
		t.Fatalf("after %d updates: version %d, %d bytes", 2*perStore, got.Version, len(got.Data))
	}
}

func TestOpenRequiresPath(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), sqlite.Options{}); err == nil {
		t.Fatal("Open with empty Path succeeded")
	}
}
