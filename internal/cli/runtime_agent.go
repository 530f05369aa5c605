package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

// loadAgent loads the project file and the named (or default) agent.
func loadAgent(name string) (*yamlconfig.File, string, *yamlconfig.Agent, error) {
	f, ok, err := yamlconfig.LoadDir(".")
	if err != nil {
		return nil, "", nil, err
	}
	if !ok {
		return nil, "", nil, fmt.Errorf("no %s here: run `agentcore configure` first", yamlconfig.FileName)
	}
	name, err = f.ResolveAgent(name)
	if err != nil {
		return nil, "", nil, err
	}
	a, err := f.Agent(name)
	if err != nil {
		return nil, "", nil, err
	}
	if a.BedrockAgentCore == nil {
		a.BedrockAgentCore = &yamlconfig.BedrockAgentCore{}
	}
	return f, name, a, nil
}

// agentDir holds a launched agent's binary, log and pid file.
func agentDir(dataDir, name string) string { return filepath.Join(dataDir, "agents", name) }

func readPID(dataDir, name string) int {
	b, err := os.ReadFile(filepath.Join(agentDir(dataDir, name), "pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
