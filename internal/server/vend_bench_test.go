package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// BenchmarkVendAPIKey is one cached GetResourceApiKey through the server's
// handler, without a network: request log, SigV4, store reads, the audit
// append and the response. With one caller ("serial") every audit commit
// holds one event and allocs/op is the request path's own; "parallel"
// has the audit commits batch as under load.
func BenchmarkVendAPIKey(b *testing.B) {
	env := servertest.Start(b, servertest.Options{SQLitePath: b.TempDir() + "/bench.db", Configure: func(c *config.Config) {
		c.RateLimits.TokenRequestsPerSecond = 0 // measure the server, not the limiter
	}})
	ctx := context.Background()
	if _, err := env.Control().CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("bench-agent")}); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Control().CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
		Name: aws.String("bench-api"), ApiKey: aws.String("bench-api-key-0123456789abcdef"),
	}); err != nil {
		b.Fatal(err)
	}
	wat, err := env.Data().GetWorkloadAccessToken(ctx, &bedrockagentcore.GetWorkloadAccessTokenInput{WorkloadName: aws.String("bench-agent")})
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]string{"workloadIdentityToken": aws.ToString(wat.WorkloadAccessToken), "resourceCredentialProviderName": "bench-api"})
	if err != nil {
		b.Fatal(err)
	}
	// Signed once: a signature stays valid for the benchmark's minutes.
	signed := httptest.NewRequest(http.MethodPost, env.URL+"/identities/api-key", bytes.NewReader(body))
	signed.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, signed, hex.EncodeToString(sum[:]), "bedrock-agentcore", env.Region, time.Now()); err != nil {
		b.Fatal(err)
	}
	h := env.Server.Handler()
	vend := func() {
		r := httptest.NewRequest(http.MethodPost, env.URL+"/identities/api-key", bytes.NewReader(body))
		r.Header = signed.Header.Clone()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
	vend() // warm the caches
	b.ReportAllocs()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			vend()
		}
	})
	// Sixteen callers, as bench/load's closed loop: audit commits batch.
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				vend()
			}
		})
	})
}
