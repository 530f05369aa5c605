package identitycmd

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

func TestCleanup(t *testing.T) {
	h := newHarness(t)
	h.writeProject()
	h.must("create-workload-identity")
	h.must("create-credential-provider", "-n", "gh", "-t", "github", "--client-id", "a", "--client-secret", "b")
	h.must("create-credential-provider", "-n", "key", "-t", "api_key", "--api-key", "k")
	h.must("setup-aws-jwt", "-a", "https://api.example.com")
	c := h.client()
	// Not in the project file: cleanup must leave it alone.
	if _, err := c.CreateAPIKeyCredentialProvider(h.ctx(), "unrelated", "k"); err != nil {
		t.Fatal(err)
	}
	remaining := func() int {
		ps, err := c.ListCredentialProviders(h.ctx())
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}

	tests := []struct {
		name, stdin string
		tty         bool
		args        []string
		wantErr     string
		wantOut     string
		deleted     bool
	}{
		{"no terminal, no force", "y\n", false, nil, "stdin is not a terminal; re-run with --force", "", false},
		{"terminal, answered no", "n\n", true, nil, "", "Cancelled", false},
		{"terminal, answered yes", "y\n", true, nil, "", "Cleanup complete", true},
		{"nothing left", "", false, []string{"--force"}, "", "Nothing to clean up", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.stdin, h.tty = tc.stdin, tc.tty
			r := h.run(append([]string{"cleanup"}, tc.args...)...)
			if tc.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, r.err)
				}
			} else if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.out)
			}
			if !strings.Contains(r.out, tc.wantOut) {
				t.Fatalf("output lacks %q:\n%s", tc.wantOut, r.out)
			}
			_, wErr := c.GetWorkloadIdentity(h.ctx(), "demo-workload")
			if tc.deleted {
				if n := remaining(); n != 1 || !errors.Is(wErr, identity.ErrNotFound) {
					t.Fatalf("after cleanup: %d providers, workload err %v", n, wErr)
				}
				a := h.agent()
				if len(a.Identity.CredentialProviders) != 0 || a.Identity.Workload != nil || a.AWSJWT.Enabled || len(a.AWSJWT.Audiences) != 0 {
					t.Fatalf("YAML not cleared: %+v %+v", a.Identity, a.AWSJWT)
				}
			} else if n := remaining(); n != 3 || wErr != nil {
				t.Fatalf("resources deleted without confirmation: %d providers, workload err %v", n, wErr)
			}
		})
	}
	b, _ := os.ReadFile(filepath.Join(h.dir, yamlconfig.FileName))
	if !strings.Contains(string(b), "custom_key: kept") {
		t.Fatalf("cleanup dropped an unknown key:\n%s", b)
	}
}

func TestServerNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	h := &harness{t: t, dir: t.TempDir(), vars: map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}}
	want := "no agentcore server at " + closed + " — start one with `agentcore server` (or set --endpoint / AGENTCORE_ENDPOINT)"
	for _, args := range [][]string{
		{"list-credential-providers", "--endpoint", closed},
		{"create-workload-identity", "-n", "x", "--endpoint", closed},
		{"setup-aws-jwt", "-a", "x", "--endpoint", closed},
		{"setup-cognito", "--endpoint", closed},
	} {
		r := h.run(args...)
		if !errors.Is(r.err, connect.ErrServerUnreachable) || !strings.HasPrefix(r.err.Error(), want) {
			t.Errorf("%v: error %v, want prefix %q", args, r.err, want)
		}
	}
	// The endpoint also comes from AGENTCORE_ENDPOINT.
	h.vars["AGENTCORE_ENDPOINT"] = closed
	if r := h.run("list-providers"); !errors.Is(r.err, connect.ErrServerUnreachable) {
		t.Errorf("with AGENTCORE_ENDPOINT: %v", r.err)
	}
}

func TestDiscoveryThroughDataDir(t *testing.T) {
	h := newHarness(t)
	// What `agentcore server` leaves in its data directory, and no
	// environment at all.
	dataDir := filepath.Join(h.dir, ".agentcore")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"endpoint.json": `{"url":"` + h.srv.URL + `","accountId":"` + h.srv.AccountID + `","region":"` + h.srv.Region + `"}`,
		"credentials":   "[agentcore]\naws_access_key_id = " + h.srv.AccessKey + "\naws_secret_access_key = " + h.srv.SecretKey + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dataDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h.vars = map[string]string{}
	h.must("create-workload-identity", "-n", "found-by-data-dir")
	if _, err := h.client().GetWorkloadIdentity(h.ctx(), "found-by-data-dir"); err != nil {
		t.Fatal(err)
	}
}
