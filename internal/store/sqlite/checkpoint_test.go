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

// TestCheckpointer: commits do not checkpoint before the WAL holds
// writerCheckpointFrames, yet what they wrote reaches the database file
// shortly afterwards, moved there by the background checkpointer.
func TestCheckpointer(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	var auto int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != writerCheckpointFrames {
		t.Fatalf("writer wal_autocheckpoint = %d, want %d", auto, writerCheckpointFrames)
	}
	before := fileSize(t, path)
	// 200 commits of 8 KiB: far fewer WAL frames than the writer's
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

// openTemp opens a store on a new file, closed when the test ends.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agentcore.db")
	s, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWALStaysBounded: under a steady stream of commits the WAL still
// starts over, so its file stays near writerCheckpointFrames pages.
func TestWALStaysBounded(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	// Each commit writes a few pages: together far more frames than the
	// bound, with no pause for the WAL to drain.
	data := bytes.Repeat([]byte("y"), 8<<10)
	const commits = 4000
	for i := range commits {
		if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: fmt.Sprint(i), Data: data}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	frame := int64(4096 + 24)
	written := int64(commits) * 3 * frame
	limit := int64(writerCheckpointFrames)*frame + written/4
	if got := fileSize(t, path+"-wal"); got > limit {
		t.Fatalf("WAL is %d bytes after %d commits (about %d bytes of frames), want ≤ %d: it never started over", got, commits, written, limit)
	}
}
