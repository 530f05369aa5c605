package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/tokenbucket"
)

// Take implements store.Store. The read and the write share one BEGIN
// IMMEDIATE transaction, which holds SQLite's write lock throughout, so
// takers in this process and in others sharing the file serialize.
func (s *Store) Take(ctx context.Context, bucket string, rate float64, burst int) (store.Taken, error) {
	if err := tokenbucket.Check(bucket, rate, burst); err != nil {
		return store.Taken{}, fmt.Errorf("sqlite: take %q: %w", bucket, err)
	}
	var out store.Taken
	err := s.write(ctx, func(o ops) error {
		now := o.now()
		tokens, last := float64(burst), now // a missing row is a full bucket
		var lastMicros int64
		err := o.q.QueryRowContext(ctx, `SELECT tokens, updated_at FROM rate_buckets WHERE bucket = ?`, bucket).
			Scan(&tokens, &lastMicros)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			last = time.UnixMicro(lastMicros)
		}
		refill := tokenbucket.Refill(tokens, last, now, rate, burst)
		if !tokenbucket.Allowed(refill) {
			// A refusal consumes nothing and writes nothing.
			out = store.Taken{RetryAfter: tokenbucket.Wait(refill, rate)}
			return nil
		}
		if last.Before(now) {
			last = now // never backwards: a lagging clock must not mint tokens later
		}
		if _, err := o.q.ExecContext(ctx, `INSERT INTO rate_buckets (bucket, tokens, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (bucket) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at`,
			bucket, refill-1, last.UnixMicro()); err != nil {
			return err
		}
		out = store.Taken{Allowed: true}
		return nil
	})
	if err != nil {
		return store.Taken{}, fmt.Errorf("sqlite: take %q: %w", bucket, err)
	}
	return out, nil
}
