// Package keyrange holds the small key-range helpers the SQL backends share,
// so that prefix filtering is done with index-friendly range predicates
// instead of LIKE (whose wildcards and case rules differ between engines).
package keyrange

import "unicode/utf8"

// DefaultLimit is the page size used when ListOptions.Limit is <= 0.
const DefaultLimit = 100

// Limit returns the effective page size for a requested limit.
func Limit(requested int) int {
	if requested <= 0 {
		return DefaultLimit
	}
	return requested
}

// PrefixEndBytes returns the smallest byte string greater than every string
// that starts with prefix, comparing bytewise. ok is false when no such bound
// exists (prefix empty or all 0xff bytes). The result may be invalid UTF-8,
// so use it only where the engine compares raw bytes without validation.
func PrefixEndBytes(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// PrefixEndUTF8 is PrefixEndBytes for engines that reject invalid UTF-8
// (PostgreSQL): it increments the last code point instead of the last byte.
// Because UTF-8 preserves code point order under bytewise comparison, the
// result is still an exact exclusive upper bound for valid UTF-8 keys.
func PrefixEndUTF8(prefix string) (end string, ok bool) {
	s := prefix
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
		switch {
		case r == utf8.RuneError && size == 1:
			// Not valid UTF-8; fall back to byte arithmetic on this byte.
			if b := prefix[len(s)]; b < 0xff {
				return s + string([]byte{b + 1}), true
			}
		case r == utf8.MaxRune:
			// Nothing sorts above it in this position; carry to the left.
		default:
			next := r + 1
			if next >= 0xD800 && next <= 0xDFFF {
				// Surrogates cannot be encoded; the next encodable one is U+E000.
				next = 0xE000
			}
			return s + string(next), true
		}
	}
	return "", false
}
