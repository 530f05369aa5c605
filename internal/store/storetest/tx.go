package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func txCases() []testCase {
	return []testCase{
		{"Commit", testTxCommit},
		{"RollbackOnError", testTxRollbackOnError},
		{"RollbackOnConflict", testTxRollbackOnConflict},
		{"RollbackOnLimit", testTxRollbackOnLimit},
		{"RollbackOnUpdateError", testTxRollbackOnUpdateError},
		{"UsableAfterConflict", testTxUsableAfterConflict},
		{"UpdateAfterSwapConflict", testTxUpdateAfterSwapConflict},
	}
}

func appendData(suffix string) store.UpdateFunc {
	return func(cur store.Record) (store.Record, error) {
		cur.Data = append(cur.Data, suffix...)
		return cur, nil
	}
}

// seedTx creates the records the transaction cases modify: "upd" to be
// updated and "del" to be deleted.
func (e *env) seedTx(t *testing.T) (upd, del store.Record) {
	t.Helper()
	return e.create(t, rec("item", "acct", "upd", "u")), e.create(t, rec("item", "acct", "del", "d"))
}

// wantUntouched checks that a rolled-back transaction left the seed as it
// was and created nothing.
func (e *env) wantUntouched(t *testing.T, upd, del store.Record, created ...string) {
	t.Helper()
	sameRecord(t, "updated-then-rolled-back record", e.get(t, "item", "acct", "upd"), upd)
	sameRecord(t, "deleted-then-rolled-back record", e.get(t, "item", "acct", "del"), del)
	for _, k := range created {
		e.wantGone(t, "item", "acct", k)
	}
	if n := e.count(t, "item", "acct"); n != 2 {
		t.Errorf("Count after rollback = %d, want 2", n)
	}
}

// writeAll performs one of each kind of write inside tx.
func writeAll(e *env, tx store.Tx) error {
	if _, err := tx.Create(e.ctx, rec("item", "acct", "new", "n"), store.CreateOptions{}); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := tx.Update(e.ctx, "item", "acct", "upd", appendData("+tx")); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := tx.Delete(e.ctx, "item", "acct", "del"); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	// The Update above made "upd" version 2.
	if _, err := tx.Swap(e.ctx, "item", "acct", "upd", 2, []byte("u+tx+swap")); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	return nil
}

func testTxCommit(t *testing.T, e *env) {
	e.seedTx(t)
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if err := writeAll(e, tx); err != nil {
			return err
		}
		// The transaction reads its own writes.
		got, err := tx.Get(e.ctx, "item", "acct", "new")
		if err != nil || string(got.Data) != "n" {
			return fmt.Errorf("tx.Get of own create = %q, %v", got.Data, err)
		}
		if _, err := tx.Get(e.ctx, "item", "acct", "del"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tx.Get of own delete = %v, want ErrNotFound", err)
		}
		page, err := tx.List(e.ctx, "item", "acct", store.ListOptions{})
		if err != nil {
			return err
		}
		var keys []string
		for _, r := range page.Records {
			keys = append(keys, r.Key)
		}
		if !slices.Equal(keys, []string{"new", "upd"}) {
			return fmt.Errorf("tx.List = %q, want [new upd]", keys)
		}
		if n, err := tx.Count(e.ctx, "item", "acct"); err != nil || n != 2 {
			return fmt.Errorf("tx.Count = %d, %v; want 2", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got := e.get(t, "item", "acct", "new"); string(got.Data) != "n" || got.Version != 1 {
		t.Errorf("created record = %q v%d", got.Data, got.Version)
	}
	if got := e.get(t, "item", "acct", "upd"); string(got.Data) != "u+tx+swap" || got.Version != 3 {
		t.Errorf("updated record = %q v%d", got.Data, got.Version)
	}
	e.wantGone(t, "item", "acct", "del")
}

func testTxRollbackOnError(t *testing.T, e *env) {
	upd, del := e.seedTx(t)
	errBoom := errors.New("boom")
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if err := writeAll(e, tx); err != nil {
			return err
		}
		return fmt.Errorf("after writes: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	e.wantUntouched(t, upd, del, "new")
}

func testTxRollbackOnConflict(t *testing.T, e *env) {
	upd, del := e.seedTx(t)
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if err := writeAll(e, tx); err != nil {
			return err
		}
		_, err := tx.Create(e.ctx, rec("item", "acct", "new", "again"), store.CreateOptions{})
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("duplicate create in tx = %v, want ErrConflict", err)
		}
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("InTx = %v, want ErrConflict", err)
	}
	e.wantUntouched(t, upd, del, "new")
}

func testTxRollbackOnLimit(t *testing.T, e *env) {
	upd, del := e.seedTx(t)
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if err := writeAll(e, tx); err != nil {
			return err
		}
		// "new" and "upd" are live inside the transaction.
		_, err := tx.Create(e.ctx, rec("item", "acct", "third", "t"), store.CreateOptions{MaxCount: 2})
		return err
	})
	if !errors.Is(err, store.ErrLimitExceeded) {
		t.Fatalf("InTx = %v, want ErrLimitExceeded", err)
	}
	e.wantUntouched(t, upd, del, "new", "third")
}

func testTxRollbackOnUpdateError(t *testing.T, e *env) {
	upd, del := e.seedTx(t)
	errBoom := errors.New("boom")
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if err := writeAll(e, tx); err != nil {
			return err
		}
		_, err := tx.Update(e.ctx, "item", "acct", "upd", func(store.Record) (store.Record, error) {
			return store.Record{}, errBoom
		})
		return err
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want the update fn's error", err)
	}
	e.wantUntouched(t, upd, del, "new")
}

// testTxUsableAfterConflict pins down that a sentinel error from Create does
// not poison the transaction, so "create, else update" works inside InTx.
func testTxUsableAfterConflict(t *testing.T, e *env) {
	e.seedTx(t)
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if _, err := tx.Create(e.ctx, rec("item", "acct", "upd", "x"), store.CreateOptions{}); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("create = %v, want ErrConflict", err)
		}
		if _, err := tx.Create(e.ctx, rec("item", "acct", "x", "x"), store.CreateOptions{MaxCount: 1}); !errors.Is(err, store.ErrLimitExceeded) {
			return fmt.Errorf("create = %v, want ErrLimitExceeded", err)
		}
		if _, err := tx.Update(e.ctx, "item", "acct", "upd", appendData("+after")); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got := e.get(t, "item", "acct", "upd"); string(got.Data) != "u+after" || got.Version != 2 {
		t.Fatalf("record after tx = %q v%d", got.Data, got.Version)
	}
}

// testTxUpdateAfterSwapConflict: a Swap that finds another version leaves
// the transaction usable, so the caller can fall back to Update in it (the
// audit trail does, when another replica moved the chain head).
func testTxUpdateAfterSwapConflict(t *testing.T, e *env) {
	upd, _ := e.seedTx(t)
	err := e.s.InTx(e.ctx, func(tx store.Tx) error {
		if _, err := tx.Swap(e.ctx, "item", "acct", "upd", upd.Version+5, []byte("stale")); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("stale swap in tx = %v, want ErrConflict", err)
		}
		_, err := tx.Update(e.ctx, "item", "acct", "upd", appendData("+fallback"))
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got := e.get(t, "item", "acct", "upd"); string(got.Data) != "u+fallback" || got.Version != upd.Version+1 {
		t.Fatalf("record = %q v%d, want %q v%d", got.Data, got.Version, "u+fallback", upd.Version+1)
	}
}
