package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserQuickstartSeed001 walks the identity quickstart (seed 001) the
// way a user does: the CLI binary against a server process, and a real
// headless Chromium for the hosted sign-in and consent pages.
func TestBrowserQuickstartSeed001(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and the agent and drives Chromium")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		// CI sets AGENTCORE_REQUIRE_BROWSER so that this test cannot
		// silently stop running there.
		if os.Getenv("AGENTCORE_REQUIRE_BROWSER") != "" {
			t.Fatalf("%s is missing and AGENTCORE_REQUIRE_BROWSER is set: %v", chromiumPath, err)
		}
		t.Skipf("%s not found (apt-get install chromium): skipping the browser walk", chromiumPath)
	}
	start := time.Now()
	bin := buildBinary(t)
	agentSrc, err := filepath.Abs("../examples/identity-quickstart")
	if err != nil {
		t.Fatal(err)
	}
	artifacts, err := filepath.Abs("artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	// The project directory: the server keeps its state in ./.agentcore,
	// where every CLI command finds endpoint.json and the credentials.
	work := t.TempDir()
	srv := startChild(t, bin, filepath.Join(work, ".agentcore"))
	t.Cleanup(func() {
		_ = srv.cmd.Process.Signal(syscall.SIGTERM)
		_ = srv.cmd.Wait()
	})
	w := &walk{t: t, bin: bin, dir: work, env: cleanEnv()}

	w.run("identity", "setup-cognito")
	vars := readEnvFile(t, filepath.Join(work, ".agentcore_identity_user.env"))
	for _, k := range []string{"RUNTIME_POOL_ID", "RUNTIME_CLIENT_ID", "RUNTIME_DISCOVERY_URL", "RUNTIME_USERNAME", "RUNTIME_PASSWORD",
		"IDENTITY_POOL_ID", "IDENTITY_CLIENT_ID", "IDENTITY_CLIENT_SECRET", "IDENTITY_DISCOVERY_URL", "IDENTITY_USERNAME", "IDENTITY_PASSWORD"} {
		if vars[k] == "" {
			t.Fatalf("setup-cognito wrote no %s: %v", k, vars)
		}
	}
	// The quickstart's export $(grep -v '^#' .agentcore_identity_user.env | xargs).
	for k, v := range vars {
		w.env = append(w.env, k+"="+v)
	}
	if !strings.HasPrefix(vars["RUNTIME_DISCOVERY_URL"], srv.ep.URL+"/idp/") {
		t.Fatalf("runtime pool is not on the built-in IdP: %s", vars["RUNTIME_DISCOVERY_URL"])
	}

	authorizer, _ := json.Marshal(map[string]any{"customJWTAuthorizer": map[string]any{
		"discoveryUrl": vars["RUNTIME_DISCOVERY_URL"], "allowedClients": []string{vars["RUNTIME_CLIENT_ID"]}}})
	w.run("configure", "-e", agentSrc, "--name", "identity_demo", "--authorizer-config", string(authorizer), "--disable-memory")
	out := w.run("identity", "create-credential-provider", "--name", "ExternalServiceProvider", "--type", "cognito",
		"--client-id", vars["IDENTITY_CLIENT_ID"], "--client-secret", vars["IDENTITY_CLIENT_SECRET"],
		"--discovery-url", vars["IDENTITY_DISCOVERY_URL"], "--cognito-pool-id", vars["IDENTITY_POOL_ID"])
	if !strings.Contains(out, "Added the callback URL to Cognito app client "+vars["IDENTITY_CLIENT_ID"]) {
		t.Fatalf("callback not registered at the identity pool:\n%s", out)
	}
	if out := w.run("launch"); !strings.Contains(out, "Agent runtime ARN: arn:aws:bedrock-agentcore:") {
		t.Fatalf("launch output:\n%s", out)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _ = w.exec("destroy", "--force") // stop the agent process even when the walk failed
		}
	})

	token := strings.TrimSpace(w.run("identity", "get-cognito-inbound-token"))
	if strings.Count(token, ".") != 2 {
		t.Fatalf("inbound token is not a JWT: %q", token)
	}
	session := fmt.Sprintf("seed001-browser-%024x", time.Now().UnixNano())
	first := w.invoke(token, session)
	if first.SessionID != session || !first.HasWAT || first.TokenLength != 0 ||
		!strings.HasPrefix(first.AuthorizationURL, srv.ep.URL+"/identities/oauth2/authorize?request_uri=") {
		t.Fatalf("first invoke did not ask for authorization: %+v", first)
	}

	clientName := "IdentityClient-" + strings.TrimPrefix(vars["IDENTITY_USERNAME"], "externaluser")
	landed := consentInBrowser(t, first.AuthorizationURL, vars["IDENTITY_USERNAME"], vars["IDENTITY_PASSWORD"], clientName, artifacts)
	if !strings.Contains(landed.URL, "/runtime-callback/oauth2/callback") || !strings.Contains(landed.URL, "session_id=") {
		t.Fatalf("browser ended on %s, not the runtime's return URL", landed.URL)
	}
	if !strings.Contains(landed.Body, "OAuth2 3LO flow completed successfully") {
		t.Fatalf("return URL page: %s", landed.Body)
	}

	second := w.invoke(token, session)
	if second.SessionID != session || second.AuthorizationURL != "" || second.TokenLength == 0 ||
		!strings.Contains(second.Response, "Authenticated to ExternalServiceProvider") {
		t.Fatalf("second invoke did not get the token: %+v", second)
	}

	w.run("destroy", "--force")
	destroyed = true
	w.run("identity", "cleanup", "--agent", "identity_demo", "--force")
	if _, err := os.Stat(filepath.Join(work, ".agentcore_identity_user.env")); !os.IsNotExist(err) {
		t.Errorf("cleanup left the Cognito env file: %v", err)
	}
	t.Logf("seed 001 walked in %s; screenshots in %s", time.Since(start).Round(time.Millisecond), artifacts)
}

