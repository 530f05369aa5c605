package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// decodedName is what resourceName must return: the "name" member as
// encoding/json decodes it, with no shortcut.
func decodedName(body []byte) string {
	var in struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(body, &in) == nil {
		return in.Name
	}
	return ""
}

var resourceNameBodies = []string{
	``,
	`{}`,
	`not json`,
	`{"name":"agent-1"}`,
	`{"Name":"agent-1"}`,
	`{"NAME":"agent-1","description":"d"}`,
	`{"n\u0061me":"escaped key"}`,
	`{"name":"quote \" inside"}`,
	`{"resourceCredentialProviderName":"github","workloadIdentityToken":"eyJhbGciOiJFUzI1NiJ9.e30.sig"}`,
	`{"providerName":"x","names":["a"],"nam":"b","namee":"c"}`,
	`{"tags":{"name":"nested"}}`,
	`{"description":"the \"name\" is elsewhere"}`,
	`{"name":42}`,
	`{"name":"first","name":"second"}`,
	`["name"]`,
	`{"name"`,
	`"name"`,
}

func TestResourceName(t *testing.T) {
	for _, body := range resourceNameBodies {
		if got, want := resourceName([]byte(body)), decodedName([]byte(body)); got != want {
			t.Errorf("resourceName(%s) = %q, want %q", body, got, want)
		}
	}
}

func FuzzResourceName(f *testing.F) {
	for _, body := range resourceNameBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := resourceName(body), decodedName(body); got != want {
			t.Errorf("resourceName(%q) = %q, want %q", body, got, want)
		}
	})
}

// BenchmarkResourceName is the lookup every credential vend's audit event
// makes: a body without a "name" member and with a token of typical length.
func BenchmarkResourceName(b *testing.B) {
	body := []byte(`{"resourceCredentialProviderName":"github","workloadIdentityToken":"` + strings.Repeat("eyJhbGciOiJFUzI1NiJ9", 40) + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		if resourceName(body) != "" {
			b.Fatal("found a name")
		}
	}
}
