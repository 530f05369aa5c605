package sqlite

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// TestCheckpointer: commits do not checkpoint themselves before the WAL
// holds writerCheckpointFrames, yet what they wrote reaches the database file
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

// TestWALStaysBounded: under a steady stream of commits, fewer frames in
// all than the writer's own automatic checkpoint waits for, the
// checkpointer still starts the WAL over, so its file stays well short
// of all that was written.
func TestWALStaysBounded(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	// Each commit writes three pages: together twelve times the bound,
	// with no pause for the WAL to drain.
	data := bytes.Repeat([]byte("y"), 8<<10)
	const commits = 4 * restartFrames
	start := time.Now()
	for i := range commits {
		if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: fmt.Sprint(i), Data: data}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	frame := int64(4096 + 24)
	written := int64(commits) * 3 * frame
	if written >= int64(writerCheckpointFrames)*frame {
		t.Fatalf("test writes %d bytes of frames, past the writer's own checkpoint: it would not tell the checkpointer's restarts apart", written)
	}
	// Without restarts the WAL would hold every frame written; with them,
	// restartFrames plus what commits add while the checkpointer waits and
	// copies (6,000–11,000 frames here at 18k frames/s).
	limit := int64(restartFrames)*frame + written/2
	got := fileSize(t, path+"-wal")
	t.Logf("%d commits in %v; WAL %d frames of %d written", commits, time.Since(start), got/frame, written/frame)
	if got > limit {
		t.Fatalf("WAL is %d bytes after %d commits (about %d bytes of frames), want ≤ %d: it never started over", got, commits, written, limit)
	}
}

// TestRestartBacksOff: while a reader holds its snapshot, a restart cannot
// complete and keeps writers out for restartWaitMS each time it tries, so
// it is tried again only once the WAL has grown by restartFrames; once the
// reader is gone, the next one starts the WAL over.
func TestRestartBacksOff(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	// This test drives the checkpoints itself.
	s.ckpt.stop()
	<-s.ckpt.done
	c := newCheckpointer(s.ckpt.db, s.writer, slog.New(slog.DiscardHandler))

	data := bytes.Repeat([]byte("z"), 8<<10)
	key := 0
	// write commits one record of three pages or more.
	write := func() {
		t.Helper()
		key++
		if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: fmt.Sprint(key), Data: data}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	walFrames := func() int {
		t.Helper()
		_, n, err := c.run1(ctx, "PASSIVE")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// grow commits until the WAL holds at least n more frames.
	grow := func(n int) {
		t.Helper()
		for want := walFrames() + n; walFrames() < want; {
			if key > 20*restartFrames {
				t.Fatalf("WAL short of %d frames after %d commits: it keeps starting over", want, key)
			}
			for range 100 {
				write()
			}
		}
	}
	checkpoint := func(wantRestarts int) {
		t.Helper()
		if err := c.checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if c.restarts != wantRestarts {
			t.Fatalf("restarts tried = %d, want %d (WAL %d frames, next restart at %d)", c.restarts, wantRestarts, walFrames(), c.restartAt)
		}
	}

	// The reader's snapshot must end inside the WAL to hold it: one taken
	// while the WAL is empty reads only the database file.
	grow(1)
	rc, err := s.reader.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var n int
	if _, err := rc.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if err := rc.QueryRowContext(ctx, `SELECT count(*) FROM records`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	grow(restartFrames)
	checkpoint(1) // tried, and the reader kept it from completing
	checkpoint(1) // not again before the WAL grows
	grow(restartFrames / 2)
	checkpoint(1)
	grow(restartFrames / 2)
	checkpoint(2)

	// With the reader gone, write a restart's worth of frames (three or
	// more a commit) without checkpointing between them: the reader kept
	// the WAL from being copied whole, so no commit can start it over on
	// its own.
	if _, err := rc.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	for range restartFrames/3 + 100 {
		write()
	}
	checkpoint(3)
	if c.restartAt != restartFrames {
		t.Fatalf("after a restart with no reader in the way, next restart at %d frames, want %d", c.restartAt, restartFrames)
	}
	if _, err := s.Create(ctx, store.Record{Kind: "k", Account: "a", Key: "last", Data: []byte("x")}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := walFrames(); got > 8 {
		t.Fatalf("WAL holds %d frames after one small commit, want a few: it did not start over", got)
	}
}
