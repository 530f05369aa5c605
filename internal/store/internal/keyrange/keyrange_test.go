package keyrange

import (
	"sort"
	"strings"
	"testing"
)

func TestLimit(t *testing.T) {
	for in, want := range map[int]int{-5: 100, 0: 100, 1: 1, 250: 250} {
		if got := Limit(in); got != want {
			t.Errorf("Limit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		prefix      string
		wantBytes   string
		wantBytesOK bool
		wantUTF8    string
		wantUTF8OK  bool
	}{
		{"", "", false, "", false},
		{"a", "b", true, "b", true},
		{"user/", "user0", true, "user0", true},
		{"a\xff", "b", true, "b", true},
		{"\xff\xff", "", false, "", false},
		{"é", "é"[:1] + "\xaa", true, "ê", true},
		{"x\U0010FFFF", "x\xf4\x8f\xbf\xc0", true, "y", true},
		{"\U0010FFFF", "\xf4\x8f\xbf\xc0", true, "", false},
		{"a\uD7FF", "a\xed\x9f\xc0", true, "a\uE000", true},
	}
	for _, c := range cases {
		if got, ok := PrefixEndBytes(c.prefix); got != c.wantBytes || ok != c.wantBytesOK {
			t.Errorf("PrefixEndBytes(%q) = %q, %v; want %q, %v", c.prefix, got, ok, c.wantBytes, c.wantBytesOK)
		}
		if got, ok := PrefixEndUTF8(c.prefix); got != c.wantUTF8 || ok != c.wantUTF8OK {
			t.Errorf("PrefixEndUTF8(%q) = %q, %v; want %q, %v", c.prefix, got, ok, c.wantUTF8, c.wantUTF8OK)
		}
	}
}

// TestPrefixEndSelectsExactly checks the bound against a brute-force filter
// over a set of keys chosen to sit next to the boundaries.
func TestPrefixEndSelectsExactly(t *testing.T) {
	keys := []string{"", "a", "a-", "a/", "a0", "a\x7f", "aé", "a\U0010FFFF", "b", "B", "é", "ê", "é\U0010FFFF", "\U0010FFFF", "\U0010FFFFa", "\uD7FF", "\uE000", "日本", "日本語", "日朝"}
	sort.Strings(keys)
	prefixes := []string{"a", "é", "\U0010FFFF", "日本", "\uD7FF", "a\U0010FFFF"}
	for _, p := range prefixes {
		for name, fn := range map[string]func(string) (string, bool){"bytes": PrefixEndBytes, "utf8": PrefixEndUTF8} {
			end, ok := fn(p)
			var got, want []string
			for _, k := range keys {
				if strings.HasPrefix(k, p) {
					want = append(want, k)
				}
				if k >= p && (!ok || k < end) {
					got = append(got, k)
				}
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s prefix %q: range selects %q, want %q", name, p, got, want)
			}
		}
	}
}
