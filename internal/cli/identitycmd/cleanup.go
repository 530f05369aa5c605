package identitycmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd/cognitosetup"
	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// cleanupPlan is what cleanup will remove.
type cleanupPlan struct {
	file      *yamlconfig.File
	agent     string
	providers []yamlconfig.CredentialProvider
	workload  *yamlconfig.Workload
	awsJWT    bool
	cognito   map[string]*cognitosetup.File // by flow
}

func (p *cleanupPlan) needsServer() bool {
	return len(p.providers) > 0 || p.workload != nil || len(p.cognito) > 0
}

func newCleanupCmd(e *env) *cobra.Command {
	var agent string
	var force bool
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete the identity resources of the project: providers, workload identity, Cognito pools, aws_jwt",
		Long: `Delete what the identity commands created for the agent: the credential
providers (OAuth2 and API key) and the workload identity recorded in
.bedrock_agentcore.yaml, the Cognito pools of setup-cognito with their
.agentcore_identity_* files, and reset the agent's aws_jwt block. The
account-wide AWS IAM JWT federation stays enabled.

Without --force it lists the resources and asks for confirmation, which
needs a terminal.`,
		Example: "  agentcore identity cleanup --agent identity_demo --force",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := e.planCleanup(agent)
			if err != nil {
				return err
			}
			p := e.printer(cmd)
			items := plan.describe()
			if len(items) == 0 {
				p.Linef("Nothing to clean up.")
				return nil
			}
			p.Panel("🧹 Identity resources to delete", "• "+strings.Join(items, "\n• "), output.Warning)
			if !force {
				ok, err := e.confirm(cmd)
				if err != nil || !ok {
					return err
				}
			}
			return e.runCleanup(cmd.Context(), p, plan)
		},
	}
	cmd.Flags().StringVarP(&agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "delete without asking")
	return cmd
}

func (e *env) planCleanup(agent string) (*cleanupPlan, error) {
	plan := &cleanupPlan{cognito: map[string]*cognitosetup.File{}}
	f, ok, err := e.project()
	if err != nil {
		return nil, err
	}
	if ok {
		name, err := f.ResolveAgent(agent)
		switch {
		case errors.Is(err, yamlconfig.ErrNoAgent):
		case err != nil:
			return nil, err
		default:
			a, err := f.Agent(name)
			if err != nil {
				return nil, err
			}
			plan.file, plan.agent = f, name
			if a.Identity != nil {
				plan.providers, plan.workload = a.Identity.CredentialProviders, a.Identity.Workload
			}
			plan.awsJWT = a.AWSJWT != nil && (a.AWSJWT.Enabled || len(a.AWSJWT.Audiences) > 0)
		}
	}
	for _, flow := range []string{cognitosetup.FlowUser, cognitosetup.FlowM2M} {
		c, err := cognitosetup.ReadFile(e.path(cognitosetup.JSONName(flow)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		plan.cognito[flow] = c
	}
	return plan, nil
}

func (p *cleanupPlan) describe() []string {
	var items []string
	for _, cp := range p.providers {
		items = append(items, fmt.Sprintf("credential provider %s (%s)", cp.Name, cp.Type))
	}
	if p.workload != nil {
		items = append(items, "workload identity "+p.workload.Name)
	}
	for _, flow := range []string{cognitosetup.FlowUser, cognitosetup.FlowM2M} {
		if c := p.cognito[flow]; c != nil {
			items = append(items, fmt.Sprintf("Cognito pools %s and %s, with %s and %s",
				c.Runtime.PoolID, c.Identity.PoolID, cognitosetup.JSONName(flow), cognitosetup.EnvName(flow)))
		}
	}
	if p.awsJWT {
		items = append(items, "aws_jwt configuration of agent "+p.agent+" (reset to disabled)")
	}
	return items
}

// confirm asks on the terminal. Without one it refuses rather than delete
// unasked or hang on a pipe.
func (e *env) confirm(cmd *cobra.Command) (bool, error) {
	if !e.opts.IsTerminal(e.opts.Stdin) {
		return false, errors.New("refusing to delete without confirmation: stdin is not a terminal; re-run with --force")
	}
	fmt.Fprint(cmd.OutOrStdout(), "Delete these resources? [y/N]: ")
	line, err := bufio.NewReader(e.opts.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("read answer: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return true, nil
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Cancelled; nothing was deleted.")
	return false, nil
}

func (e *env) runCleanup(ctx context.Context, p *output.Printer, plan *cleanupPlan) error {
	var errs []error
	var t *connect.Target
	var c *identity.Client
	if plan.needsServer() {
		var err error
		if t, err = e.target(ctx); err != nil {
			return err
		}
		if c, err = t.Identity(); err != nil {
			return err
		}
	}
	var kept []yamlconfig.CredentialProvider
	for _, cp := range plan.providers {
		// Both kinds: the toolkit deletes only OAuth2 providers and leaks
		// API keys.
		err := c.DeleteCredentialProvider(ctx, cp.Name)
		switch {
		case err == nil:
			p.Linef("✓ Deleted credential provider %s", cp.Name)
		case errors.Is(err, identity.ErrNotFound):
			p.Linef("✓ Credential provider %s was already deleted", cp.Name)
		default:
			kept = append(kept, cp)
			errs = append(errs, fmt.Errorf("delete credential provider %s: %w", cp.Name, err))
		}
	}
	workload := plan.workload
	if workload != nil {
		err := c.DeleteWorkloadIdentity(ctx, workload.Name)
		switch {
		case err == nil || errors.Is(err, identity.ErrNotFound):
			p.Linef("✓ Deleted workload identity %s", workload.Name)
			workload = nil
		default:
			errs = append(errs, fmt.Errorf("delete workload identity %s: %w", workload.Name, err))
		}
	}
	for _, flow := range []string{cognitosetup.FlowUser, cognitosetup.FlowM2M} {
		if cf := plan.cognito[flow]; cf != nil {
			errs = append(errs, e.deleteCognito(ctx, p, t, flow, cf))
		}
	}
	if plan.file != nil {
		err := plan.file.UpdateAgent(plan.agent, func(a *yamlconfig.Agent) error {
			a.Identity = &yamlconfig.Identity{CredentialProviders: append([]yamlconfig.CredentialProvider{}, kept...), Workload: workload}
			if a.AWSJWT != nil {
				d := yamlconfig.DefaultAWSJWT()
				a.AWSJWT = &d
			}
			return nil
		})
		if err == nil {
			err = plan.file.Save()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("update %s: %w", yamlconfig.FileName, err))
		} else {
			p.Linef("✓ Cleared the identity configuration of agent %s in %s", plan.agent, yamlconfig.FileName)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cleanup incomplete: %w", err)
	}
	p.Linef("\n✅ Cleanup complete")
	return nil
}

func (e *env) deleteCognito(ctx context.Context, p *output.Printer, t *connect.Target, flow string, cf *cognitosetup.File) error {
	cog := t.Cognito()
	for _, pool := range []cognitosetup.Pool{cf.Runtime, cf.Identity} {
		if pool.PoolID == "" {
			continue
		}
		if err := cognitosetup.DeletePool(ctx, cog, pool.PoolID, pool.DomainPrefix); err != nil {
			return err
		}
		p.Linef("✓ Deleted Cognito pool %s", pool.PoolID)
	}
	for _, name := range []string{cognitosetup.JSONName(flow), cognitosetup.EnvName(flow)} {
		if err := os.Remove(e.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	p.Linef("✓ Removed %s and %s", cognitosetup.JSONName(flow), cognitosetup.EnvName(flow))
	return nil
}
