package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// buildBinary compiles cmd/agentcore once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentcore")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/agentcore")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

type child struct {
	cmd *exec.Cmd
	ep  server.Endpoint
}

// startChild runs `agentcore server` as a separate process on dir and waits
// until it is ready.
func startChild(t *testing.T, bin, dir string) *child {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, server.EndpointFile))
	cmd := exec.Command(bin, "server", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn",
		"--rate-limit-token-requests", "0", "--quota-apikey-providers", "100000")
	logf, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, server.EndpointFile)); err == nil {
			var ep server.Endpoint
			if json.Unmarshal(b, &ep) == nil && ep.PID == cmd.Process.Pid {
				if resp, err := http.Get(ep.URL + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return &child{cmd: cmd, ep: ep}
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	b, _ := os.ReadFile(logf.Name())
	t.Fatalf("server did not become ready:\n%s", b)
	return nil
}

func credsFromFile(t *testing.T, dir string) aws.CredentialsProvider {
	t.Helper()
	c, err := connect.ReadProfile(filepath.Join(dir, "credentials"), connect.Profile)
	if err != nil {
		t.Fatal(err)
	}
	return servertest.StaticCredentials(c.AccessKeyID, c.SecretAccessKey)
}

// TestKill9LosesNothingAcknowledged runs the server as a child process on
// SQLite, writes and vends under concurrent load, kills it with SIGKILL
// mid-way, restarts it and checks that every acknowledged write is there
// and its sealed secret still opens.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "state")
	c1 := startChild(t, bin, dir)
	creds := credsFromFile(t, dir)
	ctx := context.Background()
	ctrl := cp.New(cp.Options{BaseEndpoint: aws.String(c1.ep.URL), Region: c1.ep.Region, Credentials: creds, RetryMaxAttempts: 1})
	data := dp.New(dp.Options{BaseEndpoint: aws.String(c1.ep.URL), Region: c1.ep.Region, Credentials: creds, RetryMaxAttempts: 1})
	if _, err := ctrl.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("crash-agent")}); err != nil {
		t.Fatal(err)
	}
	tok, err := data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("crash-agent")})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked = map[string]string{} // provider name -> API key, acknowledged by a 2xx
		vends atomic.Int64
		wg    sync.WaitGroup
		stop  atomic.Bool
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("p-%d-%d", w, i)
				key := fmt.Sprintf("key-%d-%d-%d", w, i, time.Now().UnixNano())
				if _, err := ctrl.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
					Name: aws.String(name), ApiKey: aws.String(key)}); err != nil {
					return // the kill: connection refused or reset
				}
				mu.Lock()
				acked[name] = key
				mu.Unlock()
				if _, err := data.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
					WorkloadIdentityToken: tok.WorkloadAccessToken, ResourceCredentialProviderName: aws.String(name)}); err != nil {
					return
				}
				vends.Add(1)
			}
		}()
	}
	// Let load build up, then kill without warning.
	deadline := time.Now().Add(20 * time.Second)
	for vends.Load() < 40 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := c1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c1.cmd.Wait()
	stop.Store(true)
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d acknowledged writes before the kill: load did not build up", len(acked))
	}

	c2 := startChild(t, bin, dir)
	defer func() {
		_ = c2.cmd.Process.Signal(syscall.SIGTERM)
		_ = c2.cmd.Wait()
	}()
	if c2.ep.AccountID != c1.ep.AccountID {
		t.Fatalf("account changed across the crash: %s -> %s", c1.ep.AccountID, c2.ep.AccountID)
	}
	data2 := dp.New(dp.Options{BaseEndpoint: aws.String(c2.ep.URL), Region: c2.ep.Region, Credentials: creds, RetryMaxAttempts: 1})
	// The workload access token minted before the crash still works: the
	// key-encryption key and the workload survived.
	for name, key := range acked {
		out, err := data2.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
			WorkloadIdentityToken: tok.WorkloadAccessToken, ResourceCredentialProviderName: aws.String(name)})
		if err != nil {
			t.Fatalf("acknowledged provider %s lost or unreadable after kill -9: %v", name, err)
		}
		if aws.ToString(out.ApiKey) != key {
			t.Fatalf("provider %s: key changed across the crash", name)
		}
	}
	t.Logf("%d acknowledged providers and %d vends before SIGKILL; all providers readable after restart", len(acked), vends.Load())

	// The audit chain survived intact too (checked on the database directly).
	cfg := config.Default()
	cfg.DataDir = dir
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.NewTrail(st, nil).Verify(ctx, c2.ep.AccountID)
	if err != nil || !rep.OK() {
		t.Fatalf("audit chain after crash: %+v, %v", rep, err)
	}
	if rep.Events < int64(len(acked)) {
		t.Fatalf("audit has %d events for %d acknowledged creates", rep.Events, len(acked))
	}

	// Every provider that exists has a record of its creation, including
	// one the kill caught between its commit and its record: its intent
	// is recorded as Unknown once taken as abandoned (here at once,
	// rather than after the server's grace period).
	trail := audit.NewTrail(st, nil)
	if _, err := trail.Recover(ctx, c2.ep.AccountID, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	events, _, err := trail.Lookup(ctx, c2.ep.AccountID, audit.Filter{Operation: "CreateApiKeyCredentialProvider"}, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, e := range events {
		recorded[e.Resource] = e.Outcome
	}
	// Listing is a read, so the SDK's default retries may hide a transient
	// connection failure on a loaded machine without hiding a lost write.
	ctrl2 := cp.New(cp.Options{BaseEndpoint: aws.String(c2.ep.URL), Region: c2.ep.Region, Credentials: creds})
	pages := cp.NewListApiKeyCredentialProvidersPaginator(ctrl2, &cp.ListApiKeyCredentialProvidersInput{})
	existing := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.CredentialProviders {
			existing++
			name := aws.ToString(p.Name)
			if out := recorded[name]; out != audit.OutcomeSuccess && out != audit.OutcomeUnknown {
				t.Fatalf("provider %s exists but its creation is recorded as %q", name, out)
			}
		}
	}
	t.Logf("%d providers exist, each with a record of its creation", existing)
}
