// Package bench holds load benchmarks of the real server. They run only
// with -bench, e.g. go test -run='^$' -bench=. ./bench/
package bench

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// BenchmarkGetWebIdentityToken measures ES384 web identity tokens vended
// through the whole server (HTTP, SigV4 verification, store reads, audit
// append, signing, XML) and, in the same run, the raw go-jose ES384 signing
// rate of the same claims on the same cores. The ratio says how much of the
// server's cost is the signature itself.
//
// Requests are signed once per round and replayed (SigV4 accepts a request
// for 5 minutes), so client-side signing does not count against the server.
func BenchmarkGetWebIdentityToken(b *testing.B) {
	env := servertest.Start(b, servertest.Options{Configure: func(c *config.Config) {
		c.RateLimits.TokenRequestsPerSecond = 0 // measure the server, not the limiter
	}})
	ctx := context.Background()
	if _, err := env.IAM().EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{}); err != nil {
		b.Fatal(err)
	}
	body := []byte(url.Values{
		"Action": {"GetWebIdentityToken"}, "Version": {"2011-06-15"},
		"Audience.member.1": {"https://api.example.com"}, "SigningAlgorithm": {"ES384"},
	}.Encode())
	signed := presign(b, env, body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * runtime.GOMAXPROCS(0)}}
	b.Cleanup(client.CloseIdleConnections)
	if status := call(client, env.URL, signed, body); status != http.StatusOK {
		b.Fatalf("warm-up request: HTTP %d", status)
	}

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if status := call(client, env.URL, signed, body); status != http.StatusOK {
				b.Errorf("HTTP %d", status)
				return
			}
		}
	})
	b.StopTimer()
	served := float64(b.N) / b.Elapsed().Seconds()
	raw := rawSignRate(b, env.AccountID, env.Region)
	b.ReportMetric(served, "tokens/s")
	b.ReportMetric(raw, "raw-es384-signs/s")
	b.ReportMetric(served/raw, "server/raw")
}

// presign signs one GetWebIdentityToken request and returns its headers.
func presign(b *testing.B, env *servertest.Env, body []byte) http.Header {
	b.Helper()
	req, err := http.NewRequest(http.MethodPost, env.URL+"/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sts", env.Region, time.Now()); err != nil {
		b.Fatal(err)
	}
	return req.Header
}

func call(client *http.Client, base string, hdr http.Header, body []byte) int {
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header = hdr.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// rawSignRate signs claims shaped like the server's with go-jose ES384 on
// GOMAXPROCS goroutines for a fixed time and returns signatures per second.
func rawSignRate(b *testing.B, account, region string) float64 {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: jose.JSONWebKey{Key: key, KeyID: "bench"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	payload, _ := json.Marshal(map[string]any{
		"iss":                        "http://127.0.0.1:8400/sts-issuer/5d2b1b6c-a5ce-4c38-82b1-be358ca60657",
		"aud":                        "https://api.example.com",
		"sub":                        "arn:aws:iam::" + account + ":user/agentcore-admin",
		"iat":                        now,
		"exp":                        now + 300,
		"jti":                        "af9197aa-a9ac-4c13-8c76-aee620ed005c",
		"https://sts.amazonaws.com/": map[string]string{"aws_account": account, "source_region": region},
	})
	const window = 500 * time.Millisecond
	var wg sync.WaitGroup
	counts := make([]int, runtime.GOMAXPROCS(0))
	start := time.Now()
	for i := range counts {
		wg.Go(func() {
			for time.Since(start) < window {
				jws, err := sig.Sign(payload)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := jws.CompactSerialize(); err != nil {
					b.Error(err)
					return
				}
				counts[i]++
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	return float64(total) / time.Since(start).Seconds()
}
