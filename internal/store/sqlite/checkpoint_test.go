package sqlite

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// TestCheckpointer: commits do not checkpoint (the writer's automatic
// checkpoint is off), yet what they wrote reaches the database file
// shortly afterwards, moved there by the background checkpointer.
func TestCheckpointer(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "agentcore.db")
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	var auto int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d, want 0 (checkpoints belong to the checkpointer)", auto)
	}
	before := fileSize(t, path)
	// 200 commits of 8 KiB: fewer WAL frames than SQLite's default
	// automatic threshold, so only the checkpointer can move them.
	data := bytes.Repeat([]byte("x"), 8<<10)
	for i := range 200 {
		if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: fmt.Sprint(i), Data: data}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	const want = 200 * 8 << 10
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path)-before < want {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes in 10s, want ≥ %d: the WAL was not checkpointed", fileSize(t, path)-before, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := s.Count(ctx, "k", "a"); err != nil || n != 200 {
		t.Fatalf("Count = %d, %v; want 200", n, err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
