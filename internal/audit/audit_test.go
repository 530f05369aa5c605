package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), sqlite.Options{Path: t.TempDir() + "/a.db"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: pgtest.NewDatabase(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		fn(t, st)
	})
}

func event(op, workload string) Event {
	return Event{Account: "123456789012", Service: "bedrock-agentcore", Operation: op, Outcome: OutcomeSuccess,
		Workload: workload, Principal: "arn:aws:iam::123456789012:user/admin"}
}

func TestConcurrentAppendsFormOneChain(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		tr := NewTrail(st, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := tr.Append(ctx, event("GetResourceApiKey", fmt.Sprintf("agent-%d", i%4)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("append: %v", err)
			}
		}
		rep, err := tr.Verify(ctx, "123456789012")
		if err != nil || !rep.OK() || rep.Events != 40 {
			t.Fatalf("verify = %+v, %v; want 40 intact events", rep, err)
		}
		got, next, err := tr.Lookup(ctx, "123456789012", Filter{Workload: "agent-1"}, 0, 100)
		if err != nil || len(got) != 10 || next != 0 {
			t.Fatalf("lookup workload agent-1: %d events, next %d, %v", len(got), next, err)
		}
		page, next, err := tr.Lookup(ctx, "123456789012", Filter{}, 0, 15)
		if err != nil || len(page) != 15 || next != 15 {
			t.Fatalf("first page: %d events, next %d, %v", len(page), next, err)
		}
		rest, next, err := tr.Lookup(ctx, "123456789012", Filter{}, next, 100)
		if err != nil || len(rest) != 25 || next != 0 || rest[0].Seq != 16 {
			t.Fatalf("second page: %d events, next %d, %v", len(rest), next, err)
		}
		// Another account's chain is separate.
		if rep, _ := tr.Verify(ctx, "999999999999"); !rep.OK() || rep.Events != 0 {
			t.Fatalf("empty account: %+v", rep)
		}
	})
}

func TestTamperingIsDetected(t *testing.T) {
	const acct = "123456789012"
	cases := []struct {
		name     string
		tamper   func(ctx context.Context, st store.Store) error
		brokenAt int64
	}{
		{"fail/modified-record", func(ctx context.Context, st store.Store) error {
			_, err := st.Update(ctx, KindEvent, acct, seqKey(3), func(cur store.Record) (store.Record, error) {
				var e Event
				_ = json.Unmarshal(cur.Data, &e)
				e.Outcome = OutcomeDenied // rewrite history
				cur.Data, _ = json.Marshal(e)
				return cur, nil
			})
			return err
		}, 3},
		{"fail/removed-middle", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, KindEvent, acct, seqKey(2))
		}, 2},
		{"fail/removed-last", func(ctx context.Context, st store.Store) error {
			return st.Delete(ctx, KindEvent, acct, seqKey(5))
		}, 5},
		{"fail/rehashed-record", func(ctx context.Context, st store.Store) error {
			// Recomputing the record's own hash is not enough: the next
			// record links to the old one.
			_, err := st.Update(ctx, KindEvent, acct, seqKey(2), func(cur store.Record) (store.Record, error) {
				var e Event
				_ = json.Unmarshal(cur.Data, &e)
				e.Workload = "someone-else"
				e.Hash, _ = digest(e)
				cur.Data, _ = json.Marshal(e)
				return cur, nil
			})
			return err
		}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			backends(t, func(t *testing.T, st store.Store) {
				ctx := context.Background()
				tr := NewTrail(st, func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) })
				for i := range 5 {
					if _, err := tr.Append(ctx, event("CreateWorkloadIdentity", fmt.Sprintf("w%d", i))); err != nil {
						t.Fatal(err)
					}
				}
				if rep, _ := tr.Verify(ctx, acct); !rep.OK() {
					t.Fatalf("intact chain reported broken: %+v", rep)
				}
				if err := tc.tamper(ctx, st); err != nil {
					t.Fatal(err)
				}
				rep, err := tr.Verify(ctx, acct)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() || rep.BrokenAt != tc.brokenAt || rep.Reason == "" {
					t.Fatalf("verify after tampering = %+v, want broken at %d", rep, tc.brokenAt)
				}
			})
		})
	}
}

// gatedStore blocks the first transaction until released and counts them.
type gatedStore struct {
	store.Store
	gate  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	count int
}

func (g *gatedStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	g.mu.Lock()
	g.count++
	g.mu.Unlock()
	g.once.Do(func() { <-g.gate })
	return g.Store.InTx(ctx, fn)
}

