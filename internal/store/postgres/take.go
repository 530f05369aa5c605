package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/internal/tokenbucket"
)

// takeSQL takes a token in one statement. ON CONFLICT DO UPDATE locks the
// row and evaluates its SET and WHERE on the latest committed version even
// under READ COMMITTED, so concurrent takers on any replica queue on the
// row and each sees the previous one's result. The refill is the rule of
// store.Store.Take: the replica's clock ($4) against the stored one, with
// negative elapsed time clamped to 0 and updated_at never moved backwards.
// A refusal fails the WHERE, writes nothing and returns no row.
//
// $1 bucket, $2 rate, $3 burst, $4 now, $5 the least refill that allows.
const takeSQL = `
INSERT INTO rate_buckets AS b (bucket, tokens, updated_at)
VALUES ($1, $3::float8 - 1, $4)
ON CONFLICT (bucket) DO UPDATE SET
	tokens = LEAST($3::float8, b.tokens + GREATEST(0, extract(epoch FROM $4::timestamptz - b.updated_at)::float8) * $2::float8) - 1,
	updated_at = GREATEST(b.updated_at, EXCLUDED.updated_at)
WHERE LEAST($3::float8, b.tokens + GREATEST(0, extract(epoch FROM $4::timestamptz - b.updated_at)::float8) * $2::float8) >= $5::float8
RETURNING true`

// Take implements store.Store. An allowed take is one statement; a refused
// one reads the bucket once more for the retry hint, which needs no lock
// because it is advice, not a decision.
func (s *Store) Take(ctx context.Context, bucket string, rate float64, burst int) (store.Taken, error) {
	if err := tokenbucket.Check(bucket, rate, burst); err != nil {
		return store.Taken{}, fmt.Errorf("postgres: take %q: %w", bucket, err)
	}
	now := s.now()
	var allowed bool
	err := s.pool.QueryRow(ctx, takeSQL, bucket, rate, float64(burst), now, 1-tokenbucket.Slack).Scan(&allowed)
	switch {
	case err == nil:
		return store.Taken{Allowed: true}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return store.Taken{}, fmt.Errorf("postgres: take %q: %w", bucket, err)
	}
	var (
		tokens float64
		last   time.Time
	)
	if err := s.pool.QueryRow(ctx, `SELECT tokens, updated_at FROM rate_buckets WHERE bucket = $1`, bucket).
		Scan(&tokens, &last); err != nil {
		return store.Taken{}, fmt.Errorf("postgres: take %q: read retry hint: %w", bucket, err)
	}
	return store.Taken{RetryAfter: tokenbucket.Wait(tokenbucket.Refill(tokens, last, now, rate, burst), rate)}, nil
}
