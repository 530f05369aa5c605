package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func concurrencyCases() []testCase {
	return []testCase{
		{"NoLostUpdates", testNoLostUpdates},
		{"CreateRace", testCreateRace},
		{"SwapRace", testSwapRace},
		{"MaxCountRace", testMaxCountRace},
		{"Transfers", testTransfers},
	}
}

type counter struct {
	N int `json:"n"`
}

func addN(delta int) store.UpdateFunc {
	return func(cur store.Record) (store.Record, error) {
		var c counter
		if err := json.Unmarshal(cur.Data, &c); err != nil {
			return cur, fmt.Errorf("decode %q: %w", cur.Data, err)
		}
		c.N += delta
		data, err := json.Marshal(c)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	}
}

func decodeN(t *testing.T, r store.Record) int {
	t.Helper()
	var c counter
	if err := json.Unmarshal(r.Data, &c); err != nil {
		t.Fatalf("decode %s: %v", r.Key, err)
	}
	return c.N
}

// parallel runs fn(i) for i in [0,n) on n goroutines released together, to
// maximise overlap.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func testNoLostUpdates(t *testing.T, e *env) {
	e.create(t, rec("ctr", "acct", "c", `{"n":0}`))
	const workers, rounds = 50, 10
	parallel(workers, func(int) {
		for range rounds {
			if _, err := e.s.Update(e.ctx, "ctr", "acct", "c", addN(1)); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	})
	got := e.get(t, "ctr", "acct", "c")
	if n := decodeN(t, got); n != workers*rounds || got.Version != workers*rounds+1 {
		t.Fatalf("counter = %d v%d, want %d v%d", n, got.Version, workers*rounds, workers*rounds+1)
	}
}

func testCreateRace(t *testing.T, e *env) {
	const workers = 20
	var (
		mu        sync.Mutex
		winners   []store.Record
		conflicts int
	)
	parallel(workers, func(i int) {
		out, err := e.s.Create(e.ctx, rec("item", "acct", "contested", fmt.Sprint(i)), store.CreateOptions{})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			winners = append(winners, out)
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Errorf("Create: %v", err)
		}
	})
	if len(winners) != 1 || conflicts != workers-1 {
		t.Fatalf("%d winners and %d conflicts, want 1 and %d", len(winners), conflicts, workers-1)
	}
	sameRecord(t, "stored winner", e.get(t, "item", "acct", "contested"), winners[0])
}

func testMaxCountRace(t *testing.T, e *env) {
	// Records outside the (kind, account) scope, or expired, must not count.
	for i := range 3 {
		e.create(t, rec("item", "other-acct", fmt.Sprint("o", i), "x"))
		e.create(t, rec("other-kind", "acct", fmt.Sprint("o", i), "x"))
	}
	for i := range 4 {
		e.create(t, rec("item", "acct", fmt.Sprint("pre", i), "x"))
	}
	old := rec("item", "acct", "expired", "x")
	old.ExpiresAt = startTime()
	e.create(t, old)

	const workers, limit, pre = 30, 10, 4
	var (
		mu      sync.Mutex
		won     []string
		refused int
	)
	parallel(workers, func(i int) {
		key := fmt.Sprintf("new%02d", i)
		_, err := e.s.Create(e.ctx, rec("item", "acct", key, "x"), store.CreateOptions{MaxCount: limit})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			won = append(won, key)
		case errors.Is(err, store.ErrLimitExceeded):
			refused++
		default:
			t.Errorf("Create: %v", err)
		}
	})
	if len(won) != limit-pre || refused != workers-(limit-pre) {
		t.Fatalf("%d created and %d refused, want %d and %d", len(won), refused, limit-pre, workers-(limit-pre))
	}
	if n := e.count(t, "item", "acct"); n != limit {
		t.Fatalf("Count = %d, want %d", n, limit)
	}
	want := []string{"pre0", "pre1", "pre2", "pre3"}
	want = append(want, won...)
	slices.Sort(want)
	if got := e.keys(t, "item", "acct"); !slices.Equal(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
}

func testTransfers(t *testing.T, e *env) {
	const total = 2000
	e.create(t, rec("acct", "bank", "a", `{"n":1000}`))
	e.create(t, rec("acct", "bank", "b", `{"n":1000}`))
	const workers, rounds = 16, 8
	parallel(workers, func(i int) {
		rng := rand.New(rand.NewPCG(uint64(i), 99))
		for range rounds {
			amount := rng.IntN(101) - 50
			err := e.s.InTx(e.ctx, func(tx store.Tx) error {
				// Always lock a before b so correct backends cannot
				// deadlock; the direction of money varies by sign.
				if _, err := tx.Update(e.ctx, "acct", "bank", "a", addN(-amount)); err != nil {
					return err
				}
				_, err := tx.Update(e.ctx, "acct", "bank", "b", addN(amount))
				return err
			})
			if err != nil {
				t.Errorf("transfer: %v", err)
				return
			}
		}
	})
	a, b := e.get(t, "acct", "bank", "a"), e.get(t, "acct", "bank", "b")
	if sum := decodeN(t, a) + decodeN(t, b); sum != total {
		t.Fatalf("a+b = %d, want %d", sum, total)
	}
	if a.Version != workers*rounds+1 || b.Version != workers*rounds+1 {
		t.Fatalf("versions a=%d b=%d, want %d each", a.Version, b.Version, workers*rounds+1)
	}
}

// testSwapRace: of many swaps from the same version, exactly one wins.
func testSwapRace(t *testing.T, e *env) {
	base := e.create(t, rec("item", "acct", "contested", "base"))
	const workers = 20
	var (
		mu        sync.Mutex
		winners   []string
		conflicts int
	)
	parallel(workers, func(i int) {
		_, err := e.s.Swap(e.ctx, "item", "acct", "contested", base.Version, []byte(fmt.Sprint(i)))
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			winners = append(winners, fmt.Sprint(i))
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Errorf("Swap: %v", err)
		}
	})
	if len(winners) != 1 || conflicts != workers-1 {
		t.Fatalf("%d winners and %d conflicts, want 1 and %d", len(winners), conflicts, workers-1)
	}
	if got := e.get(t, "item", "acct", "contested"); string(got.Data) != winners[0] || got.Version != base.Version+1 {
		t.Fatalf("stored %q v%d, want the winner's %q v%d", got.Data, got.Version, winners[0], base.Version+1)
	}
}