func TestGroupCommitBatchesQueuedAppends(t *testing.T) {
	ctx := context.Background()
	base, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.MemoryPath})
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	st := &gatedStore{Store: base, gate: make(chan struct{})}
	tr := NewTrail(st, nil)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the leader: its commit blocks on the gate
		defer wg.Done()
		if _, err := tr.Append(ctx, event("GetResourceApiKey", "first")); err != nil {
			t.Error(err)
		}
	}()
	for { // wait until the leader is inside its transaction
		st.mu.Lock()
		n := st.count
		st.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := tr.Append(ctx, event("GetResourceApiKey", fmt.Sprintf("queued-%d", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	for { // all 20 queued behind the leader
		tr.mu.Lock()
		n := len(tr.queue)
		tr.mu.Unlock()
		if n == 20 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(st.gate)
	wg.Wait()
	if st.count != 2 {
		t.Fatalf("21 appends took %d transactions, want 2 (one batch behind the leader)", st.count)
	}
	rep, err := tr.Verify(ctx, "123456789012")
	if err != nil || !rep.OK() || rep.Events != 21 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

// TestLinkMatchesMarshal pins link's single-marshal shortcut to its
// definition: the hash is digest's, and the stored bytes are exactly
// json.Marshal of the linked event, whatever the fields hold.
func TestLinkMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC)
	full := func(s string) Event {
		// Every string field set, found by reflection so that a field
		// added to Event later is covered too.
		var e Event
		v := reflect.ValueOf(&e).Elem()
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.String {
				f.SetString(v.Type().Field(i).Name + ":" + s)
			}
		}
		e.Seq, e.Time, e.Hash = 42, at, ""
		return e
	}
	tricky := []string{
		"",
		"plain",
		`quote " and backslash \`,
		"html <script>&amp;</script>",
		"controls \x00\x01\b\f\n\r\t\x1f\x7f",
		"line separators \u2028\u2029",
		"non-ASCII héllo 世界 🙂",
		"invalid UTF-8 \xff\xfe\xc3",
		"ends with a quote\"",
		`"hash":""}`,
	}
	var cases []Event
	for _, s := range tricky {
		cases = append(cases, full(s))
		e := event("GetResourceApiKey", s) // optional fields mostly empty
		e.Time, e.PrevHash, e.Seq = at, genesis, 1
		cases = append(cases, e)
	}
	cases = append(cases,
		Event{PrevHash: genesis},
		Event{Seq: -1, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), Account: "a", PrevHash: genesis},
		Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)), Account: "a", PrevHash: "prev"},
	)
	for i, e := range cases {
		want, err := digest(e)
		if err != nil {
			t.Fatal(err)
		}
		linked := e
		linked.Hash = "stale, overwritten"
		data, err := link(&linked)
		if err != nil {
			t.Fatalf("case %d: link: %v", i, err)
		}
		if linked.Hash != want {
			t.Errorf("case %d: link hash %s, digest %s", i, linked.Hash, want)
		}
		stored, err := json.Marshal(linked)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, stored) {
			t.Errorf("case %d: link stored\n%s\njson.Marshal gives\n%s", i, data, stored)
		}
	}
}

func TestSeqKey(t *testing.T) {
	for _, seq := range []int64{0, 1, 9, 10, 12345, 1<<31 - 1, 1 << 53, math.MaxInt64, -1, math.MinInt64} {
		if got, want := seqKey(seq), fmt.Sprintf("%020d", seq); got != want {
			t.Errorf("seqKey(%d) = %q, want %q", seq, got, want)
		}
	}
}

// countingStore counts the chain-head writes of transactions: Swaps that
// succeeded and Updates.
type countingStore struct {
	store.Store
	mu             sync.Mutex
	swaps, updates int
	swapConflicts  int
}

func (c *countingStore) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return c.Store.InTx(ctx, func(tx store.Tx) error { return fn(countingTx{Tx: tx, c: c}) })
}

type countingTx struct {
	store.Tx
	c *countingStore
}

func (t countingTx) Swap(ctx context.Context, kind, account, key string, version int64, data []byte) (int64, error) {
	v, err := t.Tx.Swap(ctx, kind, account, key, version, data)
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if err == nil {
		t.c.swaps++
	} else if errors.Is(err, store.ErrConflict) {
		t.c.swapConflicts++
	}
	return v, err
}

func (t countingTx) Update(ctx context.Context, kind, account, key string, fn store.UpdateFunc) (store.Record, error) {
	t.c.mu.Lock()
	t.c.updates++
	t.c.mu.Unlock()
	return t.Tx.Update(ctx, kind, account, key, fn)
}

// TestTrailsSharingAStore: two trails on one store, as two replicas (or
// a server and an admin command) are, extend one chain. Each trail writes
// the head without reading it while it is the only writer, relinks from
// the stored head when the other one moved it, and after such a conflict
// goes straight to the locked update for swapBackoff commits.
func TestTrailsSharingAStore(t *testing.T) {
	order := "aaaab" + strings.Repeat("a", swapBackoff+3) + "babbb"
	// The expected head writes, commit by commit.
	type state struct {
		tip   bool // has committed before
		stale bool // the other trail appended since
		skip  int
	}
	var wantUpdates, wantSwaps, wantConflicts int
	trails := map[rune]*state{'a': {}, 'b': {}}
	for _, who := range order {
		st := trails[who]
		switch {
		case !st.tip:
			wantUpdates++
		case st.skip > 0:
			wantUpdates++
			st.skip--
		case st.stale:
			wantConflicts++
			wantUpdates++
			st.skip = swapBackoff
		default:
			wantSwaps++
		}
		st.tip, st.stale = true, false
		for other, o := range trails {
			if other != who {
				o.stale = true
			}
		}
	}
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		cs := &countingStore{Store: st}
		a, b := NewTrail(cs, nil), NewTrail(cs, nil)
		for i, who := range order {
			tr := a
			if who == 'b' {
				tr = b
			}
			e, err := tr.Append(ctx, event("GetResourceApiKey", fmt.Sprintf("agent-%c", who)))
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			if e.Seq != int64(i+1) {
				t.Fatalf("append %d by %c got seq %d, want %d", i, who, e.Seq, i+1)
			}
		}
		rep, err := a.Verify(ctx, "123456789012")
		if err != nil || !rep.OK() || rep.Events != int64(len(order)) {
			t.Fatalf("verify = %+v, %v; want %d intact events", rep, err, len(order))
		}
		if cs.updates != wantUpdates || cs.swaps != wantSwaps || cs.swapConflicts != wantConflicts {
			t.Fatalf("head writes: %d updates, %d swaps, %d failed swaps; want %d, %d, %d",
				cs.updates, cs.swaps, cs.swapConflicts, wantUpdates, wantSwaps, wantConflicts)
		}
	})
	// The order must exercise every path: swaps, a conflict, the
	// backoff, and swaps resuming after it.
	if wantSwaps < 5 || wantConflicts < 2 || wantUpdates < swapBackoff {
		t.Fatalf("order %q exercises too little: %d swaps, %d conflicts, %d updates", order, wantSwaps, wantConflicts, wantUpdates)
	}
}

// TestIntents: a change noted with Begin is recorded once, by AppendFor
// or, if that never happens, by Recover (with outcome Unknown), even when
// several trails recover at once.
func TestIntents(t *testing.T) {
	const acct = "123456789012"
	backends(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		tr := NewTrail(st, nil)
		begin := func(name string) Intent {
			t.Helper()
			e := event("CreateWorkloadIdentity", "")
			e.Resource, e.RequestID = name, "req-"+name
			in, err := tr.Begin(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		intents := func() int {
			t.Helper()
			n, err := st.Count(ctx, KindIntent, acct)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		done := begin("done")
		e := event("CreateWorkloadIdentity", "")
		e.Resource = "done"
		if _, err := tr.AppendFor(ctx, done, e); err != nil {
			t.Fatal(err)
		}
		if n := intents(); n != 0 {
			t.Fatalf("%d intents left after AppendFor, want 0", n)
		}
		other := e
		other.Account = "999999999999"
		if _, err := tr.AppendFor(ctx, begin("mismatch"), other); err == nil {
			t.Fatal("AppendFor accepted an event of another account than its intent")
		}

		for _, name := range []string{"a", "b", "c", "d"} {
			begin(name)
		}
		if n, err := tr.Recover(ctx, acct, time.Now().Add(-time.Minute)); err != nil || n != 0 {
			t.Fatalf("Recover before the intents began = %d, %v; want 0", n, err)
		}
		// Four trails (replicas) recover the five abandoned intents at once.
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := NewTrail(st, nil).Recover(ctx, acct, time.Now().Add(time.Second))
				if err != nil {
					t.Errorf("Recover: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 5 || intents() != 0 {
			t.Fatalf("recovered %d intents, %d left; want 5 and 0", total, intents())
		}
		got, _, err := tr.Lookup(ctx, acct, Filter{Outcome: OutcomeUnknown}, 0, 100)
		if err != nil || len(got) != 5 {
			t.Fatalf("Unknown records: %d, %v; want 5", len(got), err)
		}
		names := map[string]bool{}
		for _, e := range got {
			if e.ErrorCode != ErrorInterrupted || e.Operation != "CreateWorkloadIdentity" || e.RequestID != "req-"+e.Resource {
				t.Fatalf("recovered record %+v", e)
			}
			names[e.Resource] = true
		}
		if len(names) != 5 {
			t.Fatalf("recovered %v, want each of mismatch, a, b, c, d once", names)
		}
		// The trail that appends next finds the head moved by the others.
		if _, err := tr.Append(ctx, event("GetResourceApiKey", "w")); err != nil {
			t.Fatal(err)
		}
		rep, err := tr.Verify(ctx, acct)
		if err != nil || !rep.OK() || rep.Events != 7 {
			t.Fatalf("verify = %+v, %v; want 7 intact events", rep, err)
		}
	})
}
