// Package cluster runs several `agentcore server` processes on one
// PostgreSQL database behind a load balancer that lives in the test, drives
// them with the unmodified AWS SDK for Go v2 and an OpenID provider, and
// proves that losing or rolling replicas under load loses nothing that was
// acknowledged and shows clients no error they could not retry.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
)

const region = "us-east-1"

// buildBinary compiles cmd/agentcore once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "agentcore")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/agentcore")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr reserves a loopback port. Replicas keep their address across
// restarts, as a pod behind a service does, so the balancer's backend list
// never changes.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// replica is one `agentcore server` child process. Restarts reuse its
// address, flags and data directory.
type replica struct {
	name string
	addr string
	args []string
	log  string // appended to by every run

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run exited
	exit error
}

func (r *replica) url() string { return "http://" + r.addr }

// start runs the process and waits until /readyz answers 200.
func (r *replica) start(ctx context.Context, bin string) error {
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: open log: %w", r.name, err)
	}
	cmd := exec.Command(bin, r.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("%s: start: %w", r.name, err)
	}
	done := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = logf.Close()
		r.mu.Lock()
		r.exit = err
		r.mu.Unlock()
		close(done)
	}()
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("%s exited during start-up: %w\n%s", r.name, r.exitErr(), r.tail())
		default:
		}
		if ready(ctx, probe, r.url()) {
			return nil
		}
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("%s did not become ready:\n%s", r.name, r.tail())
}

// ready reports whether base/readyz answers 200.
func ready(ctx context.Context, hc *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (r *replica) exitErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exit
}

// send signals the running process.
func (r *replica) send(t *testing.T, sig syscall.Signal) {
	t.Helper()
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%s: signal %v: %v", r.name, sig, err)
	}
}

// wait waits for the process to exit and returns how it exited.
func (r *replica) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	select {
	case <-done:
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not exit within %s:\n%s", r.name, within, r.tail())
	}
	return r.exitErr()
}

// stop ends the process at test cleanup if it still runs.
func (r *replica) stop() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
	default:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
}

// tail is the end of the replica's log, for failure messages.
func (r *replica) tail() string {
	b, _ := os.ReadFile(r.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// cluster is replicas of one installation on one database behind one
// balancer.
type cluster struct {
	bin      string
	dbURL    string
	lb       *balancer
	replicas []*replica
	creds    aws.CredentialsProvider
	hc       *countingClient
}

// startCluster bootstraps the first replica alone, then starts the others
// together on the same database, key-encryption key file and public URL:
// they join the installation the first one created.
func startCluster(ctx context.Context, t *testing.T, n int, drainDelay time.Duration) *cluster {
	t.Helper()
	dbURL := pgtest.NewDatabase(t) // skips without PostgreSQL; CI always has it
	c := &cluster{bin: buildBinary(t), dbURL: dbURL}
	shared := t.TempDir()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
	}
	c.lb = newBalancer(ctx, t, addrs)
	for i, addr := range addrs {
		dir := filepath.Join(shared, fmt.Sprintf("replica-%d", i))
		r := &replica{name: fmt.Sprintf("replica-%d", i), addr: addr, log: filepath.Join(shared, fmt.Sprintf("replica-%d.log", i)),
			args: []string{"server", "--addr", addr, "--data-dir", dir, "--store", "postgres", "--database-url", dbURL,
				"--public-url", c.lb.url(), "--kek-file", filepath.Join(shared, "kek.json"), "--log-level", "warn",
				"--allow-private-network", "--rate-limit-token-requests", "0", "--quota-apikey-providers", "100000",
				"--quota-workload-identities", "100000", "--shutdown-timeout", "10s", "--drain-delay", drainDelay.String()}}
		c.replicas = append(c.replicas, r)
		t.Cleanup(func() {
			r.stop()
			if t.Failed() {
				t.Logf("%s log:\n%s", r.name, r.tail())
			}
		})
	}
	if err := c.replicas[0].start(ctx, c.bin); err != nil {
		t.Fatal(err)
	}
	c.creds = credentialsIn(t, filepath.Join(shared, "replica-0"))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, r := range c.replicas[1:] {
		wg.Go(func() { errs[i+1] = r.start(ctx, c.bin) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.replicas[1:] {
		// A joining replica finds the admin key; it never mints another.
		if _, err := os.Stat(filepath.Join(shared, r.name, "credentials")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s wrote its own credentials file (a second admin key?): %v", r.name, err)
		}
	}
	c.lb.waitHealthy(t, n)
	c.hc = newCountingClient()
	return c
}

// credentialsIn reads the admin key the first replica wrote.
func credentialsIn(t *testing.T, dir string) aws.CredentialsProvider {
	t.Helper()
	c, err := connect.ReadProfile(filepath.Join(dir, "credentials"), connect.Profile)
	if err != nil {
		t.Fatalf("the first replica's credentials file holds no access key: %v", err)
	}
	c.Source = "cluster-test"
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

// auditVerify runs `agentcore audit verify` against the database, as an
// operator would, and returns how many records it verified.
func (c *cluster) auditVerify(ctx context.Context, t *testing.T) int {
	t.Helper()
	out, err := exec.CommandContext(ctx, c.bin, "audit", "verify", "--store", "postgres", "--database-url", c.dbURL).CombinedOutput()
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`is intact: (\d+) records verified`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("audit verify said: %s", out)
	}
	var n int
	_, _ = fmt.Sscan(string(m[1]), &n)
	return n
}
