package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that pushes the WAL
// past 1000 frames: it copies every page changed since the last one into
// the database file and fsyncs the WAL and the file, and every caller
// queued behind that commit (every vend waiting for its audit record)
// waits for it. Measured under bench/load, such commits took 10–15 ms,
// several times a second. So a checkpointer on a connection of its own
// copies the WAL into the database shortly after writes, in PASSIVE mode,
// which never blocks writers or readers.
//
// A PASSIVE checkpoint beside the writer cannot start the WAL over,
// though: the writer does that when it begins while the whole WAL is
// copied, which under a steady write load never happens, so the WAL would
// grow without end. The writer therefore keeps an automatic checkpoint,
// at writerCheckpointFrames rather than 1000: by then the checkpointer has
// copied nearly all of it, so that inline checkpoint has little left to
// copy, runs a fourth as often, and lets the WAL start over.

// checkpointDelay is how long the checkpointer lets commits accumulate
// before it checkpoints them: the pages a burst rewrites many times are
// copied once, and an idle store is never woken.
const checkpointDelay = 100 * time.Millisecond

// writerCheckpointFrames is the writer's wal_autocheckpoint, in frames of
// one page (16 MiB of 4 KiB pages): the most the WAL grows to.
const writerCheckpointFrames = 4096

type checkpointer struct {
	db      *sql.DB
	log     *slog.Logger
	written chan struct{} // one pending signal: commits since the last run
	stop    context.CancelFunc
	done    chan struct{}
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: log, written: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

// wrote tells the checkpointer a write transaction committed. It never
// blocks.
func (c *checkpointer) wrote() {
	if c == nil {
		return
	}
	select {
	case c.written <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.written:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointDelay):
		}
		if err := c.checkpoint(ctx); err != nil && ctx.Err() == nil {
			// The next commit retries; the WAL only grows meanwhile.
			c.log.Warn("sqlite: checkpoint failed", "error", err)
		}
	}
}

func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("passive checkpoint: %w", err)
	}
	return nil
}

// close stops the checkpointer and closes its connection; closing the
// store's last connection then checkpoints what is left.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.stop()
	<-c.done
	return c.db.Close()
}