// walk runs CLI commands in the project directory.
type walk struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func (w *walk) exec(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("agentcore %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func (w *walk) run(args ...string) string {
	w.t.Helper()
	out, err := w.exec(args...)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *walk) invoke(token, session string) agentAnswer {
	w.t.Helper()
	out := w.run("invoke", `{"prompt": "Call the external service"}`, "--bearer-token", token, "--session-id", session)
	var a agentAnswer
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &a); err != nil {
		w.t.Fatalf("invoke output is not the agent's answer: %v\n%s", err, out)
	}
	return a
}

// cleanEnv is the test's environment without AWS or agentcore settings,
// so the CLI finds the server and its credentials as a new user's would.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "AGENTCORE_") || strings.HasPrefix(kv, "BEDROCK_AGENTCORE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// readEnvFile parses the KEY=VALUE lines setup-cognito writes.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vars
}

// landing is where the browser ends up after consent.
type landing struct {
	URL  string `json:"url"`
	Body string `json:"body"`
}

// consentInBrowser opens the authorization URL in headless Chromium, signs
// in on the hosted login page, approves the consent page and returns where
// the browser ends up. Both pages are saved as screenshots.
func consentInBrowser(t *testing.T, authURL, username, password, clientName, artifacts string) landing {
	t.Helper()
	// Without the background-networking flags Chromium's own requests to
	// Google fail in a closed network and can stall start-up.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 45*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.CSS(`#username`))); err != nil {
		t.Fatalf("opening the authorization URL: %v", err)
	}
	title := run(ctx, t, chromedp.Title())
	loginText := run(ctx, t, chromedp.Text(chromedp.CSS(`main`)))
	fields := run(ctx, t, chromedp.AttributesAll(chromedp.CSSAll(`form input`)))
	writeArtifact(t, artifacts, "seed001-login.png", run(ctx, t, chromedp.FullScreenshot(100)))
	if title != "Sign in to "+clientName || !strings.Contains(loginText, clientName) || !strings.Contains(loginText, "AgentCoreIdentityPool-") {
		t.Fatalf("login page names the wrong client or pool: title %q\n%s", title, loginText)
	}
	types := map[string]string{}
	for _, f := range fields {
		types[f["name"]] = f["type"]
	}
	if _, ok := types["username"]; !ok || types["password"] != "password" || types["csrf_token"] != "hidden" || types["authRequestID"] != "hidden" {
		t.Fatalf("login form fields: %v", fields)
	}

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#username`), username),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
	); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	consentText := run(ctx, t, chromedp.Text(chromedp.CSS(`main`)))
	writeArtifact(t, artifacts, "seed001-consent.png", run(ctx, t, chromedp.FullScreenshot(100)))
	for _, want := range []string{"Allow access?", clientName + " asks to act as " + username, "openid"} {
		if !strings.Contains(consentText, want) {
			t.Fatalf("consent page lacks %q:\n%s", want, consentText)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value=allow]`))); err != nil {
		t.Fatalf("approving consent: %v", err)
	}
	// The browser follows three redirects (IdP callback, the server's
	// OAuth2 callback, the return URL); a query that races a navigation
	// fails, so poll until the last page has loaded.
	for {
		landed, err := chromedp.Run(ctx, chromedp.Evaluate[landing](
			`document.readyState === "complete" ? {url: location.href, body: document.body.innerText} : {}`))
		if err == nil && strings.Contains(landed.URL, "/runtime-callback/") {
			return landed
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browser did not reach the return URL after consent: %v (last: %+v)", err, landed)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run runs one browser action and returns its value.
func run[T any](ctx context.Context, t *testing.T, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writeArtifact(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Fatalf("empty screenshot %s", name)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
