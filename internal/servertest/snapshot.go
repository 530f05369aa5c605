package servertest

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// volatileKinds are left out of snapshots: they change on purpose while a
// hostile request is refused.
var volatileKinds = map[string]string{
	audit.KindEvent: "every refusal of a credential is audited on purpose",
	audit.KindHead:  "the audit chain's head moves with every audited refusal",
}

// address is where a record lives.
type address struct{ kind, account string }

// trackingStore sees every (kind, account) the server uses, so that a
// snapshot can list them all: the Store interface cannot enumerate kinds
// or accounts. Every write goes through it, so a record a hostile request
// created is in the next snapshot. Methods it does not override (added to
// the interface later) pass through untracked.
type trackingStore struct {
	store.Store
	seen *seenSet
}

type seenSet struct {
	mu    sync.Mutex
	addrs map[address]struct{}
}

func (s *seenSet) add(kind, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs[address{kind, account}] = struct{}{}
}

func (s *seenSet) list() []address {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]address, 0, len(s.addrs))
	for a := range s.addrs {
		out = append(out, a)
	}
	return out
}

func track(st store.Store) *trackingStore {
	return &trackingStore{Store: st, seen: &seenSet{addrs: map[address]struct{}{}}}
}

func (s *trackingStore) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	s.seen.add(kind, account)
	return s.Store.Get(ctx, kind, account, key)
}

func (s *trackingStore) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	s.seen.add(rec.Kind, rec.Account)
	return s.Store.Create(ctx, rec, opts)
}

func (s *trackingStore) CreateMany(ctx context.Context, recs []store.Record) error {
	for _, r := range recs {
		s.seen.add(r.Kind, r.Account)
	}
	return s.Store.CreateMany(ctx, recs)
}

func (s *trackingStore) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	s.seen.add(kind, account)
	return s.Store.Update(ctx, kind, account, key, fn)
}

func (s *trackingStore) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	s.seen.add(kind, account)
	return s.Store.Swap(ctx, kind, account, key, version, data)
}

func (s *trackingStore) Delete(ctx context.Context, kind, account, key string) error {
	s.seen.add(kind, account)
	return s.Store.Delete(ctx, kind, account, key)
}

func (s *trackingStore) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	s.seen.add(kind, account)
	return s.Store.List(ctx, kind, account, opts)
}

func (s *trackingStore) Count(ctx context.Context, kind, account string) (int, error) {
	s.seen.add(kind, account)
	return s.Store.Count(ctx, kind, account)
}

func (s *trackingStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx store.Tx) error { return fn(trackingTx{Tx: tx, seen: s.seen}) })
}

type trackingTx struct {
	store.Tx
	seen *seenSet
}

func (t trackingTx) Get(ctx context.Context, kind, account, key string) (store.Record, error) {
	t.seen.add(kind, account)
	return t.Tx.Get(ctx, kind, account, key)
}

func (t trackingTx) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	t.seen.add(rec.Kind, rec.Account)
	return t.Tx.Create(ctx, rec, opts)
}

func (t trackingTx) CreateMany(ctx context.Context, recs []store.Record) error {
	for _, r := range recs {
		t.seen.add(r.Kind, r.Account)
	}
	return t.Tx.CreateMany(ctx, recs)
}

func (t trackingTx) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	t.seen.add(kind, account)
	return t.Tx.Update(ctx, kind, account, key, fn)
}

func (t trackingTx) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	t.seen.add(kind, account)
	return t.Tx.Swap(ctx, kind, account, key, version, data)
}

func (t trackingTx) Delete(ctx context.Context, kind, account, key string) error {
	t.seen.add(kind, account)
	return t.Tx.Delete(ctx, kind, account, key)
}

func (t trackingTx) List(ctx context.Context, kind, account string, opts store.ListOptions) (store.Page, error) {
	t.seen.add(kind, account)
	return t.Tx.List(ctx, kind, account, opts)
}

func (t trackingTx) Count(ctx context.Context, kind, account string) (int, error) {
	t.seen.add(kind, account)
	return t.Tx.Count(ctx, kind, account)
}

// recordState is what a snapshot keeps of one record.
type recordState struct {
	version   int64
	data      []byte
	expiresAt time.Time
}

// Snapshot is every live record of the server's store, audit trail
// excluded, keyed by "kind|account|key".
type Snapshot struct {
	records map[string]recordState
	// at is the server clock when the snapshot was taken.
	at time.Time
}

// Len is the number of records in the snapshot.
func (s Snapshot) Len() int { return len(s.records) }

// Snapshot reads every record of every (kind, account) the server has used
// since it started, except the audit trail. On a reused SQLite file, kinds
// the server has not touched since Start are not seen.
func (e *Env) Snapshot(t testing.TB) Snapshot {
	t.Helper()
	ctx := Context(t)
	snap := Snapshot{records: map[string]recordState{}, at: e.now()}
	for _, a := range e.tracked.seen.list() {
		if _, skip := volatileKinds[a.kind]; skip {
			continue
		}
		opts := store.ListOptions{Limit: 500}
		for {
			page, err := e.tracked.Store.List(ctx, a.kind, a.account, opts)
			if err != nil {
				t.Fatalf("snapshot of %s/%s: %v", a.kind, a.account, err)
			}
			for _, r := range page.Records {
				snap.records[r.Kind+"|"+r.Account+"|"+r.Key] = recordState{version: r.Version, data: r.Data, expiresAt: r.ExpiresAt}
			}
			if page.Next == "" {
				break
			}
			opts.After = page.Next
		}
	}
	return snap
}

// Diff lists what changed from s to after. A record that is gone only
// because its expiry passed in between is not a change: expiry is the
// store's own bookkeeping (M2M token caches, 3LO sessions, refresh leases
// and built-in IdP codes vanish on their own), not a write.
func (s Snapshot) Diff(after Snapshot) []string {
	var diffs []string
	for k, b := range s.records {
		a, ok := after.records[k]
		switch {
		case !ok && !b.expiresAt.IsZero() && !b.expiresAt.After(after.at):
		case !ok:
			diffs = append(diffs, "removed "+k)
		case a.version != b.version || !bytes.Equal(a.data, b.data) || !a.expiresAt.Equal(b.expiresAt):
			diffs = append(diffs, fmt.Sprintf("changed %s (version %d -> %d)", k, b.version, a.version))
		}
	}
	for k, a := range after.records {
		if _, ok := s.records[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("added %s (version %d)", k, a.version))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// RequireUnchanged fails the test if the store differs from before
// (audit trail excluded; see Snapshot).
func (e *Env) RequireUnchanged(t testing.TB, before Snapshot) {
	t.Helper()
	if diffs := before.Diff(e.Snapshot(t)); len(diffs) > 0 {
		t.Fatalf("the store changed:\n%s", joinLines(diffs))
	}
}

// Unchanged runs fn, a request that must be refused, and fails the test if
// it changed any record of the store (audit trail excluded).
func (e *Env) Unchanged(t testing.TB, fn func()) {
	t.Helper()
	before := e.Snapshot(t)
	if before.Len() == 0 {
		t.Fatal("empty snapshot: the store is not tracked")
	}
	fn()
	e.RequireUnchanged(t, before)
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
