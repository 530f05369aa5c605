package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that pushes the WAL
// past 1000 frames, and it fsyncs the WAL and the database file: every
// caller queued behind that commit (every vend waiting for its audit record)
// waits for two fsyncs. The writer therefore has automatic checkpoints off,
// and a checkpointer on a connection of its own copies the WAL into the
// database shortly after writes, in PASSIVE mode, which never blocks
// writers or readers.

// checkpointDelay is how long the checkpointer lets commits accumulate
// before it checkpoints them: the pages a burst rewrites many times are
// copied once, and an idle store is never woken.
const checkpointDelay = 100 * time.Millisecond

// walRestartFrames is the WAL size (frames of one page) at which a passive
// checkpoint that could not reach the end of the log, because readers hold
// old snapshots, is followed by a RESTART one, which waits for them: the
// WAL must not grow without bound under a steady read load.
const walRestartFrames = 16384

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
	if copied < frames && frames >= walRestartFrames {
		if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("restart checkpoint: %w", err)
		}
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
