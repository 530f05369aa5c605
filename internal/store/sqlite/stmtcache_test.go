package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func cached(c *stmtCache) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

// Statements are prepared once and then reused, for reads on the reader
// pool and, after their first transaction, for writes on the writer's
// single connection — which a transaction must never wait for itself.
func TestStatementsAreCachedPerPool(t *testing.T) {
	for _, path := range []string{MemoryPath, filepath.Join(t.TempDir(), "db.sqlite")} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := Open(ctx, Options{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := cached(s.writeStmts); n != 0 {
				t.Fatalf("migrations left %d cached statements", n)
			}
			rec := store.Record{Kind: "k", Account: "a", Key: "x", Data: []byte(`{}`)}
			for i := range 3 {
				rec.Key = string(rune('x' + i))
				if _, err := s.Create(ctx, rec, store.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get(ctx, "k", "a", rec.Key); err != nil {
					t.Fatal(err)
				}
			}
			writes := cached(s.writeStmts)
			if writes == 0 || cached(s.readStmts) == 0 {
				t.Fatalf("cached statements: writer %d, reader %d", writes, cached(s.readStmts))
			}
			// A transaction that mixes cached and new statements finishes
			// (no self-deadlock on the one writer connection).
			err = s.InTx(ctx, func(tx store.Tx) error {
				if _, err := tx.Get(ctx, "k", "a", "x"); err != nil {
					return err
				}
				_, err := tx.Count(ctx, "k", "a")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "k", "a", "x"); err == nil {
				t.Fatal("Get after Close succeeded")
			}
		})
	}
}
