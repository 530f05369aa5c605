package sigv4

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkVerify prices verifying one header-signed request shaped like
// an SDK credential vend (GetResourceApiKey), the hot path of the server.
func BenchmarkVerify(b *testing.B) {
	spec := reqSpec{
		path: "/identities/api-key",
		body: `{"resourceCredentialProviderName":"github","workloadIdentityToken":"eyJhbGciOiJFUzI1NiJ9.e30.sig"}`,
		headers: http.Header{
			"Content-Type":          {"application/json"},
			"Amz-Sdk-Invocation-Id": {"3f1c2a9e-7d7b-4d3e-9d1e-2b8f6b0c4a11"},
			"Amz-Sdk-Request":       {"attempt=1; max=3"},
		},
	}
	r, body := spec.build(b, "https://bedrock-agentcore.us-west-2.amazonaws.com")
	v := newVerifier(baseTime())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
