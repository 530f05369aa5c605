// Package storetest is the conformance suite every store.Store backend must
// pass. It lives in a regular (non-test) file so that each backend's tests,
// and any future backend, can run the same assertions:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { ... })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// startTime is the instant every suite Clock starts at. It has microsecond
// precision, the least the backends must preserve, and a non-UTC zone so
// the suite can check that backends return UTC.
func startTime() time.Time {
	return time.Date(2031, 3, 4, 5, 6, 7, 123456000, time.FixedZone("UTC+5", 5*3600))
}

// OpenFunc returns a fresh, empty store whose clock is now. It registers its
// own cleanup on t.
type OpenFunc func(t *testing.T, now func() time.Time) store.Store

// Run runs the whole conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) store.Store) {
	t.Run("CRUD", func(t *testing.T) { runCases(t, open, crudCases()) })
	t.Run("Pagination", func(t *testing.T) { runCases(t, open, paginationCases()) })
	t.Run("Transactions", func(t *testing.T) { runCases(t, open, txCases()) })
	t.Run("Concurrency", func(t *testing.T) { runCases(t, open, concurrencyCases()) })
	t.Run("RateLimit", func(t *testing.T) { runCases(t, open, rateLimitCases()) })
}

// testCase is one self-contained scenario on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, e *env)
}

func runCases(t *testing.T, open OpenFunc, cases []testCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock(startTime())
			s := open(t, clock.Now)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.run(t, &env{s: s, clock: clock, ctx: t.Context()})
		})
	}
}

// env is the fixture handed to each case.
type env struct {
	s     store.Store
	clock *Clock
	ctx   context.Context
}

// now is the clock reading the backend should have stamped a write with.
func (e *env) now() time.Time { return e.clock.Now() }

func rec(kind, account, key, data string) store.Record {
	return store.Record{Kind: kind, Account: account, Key: key, Data: []byte(data)}
}

func (e *env) create(t *testing.T, r store.Record) store.Record {
	t.Helper()
	out, err := e.s.Create(e.ctx, r, store.CreateOptions{})
	if err != nil {
		t.Fatalf("Create(%s/%s/%s): %v", r.Kind, r.Account, r.Key, err)
	}
	return out
}

func (e *env) get(t *testing.T, kind, account, key string) store.Record {
	t.Helper()
	out, err := e.s.Get(e.ctx, kind, account, key)
	if err != nil {
		t.Fatalf("Get(%s/%s/%s): %v", kind, account, key, err)
	}
	return out
}

func (e *env) wantGone(t *testing.T, kind, account, key string) {
	t.Helper()
	if got, err := e.s.Get(e.ctx, kind, account, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s/%s/%s) = %+v, %v; want ErrNotFound", kind, account, key, got, err)
	}
}

func (e *env) count(t *testing.T, kind, account string) int {
	t.Helper()
	n, err := e.s.Count(e.ctx, kind, account)
	if err != nil {
		t.Fatalf("Count(%s/%s): %v", kind, account, err)
	}
	return n
}

// keys lists every live key of a kind in an account, in returned order.
func (e *env) keys(t *testing.T, kind, account string) []string {
	t.Helper()
	page, err := e.s.List(e.ctx, kind, account, store.ListOptions{Limit: 10000})
	if err != nil {
		t.Fatalf("List(%s/%s): %v", kind, account, err)
	}
	if page.Next != "" {
		t.Fatalf("List(%s/%s) with a huge limit returned Next %q", kind, account, page.Next)
	}
	out := []string{}
	for _, r := range page.Records {
		out = append(out, r.Key)
	}
	return out
}

// sameRecord fails unless got and want agree on every field. Times are
// compared as instants and must come back in UTC.
func sameRecord(t *testing.T, what string, got, want store.Record) {
	t.Helper()
	if got.Kind != want.Kind || got.Account != want.Account || got.Key != want.Key {
		t.Errorf("%s: address = %q/%q/%q, want %q/%q/%q", what, got.Kind, got.Account, got.Key, want.Kind, want.Account, want.Key)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: Data = %q, want %q", what, got.Data, want.Data)
	}
	if got.Version != want.Version {
		t.Errorf("%s: Version = %d, want %d", what, got.Version, want.Version)
	}
	sameTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, what+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	sameTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}
