package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// changeChannel is the LISTEN/NOTIFY channel of announced writes.
const changeChannel = "agentcore_changes"

// ListenApplicationName is the application_name of Watch's connection, so
// that operators can tell it apart in pg_stat_activity.
const ListenApplicationName = "agentcore change feed"

// changeSep separates kind, account and key in a notification payload.
// Addresses are text and never contain it in practice; one that does is
// announced as an unnamed change.
const changeSep = "\x1f"

// maxPayload is PostgreSQL's limit on a notification payload (it must be
// shorter than 8000 bytes in the default build).
const maxPayload = 8000

// Tuning of Watch.
const (
	// pingEvery is how long the listening connection may stay silent
	// before Watch checks it with a round trip: a connection that died
	// without a word (a network partition) would otherwise go unnoticed
	// until TCP keepalive gives up, minutes later.
	pingEvery = 5 * time.Second
	// pingTimeout bounds that check.
	pingTimeout = 5 * time.Second
	// Reconnection backoff: doubling from minBackoff to maxBackoff, with
	// jitter so that replicas cut off together do not reconnect in
	// lockstep.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// changePayload encodes an address as a notification payload, or returns
// "" (an unnamed change, which watchers treat as "anything may have
// changed") when the address cannot be encoded.
func changePayload(kind, account, key string) string {
	if len(kind)+len(account)+len(key)+2*len(changeSep) >= maxPayload ||
		strings.Contains(kind, changeSep) || strings.Contains(account, changeSep) || strings.Contains(key, changeSep) {
		return ""
	}
	return kind + changeSep + account + changeSep + key
}

// parseChange decodes a payload; ok is false for an unnamed change.
func parseChange(payload string) (kind, account, key string, ok bool) {
	parts := strings.Split(payload, changeSep)
	if len(parts) != 3 || parts[0] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Watch implements store.ChangeFeed: it reports the writes of announced
// kinds (Options.Announce) committed through any handle on the database,
// this one included. It holds one connection of its own, outside the
// pool, with LISTEN on the change channel; when the connection fails it
// calls w.Interrupted and reconnects with backoff until ctx ends.
func (s *Store) Watch(ctx context.Context, w store.Watcher) error {
	backoff := minBackoff
	for {
		started := time.Now()
		err := s.listen(ctx, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.Interrupted(err)
		if time.Since(started) > maxBackoff {
			// It was up for a while: this is a new outage, not the
			// same one going on.
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff/2 + rand.N(backoff/2+1)):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen runs one LISTEN session until it fails or ctx ends.
func (s *Store) listen(ctx context.Context, w store.Watcher) error {
	cfg := s.listenConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connect to listen: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+changeChannel); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	w.Listening()
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			if kind, account, key, ok := parseChange(n.Payload); ok {
				w.Changed(kind, account, key)
			} else {
				w.Changed("", "", "")
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			// Silence: make sure the connection is still there. pgx
			// keeps notifications that arrive meanwhile for the next
			// WaitForNotification.
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("postgres: listening connection: %w", err)
			}
		default:
			return fmt.Errorf("postgres: wait for notification: %w", err)
		}
	}
}
