package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
)

// TestClusterRateLimit runs two server replicas on one PostgreSQL database
// and alternates token requests between them. With the cluster scope (the
// default on PostgreSQL) they share one bucket per account, so together
// they allow one burst plus what refills while the test runs. The local
// scope is the control: there each replica has its own bucket and the two
// allow at least two bursts, which shows the test can tell them apart.
func TestClusterRateLimit(t *testing.T) {
	const (
		rate     = 1.0 // per second: little refill during a test of a second or so
		burst    = 10
		requests = 40 // 20 per replica: enough to drain two separate bursts
	)
	cases := []struct {
		scope string // "" is the PostgreSQL default
		want  string // scope reported by /metrics
		local bool
	}{
		{"", config.RateLimitCluster, false},
		{config.RateLimitLocal, config.RateLimitLocal, true},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			url := pgtest.NewDatabase(t)
			kek := newTestKEK(t)
			ctx := servertest.Context(t)
			configure := func(c *config.Config) {
				c.Store, c.DatabaseURL = config.StorePostgres, url
				c.RateLimits.TokenRequestsPerSecond, c.RateLimits.TokenBurst = rate, burst
				c.RateLimits.Scope = tc.scope
			}
			a := startLimitReplica(t, kek, configure)
			b := startLimitReplica(t, kek, configure)
			admin := a.Info.AdminKey
			if admin == nil || b.Info.AdminKey != nil || a.Info.AccountID != b.Info.AccountID {
				t.Fatalf("replicas did not share one installation: a=%+v b=%+v", a.Info, b.Info)
			}
			creds := servertest.StaticCredentials(admin.AccessKeyID, admin.SecretAccessKey)
			control := cp.New(cp.Options{BaseEndpoint: aws.String(a.url), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
			if _, err := control.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("busy-agent")}); err != nil {
				t.Fatal(err)
			}
			replicas := []*limitReplica{a, b}
			for _, r := range replicas {
				r.data = dp.New(dp.Options{BaseEndpoint: aws.String(r.url), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
			}

			in := &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("busy-agent")}
			allowed := 0
			start := time.Now()
			for i := range requests {
				r := replicas[i%2]
				_, err := r.data.GetWorkloadAccessToken(ctx, in)
				if err == nil {
					allowed++
					r.allowed++
					continue
				}
				r.throttled++
				var te *dptypes.ThrottlingException
				if !errors.As(err, &te) {
					t.Fatalf("request %d to %s: want ThrottlingException, got %v", i, r.name, err)
				}
				var re *awshttp.ResponseError
				if !errors.As(err, &re) {
					t.Fatalf("request %d: no HTTP response in %v", i, err)
				}
				if s, err := strconv.Atoi(re.Response.Header.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("request %d to %s: Retry-After %q, want whole seconds >= 1", i, r.name, re.Response.Header.Get("Retry-After"))
				}
				if i < burst {
					t.Fatalf("request %d throttled within the first burst of %d", i, burst)
				}
			}
			elapsed := time.Since(start)
			for _, r := range replicas {
				if r.allowed == 0 || r.throttled == 0 {
					t.Errorf("%s: %d allowed, %d throttled; want some of each", r.name, r.allowed, r.throttled)
				}
				wantMetric(t, r.url, `agentcore_rate_limit_scope{scope="`+tc.want+`"} 1`)
			}

			// Refill while the requests ran, plus one token of slack for a
			// refill that completes between two requests.
			refill := int(math.Ceil(elapsed.Seconds() * rate))
			limit := burst + refill + 1
			t.Logf("%s scope: %d of %d allowed in %v (a %d, b %d)", tc.want, allowed, requests, elapsed, a.allowed, b.allowed)
			if tc.local {
				if allowed < 2*burst {
					t.Fatalf("local scope allowed %d, want at least one burst per replica (%d)", allowed, 2*burst)
				}
				return
			}
			if limit >= 2*burst {
				t.Fatalf("requests took %v: too slow to tell one shared bucket from one per replica", elapsed)
			}
			if allowed < burst || allowed > limit {
				t.Fatalf("two replicas allowed %d, want one shared burst: %d..%d", allowed, burst, limit)
			}
		})
	}
}

// failingTake is a store whose token buckets are unreachable.
type failingTake struct{ store.Store }

func (failingTake) Take(context.Context, string, float64, int) (store.Taken, error) {
	return store.Taken{}, errors.New("connection refused")
}

// TestClusterRateLimitFailsOpen: when the store cannot answer a
// rate-limit check, token requests still succeed and the failure is
// counted, so an outage of the limiter's bookkeeping is visible but does
// not stop credential vending.
func TestClusterRateLimitFailsOpen(t *testing.T) {
	env := servertest.Start(t, servertest.Options{
		WrapStore: func(st store.Store) store.Store { return failingTake{st} },
		Configure: func(c *config.Config) {
			c.RateLimits.Scope = config.RateLimitCluster
			c.RateLimits.TokenRequestsPerSecond, c.RateLimits.TokenBurst = 0.01, 1
		},
	})
	ctx := servertest.Context(t)
	if _, err := env.Control().CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("agent")}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := env.Data().GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("agent")}); err != nil {
			t.Fatalf("request %d with the limiter's store down: %v", i, err)
		}
	}
	wantMetric(t, env.URL, `agentcore_rate_limit_store_errors_total{class="token"} 3`)
	wantMetric(t, env.URL, `agentcore_rate_limit_scope{scope="cluster"} 1`)
	if n := strings.Count(env.Logs.String(), "rate limit store failed"); n != 1 {
		t.Errorf("%d fail-open warnings for 3 failures within a minute, want 1", n)
	}
}

// limitReplica is one in-process server on the shared database.
type limitReplica struct {
	*server.Server
	name, url          string
	data               *dp.Client
	allowed, throttled int
}

var replicaNames = []string{"replica-a", "replica-b"}

func startLimitReplica(t *testing.T, kek seal.KEKProvider, configure func(*config.Config)) *limitReplica {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	configure(&cfg)
	hs := httptest.NewUnstartedServer(nil)
	url := "http://" + hs.Listener.Addr().String()
	// Each replica opens its own pool on the database, as separate
	// processes would.
	srv, err := server.New(t.Context(), server.Options{
		Config: cfg, KEK: kek, PublicURL: url, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		hs.Close()
		t.Fatalf("start replica: %v", err)
	}
	t.Cleanup(srv.Close)
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	name := replicaNames[0]
	if srv.Info.AdminKey == nil {
		name = replicaNames[1]
	}
	return &limitReplica{Server: srv, name: name, url: url}
}

func newTestKEK(t *testing.T) seal.KEKProvider {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	kek, err := seal.NewLocalKEK(map[string][]byte{"test-kek": key}, "test-kek")
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

func wantMetric(t *testing.T, base, line string) {
	t.Helper()
	if !strings.Contains(servertest.MetricsText(t, base), line) {
		t.Errorf("%s/metrics lacks %q", base, line)
	}
}
