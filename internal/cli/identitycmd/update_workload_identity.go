package identitycmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

func newUpdateWorkloadIdentityCmd(e *env) *cobra.Command {
	var name, agent string
	var add, set []string
	cmd := &cobra.Command{
		Use:     "update-workload-identity",
		Short:   "Add or replace the allowed return URLs of a workload identity",
		Example: "  agentcore identity update-workload-identity --name travel-agent --add-return-urls https://app.example.com/callback",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			addURLs, setURLs := splitList(add), splitList(set)
			if cmd.Flags().Changed("add-return-urls") == cmd.Flags().Changed("set-return-urls") {
				return errors.New("give exactly one of --add-return-urls or --set-return-urls")
			}
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			c, err := t.Identity()
			if err != nil {
				return err
			}
			cur, err := c.GetWorkloadIdentity(ctx, name)
			if err != nil {
				return fmt.Errorf("get workload identity %q: %w", name, err)
			}
			next := setURLs
			if addURLs != nil {
				next = union(cur.ReturnURLs, addURLs)
			}
			wi, err := c.UpdateWorkloadIdentity(ctx, name, next)
			if err != nil {
				return fmt.Errorf("update workload identity %q: %w", name, err)
			}
			// Keep the project file in step when it records this identity.
			if _, _, err := e.updateAgent(agent, func(a *yamlconfig.Agent) error {
				if a.Identity != nil && a.Identity.Workload != nil && a.Identity.Workload.Name == wi.Name {
					a.Identity.Workload.ReturnURLs = nonNil(wi.ReturnURLs)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("workload identity updated, but saving %s failed: %w", yamlconfig.FileName, err)
			}
			e.printer(cmd).Panel("✅ Workload Identity Updated", fmt.Sprintf("Name: %s\nARN:  %s\n\nPrevious return URLs: %s\nNew return URLs:      %s",
				wi.Name, wi.ARN, orDash(strings.Join(cur.ReturnURLs, ", ")), orDash(strings.Join(wi.ReturnURLs, ", "))), output.Success)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "", "workload identity name (required)")
	f.StringSliceVar(&add, "add-return-urls", nil, "return URLs to add (comma-separated)")
	f.StringSliceVar(&set, "set-return-urls", nil, "return URLs replacing the current ones (comma-separated; empty clears)")
	f.StringVarP(&agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// union appends the new URLs not already present, keeping order (the
// toolkit's set union loses it).
func union(cur, add []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, u := range append(append([]string{}, cur...), add...) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}
