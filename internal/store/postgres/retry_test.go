package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
)

func TestRetryable(t *testing.T) {
	cases := map[string]struct {
		err  error
		want bool
	}{
		"serialization": {&pgconn.PgError{Code: "40001"}, true},
		"deadlock":      {fmt.Errorf("update: %w", &pgconn.PgError{Code: "40P01"}), true},
		"unique":        {&pgconn.PgError{Code: "23505"}, false},
		"sentinel":      {store.ErrConflict, false},
		"nil":           {nil, false},
	}
	for name, c := range cases {
		if got := retryable(c.err); got != c.want {
			t.Errorf("%s: retryable = %v, want %v", name, got, c.want)
		}
	}
}

// TestInTxRetryPolicy drives the retry loop with synthetic errors from fn,
// which is how a serialization failure from any statement reaches it.
func TestInTxRetryPolicy(t *testing.T) {
	s, err := Open(t.Context(), Options{URL: pgtest.NewDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	serialization := &pgconn.PgError{Code: "40001"}

	calls := 0
	err = s.InTx(t.Context(), func(store.Tx) error {
		calls++
		if calls == 1 {
			return fmt.Errorf("wrapped: %w", serialization)
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Errorf("transient failure: err %v after %d calls, want nil after 2", err, calls)
	}

	calls = 0
	err = s.InTx(t.Context(), func(store.Tx) error { calls++; return serialization })
	if !errors.Is(err, serialization) || calls != maxTxAttempts {
		t.Errorf("persistent failure: err %v after %d calls, want it after %d", err, calls, maxTxAttempts)
	}

	calls = 0
	errBoom := errors.New("boom")
	err = s.InTx(t.Context(), func(store.Tx) error { calls++; return errBoom })
	if err != errBoom || calls != 1 {
		t.Errorf("ordinary error: err %v after %d calls, want it unchanged after 1", err, calls)
	}
}
