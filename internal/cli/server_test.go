package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/server"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer runs `agentcore server` in-process on a free port and returns
// the endpoint file once the server is up, and a stop function that
// cancels it (as SIGINT would) and returns its exit code.
func startServer(t *testing.T, dir string) (server.Endpoint, *lockedBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"server", "--addr", "127.0.0.1:0", "--data-dir", dir}, out, errOut)
	}()
	epPath := filepath.Join(dir, server.EndpointFile)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(epPath); err == nil {
			var ep server.Endpoint
			if json.Unmarshal(b, &ep) == nil && ep.URL != "" {
				if resp, err := http.Get(ep.URL + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						stop := func() int {
							cancel()
							select {
							case code := <-done:
								return code
							case <-time.After(20 * time.Second):
								t.Fatal("server did not shut down")
								return -1
							}
						}
						return ep, out, stop
					}
				}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("server exited early with %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not become ready: %s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerFirstStartBootstrapsAndRestartKeepsState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ep, out, stop := startServer(t, dir)

	if len(ep.AccountID) != 12 || strings.Trim(ep.AccountID, "0123456789") != "" {
		t.Errorf("account id %q is not 12 digits", ep.AccountID)
	}
	for _, name := range []string{"kek.json", "credentials", "agentcore.db"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %o, want no group/other access", name, perm)
		}
	}
	creds, err := os.ReadFile(filepath.Join(dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[agentcore]", "aws_access_key_id = AKIA", "aws_secret_access_key = ", "region = us-east-1"} {
		if !strings.Contains(string(creds), want) {
			t.Errorf("credentials file lacks %q", want)
		}
	}
	banner := out.String()
	for _, want := range []string{ep.URL, ep.AccountID, "AWS_SHARED_CREDENTIALS_FILE=", "AWS_PROFILE=agentcore"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code after graceful shutdown = %d", code)
	}

	// Second start: same account, credentials untouched (no new admin key).
	ep2, _, stop2 := startServer(t, dir)
	defer stop2()
	if ep2.AccountID != ep.AccountID {
		t.Errorf("account changed across restart: %s -> %s", ep.AccountID, ep2.AccountID)
	}
	creds2, _ := os.ReadFile(filepath.Join(dir, "credentials"))
	if !bytes.Equal(creds, creds2) {
		t.Error("credentials file rewritten on restart")
	}
	resp, err := http.Get(ep2.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, b)
	}
}

func TestServerRejectsBadConfig(t *testing.T) {
	var errOut lockedBuffer
	code := Execute(context.Background(), []string{"server", "--store", "postgres", "--region", "mars", "--data-dir", t.TempDir()}, io.Discard, &errOut)
	if code == 0 {
		t.Fatal("server started with an invalid configuration")
	}
	for _, want := range []string{"--database-url", "region \"mars\""} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("error output lacks %q: %s", want, errOut.String())
		}
	}
}

func TestServerEnvOverrides(t *testing.T) {
	t.Setenv("AGENTCORE_REGION", "eu-west-1")
	t.Setenv("AGENTCORE_STORE", "postgres")
	var errOut lockedBuffer
	// No database URL: validation must mention it, proving the env var set the store.
	code := Execute(context.Background(), []string{"server", "--data-dir", t.TempDir()}, io.Discard, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "--database-url") {
		t.Fatalf("code %d, output %s", code, errOut.String())
	}
}
