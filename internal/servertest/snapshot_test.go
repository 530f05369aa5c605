package servertest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSnapshotDiff: a snapshot sees every write the server's store takes,
// inside transactions too, except the audit trail and expiry.
func TestSnapshotDiff(t *testing.T) {
	clock := &testClock{t: time.Now()}
	env := Start(t, Options{Now: clock.Now})
	ctx := Context(t)
	st := env.Store
	if _, err := st.Create(ctx, store.Record{Kind: "probe", Account: "acct", Key: "kept", Data: []byte(`1`)}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, store.Record{Kind: "probe", Account: "acct", Key: "expiring", Data: []byte(`1`),
		ExpiresAt: clock.Now().Add(time.Minute)}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	set := func(data string) func(store.Record) (store.Record, error) {
		return func(r store.Record) (store.Record, error) { r.Data = []byte(data); return r, nil }
	}
	cases := []struct {
		name string
		act  func(ctx context.Context) error
		want string // "" for no change
	}{
		{"ok/no write", func(ctx context.Context) error { _, err := st.Get(ctx, "probe", "acct", "kept"); return err }, ""},
		{"fail/create", func(ctx context.Context) error {
			_, err := st.Create(ctx, store.Record{Kind: "other", Account: "acct2", Key: "new", Data: []byte(`{}`)}, store.CreateOptions{})
			return err
		}, "added other|acct2|new (version 1)"},
		{"fail/create in a transaction", func(ctx context.Context) error {
			return st.InTx(ctx, func(tx store.Tx) error {
				_, err := tx.Create(ctx, store.Record{Kind: "third", Account: "acct3", Key: "tx", Data: []byte(`{}`)}, store.CreateOptions{})
				return err
			})
		}, "added third|acct3|tx (version 1)"},
		{"fail/update", func(ctx context.Context) error {
			_, err := st.Update(ctx, "probe", "acct", "kept", set(`2`))
			return err
		},
			"changed probe|acct|kept (version 1 -> 2)"},
		{"fail/delete", func(ctx context.Context) error { return st.Delete(ctx, "other", "acct2", "new") }, "removed other|acct2|new"},
		{"ok/audit trail is left out", func(ctx context.Context) error {
			_, err := st.Create(ctx, store.Record{Kind: audit.KindEvent, Account: "acct", Key: "1", Data: []byte(`{}`)}, store.CreateOptions{})
			return err
		}, ""},
		{"ok/expiry is not a change", func(context.Context) error { clock.Advance(2 * time.Minute); return nil }, ""},
	}
	for _, tc := range cases {
		before := env.Snapshot(t)
		if err := tc.act(ctx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := strings.Join(before.Diff(env.Snapshot(t)), "; ")
		if got != tc.want {
			t.Errorf("%s: diff %q, want %q", tc.name, got, tc.want)
		}
	}
}
