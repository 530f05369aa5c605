package server_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// sweepCounter records how many rows the server's DeleteExpired calls removed.
type sweepCounter struct {
	store.Store
	deleted *atomic.Int64
}

func (s sweepCounter) DeleteExpired(ctx context.Context) (int, error) {
	n, err := s.Store.DeleteExpired(ctx)
	s.deleted.Add(int64(n))
	return n, err
}

func TestSweepDeletesExpiredRecords(t *testing.T) {
	deleted := &atomic.Int64{}
	env := servertest.Start(t, servertest.Options{WrapStore: func(st store.Store) store.Store {
		return sweepCounter{Store: st, deleted: deleted}
	}})
	ctx := context.Background()
	now := time.Now()
	for key, exp := range map[string]time.Time{"gone": now.Add(-time.Minute), "kept": now.Add(time.Hour)} {
		if _, err := env.Store.Create(ctx, store.Record{Kind: "oauth2-session", Account: env.AccountID, Key: key,
			Data: []byte(`{}`), ExpiresAt: exp}, store.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { server.SweepExpired(env.Server, sctx, 10*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for deleted.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sweeper deleted nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := deleted.Load(); got != 1 {
		t.Fatalf("sweeper deleted %d records, want exactly the expired one", got)
	}
	if _, err := env.Store.Get(ctx, "oauth2-session", env.AccountID, "kept"); err != nil {
		t.Fatalf("live record swept: %v", err)
	}
	if _, err := env.Store.Get(ctx, "oauth2-session", env.AccountID, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired record: %v", err)
	}
}
