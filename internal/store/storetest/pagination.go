package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func paginationCases() []testCase {
	return []testCase{
		{"ByteOrder", testByteOrder},
		{"WalkPages", testWalkPages},
		{"Prefix", testPrefix},
		{"DefaultLimit", testDefaultLimit},
		{"EdgePages", testEdgePages},
		{"SkipsExpired", testListSkipsExpired},
	}
}

// orderKeys defeat linguistic collations: mixed case, punctuation that
// locale collations ignore, digits, and multi-byte UTF-8.
func orderKeys() []string {
	return []string{
		"b", "a", "B", "A", "0", "9", "-", "_", "|", "~", ".", "/", " ",
		"a-b", "a_b", "a|b", "a b", "a.b", "a/b", "aB", "ab", "Ab", "AB", "a0", "a9",
		"e", "é", "ê", "f", "E", "É", "z", "Z", "ÿ", "Ā", "日本", "日本語", "本",
		"key-10", "key-2", "key_1", "key1", "😀", "\U0010FFFF",
	}
}

// createShuffled creates one record per key in a fixed pseudo-random order,
// so insertion order cannot masquerade as sort order.
func (e *env) createShuffled(t *testing.T, kind, account string, keys []string) {
	t.Helper()
	shuffled := slices.Clone(keys)
	rand.New(rand.NewPCG(7, 11)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	for _, k := range shuffled {
		e.create(t, rec(kind, account, k, "data:"+k))
	}
}

func sortedCopy(keys []string) []string {
	out := slices.Clone(keys)
	sort.Strings(out) // Go compares strings bytewise: the order List promises
	return out
}

func testByteOrder(t *testing.T, e *env) {
	e.createShuffled(t, "item", "acct", orderKeys())
	got := e.keys(t, "item", "acct")
	if want := sortedCopy(orderKeys()); !slices.Equal(got, want) {
		t.Fatalf("List order:\n got %q\nwant %q", got, want)
	}
}

// walk pages through List and returns the keys in the order seen, checking
// page-shape invariants along the way.
func (e *env) walk(t *testing.T, kind, account string, opts store.ListOptions) []string {
	t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("walk %+v: no end after 1000 pages", opts)
		}
		page, err := e.s.List(e.ctx, kind, account, opts)
		if err != nil {
			t.Fatalf("List %+v: %v", opts, err)
		}
		if opts.Limit > 0 && len(page.Records) > opts.Limit {
			t.Fatalf("List %+v returned %d records", opts, len(page.Records))
		}
		for _, r := range page.Records {
			if r.Kind != kind || r.Account != account {
				t.Fatalf("List(%s/%s) returned %s/%s/%s", kind, account, r.Kind, r.Account, r.Key)
			}
			if string(r.Data) != "data:"+r.Key || r.Version != 1 {
				t.Fatalf("List returned %q with Data %q v%d", r.Key, r.Data, r.Version)
			}
			out = append(out, r.Key)
		}
		if page.Next == "" {
			return out
		}
		if opts.Limit > 0 && len(page.Records) != opts.Limit {
			t.Fatalf("List %+v: short page of %d with Next %q", opts, len(page.Records), page.Next)
		}
		if last := page.Records[len(page.Records)-1].Key; page.Next != last {
			t.Fatalf("Next = %q, want last key %q", page.Next, last)
		}
		opts.After = page.Next
	}
}

func testWalkPages(t *testing.T, e *env) {
	keys := slices.Clone(orderKeys()[:25])
	e.createShuffled(t, "item", "acct", keys)
	e.createShuffled(t, "item", "other-acct", []string{"a", "b", "c"})
	e.createShuffled(t, "other-kind", "acct", []string{"a", "b", "c"})
	want := sortedCopy(keys)
	for _, limit := range []int{1, 2, 3, 7, 24, 25, 26} {
		got := e.walk(t, "item", "acct", store.ListOptions{Limit: limit})
		if !slices.Equal(got, want) {
			t.Errorf("limit %d walk:\n got %q\nwant %q", limit, got, want)
		}
	}
}

