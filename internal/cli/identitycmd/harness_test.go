package identitycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// harness runs identity commands against a real in-process server, with
// the endpoint and admin keys passed through the (injected) environment.
type harness struct {
	t     *testing.T
	srv   *servertest.Env
	dir   string
	vars  map[string]string
	stdin string
	tty   bool
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	// A file database, as `agentcore server` uses (separate reader and
	// writer connections), rather than the single-connection :memory:.
	srv := servertest.Start(t, servertest.Options{SQLitePath: filepath.Join(t.TempDir(), "agentcore.db")})
	return &harness{t: t, srv: srv, dir: t.TempDir(), vars: map[string]string{
		"AGENTCORE_ENDPOINT": srv.URL, "AWS_REGION": srv.Region,
		"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
	}}
}

type result struct {
	out, errOut string
	err         error
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	cmd := New(Options{
		Getenv: func(k string) string { return h.vars[k] }, Dir: h.dir,
		Stdin: strings.NewReader(h.stdin), IsTerminal: func(any) bool { return h.tty },
	})
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(servertest.Context(h.t))
	return result{out.String(), errOut.String(), err}
}

// must runs a command that has to succeed.
func (h *harness) must(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.err != nil {
		h.t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, r.err, r.out, r.errOut)
	}
	return r
}

func (h *harness) jsonOf(v any, args ...string) {
	h.t.Helper()
	r := h.must(args...)
	if err := json.Unmarshal([]byte(r.out), v); err != nil {
		h.t.Fatalf("%v: not JSON (%v):\n%s", args, err, r.out)
	}
}

// writeProject writes a minimal project file with agent "demo".
func (h *harness) writeProject() {
	h.t.Helper()
	content := "default_agent: demo\nagents:\n  demo:\n    name: demo\n    entrypoint: agent.py\n    custom_key: kept\n"
	if err := os.WriteFile(filepath.Join(h.dir, yamlconfig.FileName), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) agent() *yamlconfig.Agent {
	h.t.Helper()
	f, err := yamlconfig.Load(filepath.Join(h.dir, yamlconfig.FileName))
	if err != nil {
		h.t.Fatal(err)
	}
	a, err := f.Agent("demo")
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func (h *harness) ctx() context.Context { return servertest.Context(h.t) }

// client is an SDK client to check what the commands did on the server.
func (h *harness) client() *identity.Client {
	h.t.Helper()
	c, err := identity.New(identity.Options{Endpoint: h.srv.URL, Region: h.srv.Region,
		Credentials: h.srv.Credentials(), LocalDev: &identity.LocalDev{Disabled: true}})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}
