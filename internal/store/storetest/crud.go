package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func crudCases() []testCase {
	return []testCase{
		{"RoundTrip", testRoundTrip},
		{"GetMissing", testGetMissing},
		{"DuplicateCreate", testDuplicateCreate},
		{"DeleteMissing", testDeleteMissing},
		{"Isolation", testIsolation},
		{"DataRoundTrip", testDataRoundTrip},
		{"VersionsAndTimestamps", testVersionsAndTimestamps},
		{"UpdateErrorLeavesRecord", testUpdateErrorLeavesRecord},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateWritesOnlyDataAndExpiry", testUpdateWritesOnlyDataAndExpiry},
		{"Expiry", testExpiry},
		{"DeleteExpired", testDeleteExpired},
		{"CountKind", testCountKind},
		{"CreateMany", testCreateMany},
		{"Swap", testSwap},
	}
}

func testCountKind(t *testing.T, e *env) {
	for _, r := range []store.Record{
		rec("token", "acct-1", "a", `{}`),
		rec("token", "acct-1", "b", `{}`),
		rec("token", "acct-2", "a", `{}`),
		rec("token", "acct-2/user", "a", `{}`),
		rec("tokens", "acct-1", "a", `{}`), // a longer kind sharing the prefix
		rec("other", "acct-1", "a", `{}`),
	} {
		e.create(t, r)
	}
	expiring := rec("token", "acct-3", "x", `{}`)
	expiring.ExpiresAt = e.now().Add(time.Minute)
	e.create(t, expiring)
	count := func() int {
		t.Helper()
		n, err := e.s.CountKind(e.ctx, "token")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 5 {
		t.Fatalf("CountKind(token) = %d, want 5", n)
	}
	e.clock.Advance(2 * time.Minute)
	if n := count(); n != 4 {
		t.Fatalf("CountKind(token) after expiry = %d, want 4", n)
	}
	if n, err := e.s.CountKind(e.ctx, "missing"); err != nil || n != 0 {
		t.Fatalf("CountKind(missing) = %d, %v; want 0", n, err)
	}
}

func testRoundTrip(t *testing.T, e *env) {
	in := rec("widget", "acct-1", "k1", `{"a":1}`)
	// Caller-supplied bookkeeping fields must be ignored by Create.
	in.Version = 42
	in.CreatedAt = startTime().Add(-time.Hour)
	in.UpdatedAt = startTime().Add(-time.Hour)
	created := e.create(t, in)
	want := store.Record{Kind: "widget", Account: "acct-1", Key: "k1", Data: []byte(`{"a":1}`),
		Version: 1, CreatedAt: e.now(), UpdatedAt: e.now()}
	sameRecord(t, "Create result", created, want)
	sameRecord(t, "Get after Create", e.get(t, "widget", "acct-1", "k1"), want)

	if err := e.s.Delete(e.ctx, "widget", "acct-1", "k1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	e.wantGone(t, "widget", "acct-1", "k1")
	if n := e.count(t, "widget", "acct-1"); n != 0 {
		t.Fatalf("Count after Delete = %d, want 0", n)
	}
}

func testGetMissing(t *testing.T, e *env) {
	e.wantGone(t, "widget", "acct-1", "nope")
	e.create(t, rec("widget", "acct-1", "other", "x"))
	e.wantGone(t, "widget", "acct-1", "nope")
	e.wantGone(t, "widget", "acct-1", "othe")
	e.wantGone(t, "widget", "acct-1", "other ")
}

func testDuplicateCreate(t *testing.T, e *env) {
	first := e.create(t, rec("widget", "acct-1", "dup", "first"))
	e.clock.Advance(time.Second)
	// MaxCount 1 means the kind is full as well: the duplicate still wins.
	for _, opts := range []store.CreateOptions{{}, {MaxCount: 100}, {MaxCount: 1}} {
		_, err := e.s.Create(e.ctx, rec("widget", "acct-1", "dup", "second"), opts)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second Create (%+v) = %v, want ErrConflict", opts, err)
		}
	}
	sameRecord(t, "Get after conflict", e.get(t, "widget", "acct-1", "dup"), first)
}

func testDeleteMissing(t *testing.T, e *env) {
	if err := e.s.Delete(e.ctx, "widget", "acct-1", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete of missing = %v, want ErrNotFound", err)
	}
	e.create(t, rec("widget", "acct-1", "once", "x"))
	if err := e.s.Delete(e.ctx, "widget", "acct-1", "once"); err != nil {
		t.Fatalf("first Delete: %v", err)
	}
	if err := e.s.Delete(e.ctx, "widget", "acct-1", "once"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
}

func testIsolation(t *testing.T, e *env) {
	// The pairs include ("a","bc") and ("ab","c") so that a backend that
	// builds addresses by naive concatenation collides.
	type addr struct{ kind, account string }
	addrs := []addr{{"a", "bc"}, {"ab", "c"}, {"a", "c"}, {"ab", "bc"}, {"widget", "acct-1"}, {"widget", "acct-2"}, {"gadget", "acct-1"}}
	for _, a := range addrs {
		e.create(t, rec(a.kind, a.account, "shared", a.kind+"|"+a.account))
	}
	for _, a := range addrs {
		if got := e.get(t, a.kind, a.account, "shared"); string(got.Data) != a.kind+"|"+a.account {
			t.Errorf("Get(%s/%s) Data = %q", a.kind, a.account, got.Data)
		}
		if n := e.count(t, a.kind, a.account); n != 1 {
			t.Errorf("Count(%s/%s) = %d, want 1", a.kind, a.account, n)
		}
		if keys := e.keys(t, a.kind, a.account); !slices.Equal(keys, []string{"shared"}) {
			t.Errorf("List(%s/%s) = %q, want [shared]", a.kind, a.account, keys)
		}
	}
	e.wantGone(t, "a", "b", "shared")
	e.wantGone(t, "widget", "acct-3", "shared")

	if _, err := e.s.Update(e.ctx, "ab", "c", "shared", func(r store.Record) (store.Record, error) {
		r.Data = []byte("changed")
		return r, nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := e.s.Delete(e.ctx, "widget", "acct-1", "shared"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, a := range addrs {
		switch a {
		case addr{"widget", "acct-1"}:
			e.wantGone(t, a.kind, a.account, "shared")
		case addr{"ab", "c"}:
			if got := e.get(t, a.kind, a.account, "shared"); string(got.Data) != "changed" || got.Version != 2 {
				t.Errorf("updated record = %q v%d", got.Data, got.Version)
			}
		default:
			if got := e.get(t, a.kind, a.account, "shared"); got.Version != 1 || string(got.Data) != a.kind+"|"+a.account {
				t.Errorf("bystander %s/%s = %q v%d", a.kind, a.account, got.Data, got.Version)
			}
		}
	}
}

func testDataRoundTrip(t *testing.T, e *env) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 300<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"json", []byte(`{"name":"Zoë","tags":["日本",""],"n":1.5e300}`)},
		{"every-byte", all},
		{"nul-bytes", []byte{0, 0, 'a', 0}},
		{"invalid-utf8", []byte{0xff, 0xfe, 0xc3, 0x28}},
		{"big-random", big},
	}
	for _, c := range cases {
		got := e.create(t, store.Record{Kind: "blob", Account: "acct", Key: c.name, Data: c.data})
		if !bytes.Equal(got.Data, c.data) {
			t.Errorf("%s: Create returned %d bytes, want %d", c.name, len(got.Data), len(c.data))
		}
		if got := e.get(t, "blob", "acct", c.name); !bytes.Equal(got.Data, c.data) {
			t.Errorf("%s: Get returned %d bytes, want %d", c.name, len(got.Data), len(c.data))
		}
	}
	// Update must round-trip too: write each payload over a non-empty one.
	for _, c := range cases {
		key := "upd-" + c.name
		e.create(t, store.Record{Kind: "blob", Account: "acct", Key: key, Data: []byte("seed")})
		out, err := e.s.Update(e.ctx, "blob", "acct", key, func(r store.Record) (store.Record, error) {
			r.Data = c.data
			return r, nil
		})
		if err != nil {
			t.Fatalf("%s: Update: %v", c.name, err)
		}
		if !bytes.Equal(out.Data, c.data) {
			t.Errorf("%s: Update returned %d bytes, want %d", c.name, len(out.Data), len(c.data))
		}
		if got := e.get(t, "blob", "acct", key); !bytes.Equal(got.Data, c.data) {
			t.Errorf("%s: Get after Update returned %d bytes, want %d", c.name, len(got.Data), len(c.data))
		}
	}
}

func testVersionsAndTimestamps(t *testing.T, e *env) {
	created := e.create(t, rec("widget", "acct", "v", "v1"))
	t0 := e.now()
	for v := int64(2); v <= 5; v++ {
		// Sub-millisecond steps catch backends that round to milliseconds.
		e.clock.Advance(time.Duration(v)*time.Second + 1500*time.Microsecond)
		var seen store.Record
		out, err := e.s.Update(e.ctx, "widget", "acct", "v", func(cur store.Record) (store.Record, error) {
			seen = cur
			cur.Data = []byte(fmt.Sprintf("v%d", v))
			return cur, nil
		})
		if err != nil {
			t.Fatalf("Update #%d: %v", v, err)
		}
		if seen.Version != v-1 || string(seen.Data) != fmt.Sprintf("v%d", v-1) {
			t.Errorf("Update #%d: fn saw v%d %q", v, seen.Version, seen.Data)
		}
		want := store.Record{Kind: "widget", Account: "acct", Key: "v", Data: []byte(fmt.Sprintf("v%d", v)),
			Version: v, CreatedAt: t0, UpdatedAt: e.now()}
		sameRecord(t, fmt.Sprintf("Update #%d result", v), out, want)
		sameRecord(t, fmt.Sprintf("Get after update #%d", v), e.get(t, "widget", "acct", "v"), want)
	}
	if !created.CreatedAt.Equal(t0) {
		t.Errorf("Create CreatedAt = %v, want %v", created.CreatedAt, t0)
	}
}

func testUpdateErrorLeavesRecord(t *testing.T, e *env) {
	before := e.create(t, rec("widget", "acct", "k", "original"))
	e.clock.Advance(time.Minute)
	errBoom := errors.New("boom")
	_, err := e.s.Update(e.ctx, "widget", "acct", "k", func(cur store.Record) (store.Record, error) {
		// Scribbling on the argument must not leak into the store.
		if len(cur.Data) > 0 {
			cur.Data[0] = 'X'
		}
		cur.Data = append(cur.Data, "-changed"...)
		return cur, fmt.Errorf("validating: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	sameRecord(t, "Get after failed Update", e.get(t, "widget", "acct", "k"), before)
}

func testUpdateMissing(t *testing.T, e *env) {
	called := false
	fn := func(cur store.Record) (store.Record, error) { called = true; return cur, nil }
	if _, err := e.s.Update(e.ctx, "widget", "acct", "nope", fn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update of missing = %v, want ErrNotFound", err)
	}
	e.create(t, rec("widget", "acct", "gone", "x"))
	if err := e.s.Delete(e.ctx, "widget", "acct", "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Update(e.ctx, "widget", "acct", "gone", fn); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update of deleted = %v, want ErrNotFound", err)
	}
	if called {
		t.Fatal("fn was called for a missing record")
	}
}

func testUpdateWritesOnlyDataAndExpiry(t *testing.T, e *env) {
	orig := e.create(t, rec("widget", "acct", "k", "one"))
	e.clock.Advance(time.Second)
	exp := e.now().Add(time.Hour)
	out, err := e.s.Update(e.ctx, "widget", "acct", "k", func(store.Record) (store.Record, error) {
		return store.Record{Kind: "other", Account: "x", Key: "y", Data: []byte("two"), Version: 99,
			CreatedAt: startTime().Add(-time.Hour), UpdatedAt: startTime().Add(time.Hour), ExpiresAt: exp}, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := store.Record{Kind: "widget", Account: "acct", Key: "k", Data: []byte("two"), Version: 2,
		CreatedAt: orig.CreatedAt, UpdatedAt: e.now(), ExpiresAt: exp}
	sameRecord(t, "Update result", out, want)
	sameRecord(t, "Get after Update", e.get(t, "widget", "acct", "k"), want)
	e.wantGone(t, "other", "x", "y")

	// Returning a zero ExpiresAt clears the expiry.
	if _, err := e.s.Update(e.ctx, "widget", "acct", "k", func(cur store.Record) (store.Record, error) {
		cur.ExpiresAt = time.Time{}
		return cur, nil
	}); err != nil {
		t.Fatalf("Update clearing expiry: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	if got := e.get(t, "widget", "acct", "k"); !got.ExpiresAt.IsZero() || got.Version != 3 {
		t.Fatalf("after clearing expiry: ExpiresAt %v Version %d", got.ExpiresAt, got.Version)
	}
}

func testExpiry(t *testing.T, e *env) {
	exp := e.now().Add(10 * time.Second)
	a := rec("tok", "acct", "a", "old")
	a.ExpiresAt = exp.In(time.FixedZone("UTC-3", -3*3600)) // zone must not matter
	gotA := e.create(t, a)
	sameTime(t, "ExpiresAt from Create", gotA.ExpiresAt, exp)
	e.create(t, rec("tok", "acct", "b", "forever"))
	c := rec("tok", "acct", "c", "later")
	c.ExpiresAt = exp.Add(10 * time.Second)
	e.create(t, c)

	e.clock.Set(exp.Add(-time.Microsecond))
	if got := e.get(t, "tok", "acct", "a"); string(got.Data) != "old" {
		t.Fatalf("just before expiry: Data %q", got.Data)
	}
	if n := e.count(t, "tok", "acct"); n != 3 {
		t.Fatalf("Count before expiry = %d, want 3", n)
	}

	e.clock.Set(exp) // expiry is inclusive: at ExpiresAt the record is gone
	e.wantGone(t, "tok", "acct", "a")
	if keys := e.keys(t, "tok", "acct"); !slices.Equal(keys, []string{"b", "c"}) {
		t.Fatalf("List after expiry = %q, want [b c]", keys)
	}
	if n := e.count(t, "tok", "acct"); n != 2 {
		t.Fatalf("Count after expiry = %d, want 2", n)
	}
	called := false
	if _, err := e.s.Update(e.ctx, "tok", "acct", "a", func(r store.Record) (store.Record, error) {
		called = true
		return r, nil
	}); !errors.Is(err, store.ErrNotFound) || called {
		t.Fatalf("Update of expired = %v (fn called: %v), want ErrNotFound", err, called)
	}
	if err := e.s.Delete(e.ctx, "tok", "acct", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete of expired = %v, want ErrNotFound", err)
	}

	e.clock.Advance(time.Second)
	fresh := e.create(t, rec("tok", "acct", "a", "new"))
	want := store.Record{Kind: "tok", Account: "acct", Key: "a", Data: []byte("new"), Version: 1,
		CreatedAt: e.now(), UpdatedAt: e.now()}
	sameRecord(t, "Create over expired", fresh, want)
	sameRecord(t, "Get of replacement", e.get(t, "tok", "acct", "a"), want)

	e.clock.Set(c.ExpiresAt)
	if keys := e.keys(t, "tok", "acct"); !slices.Equal(keys, []string{"a", "b"}) {
		t.Fatalf("List after second expiry = %q, want [a b]", keys)
	}
}

func testDeleteExpired(t *testing.T, e *env) {
	at := func(d time.Duration) time.Time { return startTime().Add(d) }
	type item struct {
		kind, account, key string
		exp                time.Time
	}
	items := []item{
		{"tok", "a1", "e1", at(time.Second)},
		{"sess", "a2", "e2", at(2 * time.Second)},
		{"tok", "a1", "e3", at(time.Hour)},
		{"tok", "a1", "p1", time.Time{}},
		{"sess", "a1", "p2", time.Time{}},
	}
	for _, it := range items {
		r := rec(it.kind, it.account, it.key, it.key)
		r.ExpiresAt = it.exp
		e.create(t, r)
	}
	deleteExpired := func(want int) {
		t.Helper()
		n, err := e.s.DeleteExpired(e.ctx)
		if err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if n != want {
			t.Fatalf("DeleteExpired at %v removed %d, want %d", e.now(), n, want)
		}
	}
	deleteExpired(0)

	e.clock.Set(at(2 * time.Second))
	deleteExpired(2)
	deleteExpired(0)
	// Rewind: rows that were merely invisible would reappear.
	e.clock.Set(startTime())
	e.wantGone(t, "tok", "a1", "e1")
	e.wantGone(t, "sess", "a2", "e2")
	for _, k := range []item{items[2], items[3], items[4]} {
		e.get(t, k.kind, k.account, k.key)
	}

	e.clock.Set(at(2 * time.Hour))
	deleteExpired(1)
	e.clock.Set(startTime())
	e.wantGone(t, "tok", "a1", "e3")
	e.get(t, "tok", "a1", "p1")
	e.get(t, "sess", "a1", "p2")
}

func testCreateMany(t *testing.T, e *env) {
	batch := []store.Record{
		rec("event", "acct-1", "0001", `{"n":1}`),
		rec("event", "acct-1", "0002", `{"n":2}`),
		rec("event", "acct-2", "0001", ""), // empty data stays empty
	}
	batch[1].ExpiresAt = e.now().Add(time.Hour)
	if err := e.s.CreateMany(e.ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, want := range batch {
		got := e.get(t, want.Kind, want.Account, want.Key)
		want.Version, want.CreatedAt, want.UpdatedAt = 1, e.now(), e.now()
		if want.Data == nil {
			want.Data = []byte{}
		}
		sameRecord(t, "CreateMany "+want.Account+"/"+want.Key, got, want)
	}
	if err := e.s.CreateMany(e.ctx, nil); err != nil {
		t.Fatalf("CreateMany(nil) = %v", err)
	}

	// All or none: a live address in the batch, or one address twice,
	// fails the whole batch, directly and inside a transaction.
	for name, bad := range map[string][]store.Record{
		"live address": {rec("event", "acct-1", "0003", `{}`), rec("event", "acct-1", "0001", `{}`)},
		"twice":        {rec("event", "acct-1", "0004", `{}`), rec("event", "acct-1", "0004", `{}`)},
	} {
		if err := e.s.CreateMany(e.ctx, bad); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: CreateMany = %v, want ErrConflict", name, err)
		}
		err := e.s.InTx(e.ctx, func(tx store.Tx) error { return tx.CreateMany(e.ctx, bad) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: CreateMany in a transaction = %v, want ErrConflict", name, err)
		}
		for _, r := range bad {
			if r.Key != "0001" {
				e.wantGone(t, r.Kind, r.Account, r.Key)
			}
		}
	}
	if got := e.get(t, "event", "acct-1", "0001"); string(got.Data) != `{"n":1}` || got.Version != 1 {
		t.Fatalf("a failed batch changed an existing record: %+v", got)
	}

	// A large batch, whatever statements a backend splits it into, is
	// all or none too: a duplicate in its last record undoes the rest.
	large := make([]store.Record, 203)
	for i := range large {
		large[i] = rec("bulk", "acct-1", fmt.Sprintf("%04d", i), fmt.Sprintf(`{"i":%d}`, i))
	}
	dup := append(slices.Clone(large), rec("bulk", "acct-1", "0100", `{}`))
	if err := e.s.CreateMany(e.ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("large batch with a duplicate: CreateMany = %v, want ErrConflict", err)
	}
	if n := e.count(t, "bulk", "acct-1"); n != 0 {
		t.Fatalf("a failed large batch left %d records", n)
	}
	if err := e.s.CreateMany(e.ctx, large); err != nil {
		t.Fatalf("large batch: %v", err)
	}
	if n := e.count(t, "bulk", "acct-1"); n != len(large) {
		t.Fatalf("large batch stored %d records, want %d", n, len(large))
	}
	if got := e.get(t, "bulk", "acct-1", "0202"); string(got.Data) != `{"i":202}` {
		t.Fatalf("last record of the large batch = %s", got.Data)
	}

	// An expired record's address is free again, as with Create.
	e.clock.Advance(2 * time.Hour)
	again := rec("event", "acct-1", "0002", `{"n":"again"}`)
	if err := e.s.CreateMany(e.ctx, []store.Record{again}); err != nil {
		t.Fatalf("CreateMany over an expired record = %v", err)
	}
	if got := e.get(t, "event", "acct-1", "0002"); string(got.Data) != `{"n":"again"}` || !got.ExpiresAt.IsZero() {
		t.Fatalf("replaced record = %+v", got)
	}
}

func testSwap(t *testing.T, e *env) {
	r := rec("item", "acct", "k", "a")
	r.ExpiresAt = e.now().Add(time.Hour)
	created := e.create(t, r)
	e.clock.Advance(time.Minute)

	v, err := e.s.Swap(e.ctx, "item", "acct", "k", created.Version, []byte("b"))
	if err != nil || v != created.Version+1 {
		t.Fatalf("Swap at the current version = %d, %v; want %d", v, err, created.Version+1)
	}
	want := created
	want.Data, want.Version, want.UpdatedAt = []byte("b"), v, e.now()
	sameRecord(t, "swapped record", e.get(t, "item", "acct", "k"), want) // ExpiresAt and CreatedAt kept

	// A stale version changes nothing.
	if _, err := e.s.Swap(e.ctx, "item", "acct", "k", created.Version, []byte("stale")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Swap at a stale version = %v, want ErrConflict", err)
	}
	sameRecord(t, "record after a stale swap", e.get(t, "item", "acct", "k"), want)

	if _, err := e.s.Swap(e.ctx, "item", "acct", "absent", 1, []byte("x")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Swap of a missing record = %v, want ErrNotFound", err)
	}
	e.wantGone(t, "item", "acct", "absent")
	e.clock.Advance(2 * time.Hour)
	if _, err := e.s.Swap(e.ctx, "item", "acct", "k", v, []byte("late")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Swap of an expired record = %v, want ErrNotFound", err)
	}
}
