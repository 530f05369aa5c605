package cluster

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// invalidationBound is how long a delete through one replica may take to
// reach the read caches of the others. It is well under the caches' TTL
// (readcache.DefaultTTL, 10s), so meeting it proves that the change
// notification, not expiry, invalidated the entries. It normally takes
// milliseconds.
const invalidationBound = 2 * time.Second

// TestDeletesReachEveryReplica: every replica caches the workload identity
// and the credential provider that a vend reads. Deleting either through
// one replica must make vends fail on every other replica within
// invalidationBound, as they fail on the replica that deleted.
func TestDeletesReachEveryReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three server processes")
	}
	ctx := testContext(t)
	c := startCluster(ctx, t, 3, 0)
	var ctrl []*cp.Client
	var data []*dp.Client
	for _, r := range c.replicas {
		ctrl = append(ctrl, cp.New(cp.Options{BaseEndpoint: aws.String(r.url()), Region: region, Credentials: c.creds, HTTPClient: c.hc}))
		data = append(data, dp.New(dp.Options{BaseEndpoint: aws.String(r.url()), Region: region, Credentials: c.creds, HTTPClient: c.hc}))
		waitMetric(ctx, t, r.url(), "agentcore_store_cache_serving", func(v float64) bool { return v == 1 })
	}

	const agent = "cache-agent"
	if _, err := ctrl[0].CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String(agent)}); err != nil {
		t.Fatal(err)
	}
	wat, err := data[0].GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(agent)})
	if err != nil {
		t.Fatal(err)
	}
	createProvider := func(name, key string) {
		t.Helper()
		if _, err := ctrl[0].CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
			Name: aws.String(name), ApiKey: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	vend := func(i int, provider string) (string, error) {
		out, err := data[i].GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
			WorkloadIdentityToken: wat.WorkloadAccessToken, ResourceCredentialProviderName: aws.String(provider)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ApiKey), nil
	}
	// warm vends through every replica, so that each holds the workload
	// identity and the provider in its cache.
	warm := func(provider, key string) {
		t.Helper()
		for i := range c.replicas {
			for range 3 {
				if got, err := vend(i, provider); err != nil || got != key {
					t.Fatalf("vend %s through %s = %q, %v", provider, c.replicas[i].name, got, err)
				}
			}
		}
	}
	// expectFailure polls a vend through every replica but the one that
	// deleted until it fails as want, and reports how long after the
	// delete returned that was.
	expectFailure := func(what string, deleter int, deleted time.Time, provider string, want func(error) bool) {
		t.Helper()
		if _, err := vend(deleter, provider); !want(err) {
			t.Fatalf("%s: vend through the deleting %s = %v", what, c.replicas[deleter].name, err)
		}
		for i, r := range c.replicas {
			if i == deleter {
				continue
			}
			for attempt := 1; ; attempt++ {
				_, err := vend(i, provider)
				if want(err) {
					t.Logf("%s through %s: vends through %s fail %v after the delete returned (attempt %d)",
						what, c.replicas[deleter].name, r.name, time.Since(deleted), attempt)
					break
				}
				if err != nil {
					t.Fatalf("%s: vend through %s failed unexpectedly: %v", what, r.name, err)
				}
				if time.Since(deleted) > invalidationBound {
					t.Fatalf("%s through %s: %s still vends after %v", what, c.replicas[deleter].name, r.name, invalidationBound)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}

	createProvider("cache-key", "secret-1")
	warm("cache-key", "secret-1")
	for _, r := range c.replicas {
		waitMetric(ctx, t, r.url(), "agentcore_store_cache_hits_total", func(v float64) bool { return v > 0 })
	}
	if _, err := ctrl[0].DeleteApiKeyCredentialProvider(ctx, &cp.DeleteApiKeyCredentialProviderInput{Name: aws.String("cache-key")}); err != nil {
		t.Fatal(err)
	}
	expectFailure("deleting the provider", 0, time.Now(), "cache-key", func(err error) bool {
		var nf *dptypes.ResourceNotFoundException
		return errors.As(err, &nf)
	})

	createProvider("cache-key-2", "secret-2")
	warm("cache-key-2", "secret-2")
	if _, err := ctrl[1].DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String(agent)}); err != nil {
		t.Fatal(err)
	}
	expectFailure("deleting the workload identity", 1, time.Now(), "cache-key-2", func(err error) bool {
		var ad *dptypes.AccessDeniedException
		return errors.As(err, &ad)
	})
}

// waitMetric polls base/metrics until the unlabelled sample name satisfies
// ok.
func waitMetric(ctx context.Context, t *testing.T, base, name string, ok func(float64) bool) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		v, err := scrape(ctx, base, re)
		if err == nil {
			if f, perr := strconv.ParseFloat(v, 64); perr == nil && ok(f) {
				return
			}
			last = name + " " + v
		} else {
			last = err.Error()
		}
	}
	t.Fatalf("%s/metrics: %s never met the condition (last: %s)", base, name, last)
}

func scrape(ctx context.Context, base string, re *regexp.Regexp) (string, error) {
	body, err := servertest.Metrics(ctx, base)
	if err != nil {
		return "", err
	}
	m := re.FindStringSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("no sample in %d bytes", len(body))
	}
	return string(m[1]), nil
}
