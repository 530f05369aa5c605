package identitycmd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

func newCreateWorkloadIdentityCmd(e *env) *cobra.Command {
	var name, agent string
	var returnURLs []string
	cmd := &cobra.Command{
		Use:   "create-workload-identity",
		Short: "Create a workload identity (the agent's identity) and record it in the project file",
		Long: `Create a workload identity. Return URLs are where the browser lands after a
user consents in a 3LO flow; user-federation flows need at least one.
The name defaults to <agent>-workload when .bedrock_agentcore.yaml exists,
else workload-<8 hex>.`,
		Example: "  agentcore identity create-workload-identity --name travel-agent --return-urls http://localhost:8081/oauth2/callback",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if name == "" {
				n, err := e.defaultWorkloadName(agent)
				if err != nil {
					return err
				}
				name = n
			}
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			c, err := t.Identity()
			if err != nil {
				return err
			}
			urls := splitList(returnURLs)
			wi, err := c.CreateWorkloadIdentity(ctx, name, urls)
			if err != nil {
				return fmt.Errorf("create workload identity %q: %w", name, err)
			}
			p := e.printer(cmd)
			saved, ok, err := e.updateAgent(agent, func(a *yamlconfig.Agent) error {
				if a.Identity == nil {
					a.Identity = &yamlconfig.Identity{}
				}
				a.Identity.Workload = &yamlconfig.Workload{Name: wi.Name, ARN: wi.ARN, ReturnURLs: nonNil(wi.ReturnURLs)}
				return nil
			})
			if err != nil {
				return fmt.Errorf("workload identity created, but saving %s failed: %w", yamlconfig.FileName, err)
			}
			body := fmt.Sprintf("Name: %s\nARN:  %s\nReturn URLs: %s", wi.Name, wi.ARN, orDash(strings.Join(wi.ReturnURLs, ", ")))
			if ok {
				body += fmt.Sprintf("\n\nSaved to %s (agent %s)", yamlconfig.FileName, saved)
			}
			p.Panel("✅ Workload Identity Created", body, output.Success)
			if !ok {
				p.Warnf("no %s here: the workload identity exists but is not recorded in a project file", yamlconfig.FileName)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "", "workload identity name")
	f.StringSliceVar(&returnURLs, "return-urls", nil, "allowed OAuth2 return URLs (comma-separated)")
	f.StringVarP(&agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	return cmd
}

func (e *env) defaultWorkloadName(agent string) (string, error) {
	if f, ok, err := e.project(); err != nil {
		return "", err
	} else if ok {
		if name, err := f.ResolveAgent(agent); err == nil {
			return name + "-workload", nil
		}
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "workload-" + hex.EncodeToString(b), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
