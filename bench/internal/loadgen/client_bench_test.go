package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
)

// These benchmarks price the client side of a load run, to choose how the
// harness sends requests: what it spends per request is CPU the in-process
// server does not get.

var benchCreds = aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret"}

const apiKeyBody = `{"resourceCredentialProviderName":"weather-api","workloadIdentityToken":"wat1.AAAA"}`

func cannedServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"apiKey":"wx-key-123"}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkSignHTTP is one SigV4 signature of a pre-serialized request.
func BenchmarkSignHTTP(b *testing.B) {
	req := NewRequest(http.MethodPost, "/identities/api-key", "application/json", "bedrock-agentcore", "us-east-1", []byte(apiKeyBody))
	s := v4.NewSigner()
	ctx := context.Background()
	for b.Loop() {
		r, _ := http.NewRequestWithContext(ctx, req.Method, "http://127.0.0.1:1"+req.Path, nil)
		r.Header.Set("Content-Type", req.ContentType)
		if err := s.SignHTTP(ctx, benchCreds, r, req.hash, req.Service, req.Region, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnDo is the harness's request path: signature reused within
// its second, body pre-serialized, response read into a reused buffer.
func BenchmarkConnDo(b *testing.B) {
	srv := cannedServer(b)
	c := NewClient([]string{srv.URL}, benchCreds, 1)
	defer c.Close()
	conn := c.Conn()
	req := NewRequest(http.MethodPost, "/identities/api-key", "application/json", "bedrock-agentcore", "us-east-1", []byte(apiKeyBody))
	ctx := context.Background()
	for b.Loop() {
		resp, err := conn.Do(ctx, req)
		if err != nil || CheckOK(resp) != nil {
			b.Fatal(err, CheckOK(resp))
		}
	}
}

// BenchmarkSDKGetResourceApiKey is the same call through the real AWS SDK
// client (serialize, sign, middleware stack, deserialize).
func BenchmarkSDKGetResourceApiKey(b *testing.B) {
	srv := cannedServer(b)
	client := bedrockagentcore.New(bedrockagentcore.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return benchCreds, nil }),
	})
	ctx := context.Background()
	in := &bedrockagentcore.GetResourceApiKeyInput{
		ResourceCredentialProviderName: aws.String("weather-api"), WorkloadIdentityToken: aws.String("wat1.AAAA"),
	}
	for b.Loop() {
		out, err := client.GetResourceApiKey(ctx, in)
		if err != nil || aws.ToString(out.ApiKey) != "wx-key-123" {
			b.Fatal(err)
		}
	}
}
