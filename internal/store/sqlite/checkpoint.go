package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that pushes the WAL
// past 1000 frames: it copies every page changed since the last one into
// the database file and fsyncs the WAL and the file, and every caller
// queued behind that commit (every vend waiting for its audit record)
// waits for it. So a checkpointer on a connection of its own copies the
// WAL into the database shortly after writes, in PASSIVE mode, which never
// blocks writers or readers.
//
// A PASSIVE checkpoint beside the writer cannot start the WAL over,
// though: the writer does that when it begins while the whole WAL is
// copied, which under a steady write load never happens. An earlier
// version left that to the writer's own automatic checkpoint, at 4096
// frames; an execution trace of bench/load showed its fsyncs were then the
// whole p99 tail of vends (78 of them in 20 s took 1–35 ms, inside the
// commit). Now, once a PASSIVE checkpoint finds the WAL at restartFrames
// or longer, the checkpointer holds the writer's only connection, so no
// write transaction runs, and checkpoints in RESTART mode what the PASSIVE
// one left (the frames of the last few milliseconds): writers wait for
// that one short copy and its two fsyncs once per restartFrames frames,
// not for one after every commit past the threshold. The writer keeps an
// automatic checkpoint only as a backstop, far above restartFrames.

// checkpointDelay is how long the checkpointer lets commits accumulate
// before it checkpoints them: the pages a burst rewrites many times are
// copied once, and an idle store is never woken.
const checkpointDelay = 100 * time.Millisecond

// restartFrames is the WAL length, in frames of one page (16 MiB of 4 KiB
// pages), at which the checkpointer starts the WAL over.
const restartFrames = 4096

// writerCheckpointFrames is the writer's wal_autocheckpoint: a backstop,
// reached only if the checkpointer stops keeping up.
const writerCheckpointFrames = 16 * restartFrames

// restartWaitMS bounds how long a restart, while it keeps writers out,
// waits for readers still using the WAL. One that gives up is retried
// only once the WAL has grown by another restartFrames: a reader holding
// its snapshot for seconds then stalls writers for restartWaitMS a few
// times, not after every burst of commits.
const restartWaitMS = 25

type checkpointer struct {
	db      *sql.DB
	writer  *sql.DB // its one connection is the write gate
	log     *slog.Logger
	written chan struct{} // one pending signal: commits since the last run
	stop    context.CancelFunc
	done    chan struct{}

	// Used only by the goroutine that checkpoints.
	restartAt int // WAL length, in frames, that the next restart waits for
	restarts  int // restarts tried, for tests
}

func startCheckpointer(db, writer *sql.DB, log *slog.Logger) *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c := newCheckpointer(db, writer, log)
	c.stop = stop
	go c.run(ctx)
	return c
}

func newCheckpointer(db, writer *sql.DB, log *slog.Logger) *checkpointer {
	return &checkpointer{db: db, writer: writer, log: log, written: make(chan struct{}, 1), done: make(chan struct{}), restartAt: restartFrames}
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
	_, frames, err := c.run1(ctx, "PASSIVE")
	if err != nil || frames < c.restartAt {
		return err
	}
	// Holding the writer's only connection keeps write transactions out
	// until the WAL is copied whole and no reader uses it; the next write
	// then starts it over.
	gate, err := c.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("restart checkpoint: %w", err)
	}
	defer gate.Close()
	c.restarts++
	busy, _, err := c.run1(ctx, "RESTART")
	if err != nil {
		return err
	}
	c.restartAt = restartFrames
	if busy {
		c.restartAt += frames
	}
	return nil
}

// run1 runs one checkpoint in mode. It returns whether the checkpoint was
// kept from completing (only RESTART waits, and gives up) and the WAL's
// length in frames.
func (c *checkpointer) run1(ctx context.Context, mode string) (busy bool, frames int, err error) {
	var blocked, copied int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&blocked, &frames, &copied); err != nil {
		return false, 0, fmt.Errorf("%s checkpoint: %w", strings.ToLower(mode), err)
	}
	return blocked != 0, frames, nil
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
