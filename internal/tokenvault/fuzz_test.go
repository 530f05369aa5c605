package tokenvault

import (
	"strings"
	"testing"
)

// FuzzBrowserInput: the session URI and state of the browser legs come
// from anyone; parsing them never panics and accepts only our shapes.
func FuzzBrowserInput(f *testing.F) {
	id := randomID(32)
	f.Add(SessionURIPrefix + id)
	f.Add(id + "." + randomID(32))
	f.Add("urn:ietf:params:oauth:request_uri:<script>")
	f.Add(".")
	f.Fuzz(func(t *testing.T, s string) {
		if id, ok := ParseSessionURI(s); ok && (len(id) != 43 || SessionURIPrefix+id != s) {
			t.Fatalf("accepted session URI %q with id %q", s, id)
		}
		if id, secret, ok := splitState(s); ok && (id+"."+secret != s || strings.ContainsAny(id+secret, ".<>\"' ")) {
			t.Fatalf("accepted state %q as (%q, %q)", s, id, secret)
		}
	})
}