func testPrefix(t *testing.T, e *env) {
	keys := []string{
		"use", "user", "user/1", "user/10", "user/2", "user0", "userx", "users/a", "v",
		"a%b", "axb", "a_c", "abc", "A_c", "A%b", "a", "b",
		"é1", "é2", "ê", "e1", "f",
		"z\U0010FFFF", "z\U0010FFFF1", "z\U0010FFFF\U0010FFFF", "{",
	}
	e.createShuffled(t, "item", "acct", keys)
	e.createShuffled(t, "item", "other", []string{"user/3", "a%z"})
	all := sortedCopy(keys)
	for _, c := range []struct {
		prefix string
		want   []string // spelled out to keep the expectation independent
	}{
		{"user/", []string{"user/1", "user/10", "user/2"}},
		{"user", []string{"user", "user/1", "user/10", "user/2", "user0", "users/a", "userx"}},
		{"a%", []string{"a%b"}},
		{"a_", []string{"a_c"}},
		{"A", []string{"A%b", "A_c"}},
		{"é", []string{"é1", "é2"}},
		{"z\U0010FFFF", []string{"z\U0010FFFF", "z\U0010FFFF1", "z\U0010FFFF\U0010FFFF"}},
		{"nomatch", nil},
	} {
		var brute []string
		for _, k := range all {
			if strings.HasPrefix(k, c.prefix) {
				brute = append(brute, k)
			}
		}
		if !slices.Equal(brute, c.want) {
			t.Fatalf("test bug: prefix %q expectation %q disagrees with %q", c.prefix, c.want, brute)
		}
		for _, limit := range []int{2, 100} {
			got := e.walk(t, "item", "acct", store.ListOptions{Prefix: c.prefix, Limit: limit})
			if !slices.Equal(got, c.want) {
				t.Errorf("prefix %q limit %d: got %q, want %q", c.prefix, limit, got, c.want)
			}
		}
	}
	got := e.walk(t, "item", "acct", store.ListOptions{Prefix: "user/", After: "user/1", Limit: 5})
	if want := []string{"user/10", "user/2"}; !slices.Equal(got, want) {
		t.Errorf("prefix with After: got %q, want %q", got, want)
	}
}

func testDefaultLimit(t *testing.T, e *env) {
	var keys []string
	for i := range 105 {
		keys = append(keys, fmt.Sprintf("k%03d", i))
	}
	e.createShuffled(t, "item", "acct", keys)
	for _, limit := range []int{0, -1} {
		page, err := e.s.List(e.ctx, "item", "acct", store.ListOptions{Limit: limit})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(page.Records) != 100 || page.Next != "k099" {
			t.Fatalf("Limit %d: got %d records, Next %q; want 100 and k099", limit, len(page.Records), page.Next)
		}
		page, err = e.s.List(e.ctx, "item", "acct", store.ListOptions{Limit: limit, After: page.Next})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var got []string
		for _, r := range page.Records {
			got = append(got, r.Key)
		}
		if want := keys[100:]; !slices.Equal(got, want) || page.Next != "" {
			t.Fatalf("Limit %d second page: %q, Next %q; want %q", limit, got, page.Next, want)
		}
	}
}

func testEdgePages(t *testing.T, e *env) {
	page, err := e.s.List(e.ctx, "item", "acct", store.ListOptions{})
	if err != nil || len(page.Records) != 0 || page.Next != "" {
		t.Fatalf("List of empty store = %d records, Next %q, %v", len(page.Records), page.Next, err)
	}
	e.createShuffled(t, "item", "acct", []string{"a", "b", "c", "d"})
	page, err = e.s.List(e.ctx, "item", "acct", store.ListOptions{After: "zzz"})
	if err != nil || len(page.Records) != 0 || page.Next != "" {
		t.Fatalf("List after the end = %d records, Next %q, %v", len(page.Records), page.Next, err)
	}
	// An exactly full last page must not promise another one.
	page, err = e.s.List(e.ctx, "item", "acct", store.ListOptions{After: "b", Limit: 2})
	if err != nil || len(page.Records) != 2 || page.Records[0].Key != "c" || page.Next != "" {
		t.Fatalf("exactly full last page = %d records, Next %q, %v", len(page.Records), page.Next, err)
	}
	// After need not be an existing key.
	if got := e.walk(t, "item", "acct", store.ListOptions{After: "bb", Limit: 1}); !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("walk after bb = %q", got)
	}
}

func testListSkipsExpired(t *testing.T, e *env) {
	var want []string
	for i := range 10 {
		r := rec("item", "acct", fmt.Sprintf("k%d", i), fmt.Sprintf("data:k%d", i))
		if i%3 == 1 {
			r.ExpiresAt = startTime().Add(time.Minute)
		} else {
			want = append(want, r.Key)
		}
		e.create(t, r)
	}
	if got := e.walk(t, "item", "acct", store.ListOptions{Limit: 2}); len(got) != 10 {
		t.Fatalf("before expiry walked %d records, want 10", len(got))
	}
	e.clock.Advance(time.Minute)
	if got := e.walk(t, "item", "acct", store.ListOptions{Limit: 2}); !slices.Equal(got, want) {
		t.Fatalf("after expiry walked %q, want %q", got, want)
	}
	if n := e.count(t, "item", "acct"); n != len(want) {
		t.Fatalf("Count = %d, want %d", n, len(want))
	}
}
