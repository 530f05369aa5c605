package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/internal/runtime"
)

// TestConfigureLaunchInvokeDestroy runs the runtime verbs against a real
// in-process server: the launched agent outlives launch, answers a SigV4
// invoke with a user id, and destroy stops it and clears the YAML.
func TestConfigureLaunchInvokeDestroy(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	_, _, stop := startServer(t, state)
	defer stop()
	agentSrc, err := filepath.Abs("../../examples/identity-quickstart")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	run := func(args ...string) string {
		t.Helper()
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		if code := Execute(context.Background(), args, out, errOut); code != 0 {
			t.Fatalf("agentcore %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String()
	}
	run("configure", "-e", agentSrc, "--name", "cli_agent", "--disable-memory")
	out := run("launch", "--data-dir", state)
	if !strings.Contains(out, "Agent runtime ARN: arn:aws:bedrock-agentcore:") {
		t.Fatalf("launch output: %s", out)
	}
	f, _, err := yamlconfig.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.Agent("cli_agent")
	if err != nil || a.BedrockAgentCore == nil || a.BedrockAgentCore.AgentARN == nil {
		t.Fatalf("yaml after launch: %v %+v", err, a)
	}
	pid := readPID(state, "cli_agent")
	if !runtime.Alive(pid) {
		t.Fatalf("agent process %d not running after launch returned", pid)
	}

	out = run("invoke", "hello", "--data-dir", state, "--user-id", "user-1")
	if !strings.Contains(out, `"hasWorkloadAccessToken":true`) || !strings.Contains(out, `"sessionId":"`) {
		t.Fatalf("invoke output: %s", out)
	}
	f, _, _ = yamlconfig.LoadDir(dir)
	a, _ = f.Agent("cli_agent")
	if a.BedrockAgentCore.AgentSessionID == nil || len(*a.BedrockAgentCore.AgentSessionID) < 33 {
		t.Fatalf("session id not saved: %+v", a.BedrockAgentCore)
	}

	run("destroy", "--data-dir", state)
	if runtime.Alive(pid) {
		t.Errorf("agent process %d still running after destroy", pid)
	}
	if _, err := os.Stat(filepath.Join(state, "agents", "cli_agent")); !os.IsNotExist(err) {
		t.Errorf("agent dir left behind: %v", err)
	}
	f, _, _ = yamlconfig.LoadDir(dir)
	if a, _ = f.Agent("cli_agent"); a.BedrockAgentCore != nil && a.BedrockAgentCore.AgentARN != nil {
		t.Errorf("agent_arn left in yaml")
	}
}
