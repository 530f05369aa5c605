package identitycmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// providerJSON is one provider in the --json output.
type providerJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Vendor      string `json:"vendor,omitempty"`
	Status      string `json:"status,omitempty"`
	ARN         string `json:"arn"`
	CallbackURL string `json:"callbackUrl,omitempty"`
	// InProject is true when the project file records the provider.
	InProject bool `json:"inProject"`
}

type listProvidersJSON struct {
	Providers []providerJSON `json:"providers"`
	// MissingOnServer are project-file providers the server does not have.
	MissingOnServer []string             `json:"missingOnServer"`
	Agent           string               `json:"agent,omitempty"`
	Workload        *yamlconfig.Workload `json:"workload"`
}

func newListCredentialProvidersCmd(e *env) *cobra.Command {
	var agent string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list-credential-providers",
		Aliases: []string{"list-providers"},
		Short:   "List the server's credential providers (both kinds) and the project's workload identity",
		Long: `List every credential provider on the server, OAuth2 and API key, marking
those recorded in .bedrock_agentcore.yaml; then the project's workload
identity. (The toolkit's command reads only the project file.)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			c, err := t.Identity()
			if err != nil {
				return err
			}
			provs, err := c.ListCredentialProviders(ctx)
			if err != nil {
				return fmt.Errorf("list credential providers: %w", err)
			}
			out := listProvidersJSON{Providers: []providerJSON{}, MissingOnServer: []string{}}
			inProject := map[string]bool{}
			if f, ok, err := e.project(); err != nil {
				return err
			} else if ok {
				if name, err := f.ResolveAgent(agent); err == nil {
					a, err := f.Agent(name)
					if err != nil {
						return err
					}
					out.Agent = name
					if a.Identity != nil {
						out.Workload = a.Identity.Workload
						for _, cp := range a.Identity.CredentialProviders {
							inProject[cp.Name] = true
						}
					}
				}
			}
			onServer := map[string]bool{}
			for _, cp := range provs {
				if cp.Kind == identity.KindOAuth2 && cp.CallbackURL == "" {
					// The list operation returns summaries; the callback URL
					// is what users come here for.
					full, err := c.GetOAuth2CredentialProvider(ctx, cp.Name)
					if err != nil {
						return fmt.Errorf("get credential provider %s: %w", cp.Name, err)
					}
					cp = *full
				}
				onServer[cp.Name] = true
				out.Providers = append(out.Providers, providerJSON{
					Name: cp.Name, Type: string(cp.Kind), Vendor: string(cp.Vendor), Status: cp.Status,
					ARN: cp.ARN, CallbackURL: cp.CallbackURL, InProject: inProject[cp.Name],
				})
			}
			for name := range inProject {
				if !onServer[name] {
					out.MissingOnServer = append(out.MissingOnServer, name)
				}
			}
			p := e.printer(cmd)
			if asJSON {
				return p.JSON(out)
			}
			printProviders(p, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printProviders(p *output.Printer, out listProvidersJSON) {
	if len(out.Providers) == 0 {
		p.Linef("No credential providers. Create one with `agentcore identity create-credential-provider`.")
	} else {
		rows := make([][]string, 0, len(out.Providers))
		for _, cp := range out.Providers {
			mark := ""
			if cp.InProject {
				mark = "✓"
			}
			cb := cp.CallbackURL
			if p.Styled {
				cb = output.Truncate(cb, 60)
			}
			rows = append(rows, []string{cp.Name, cp.Type, orDash(cp.Vendor), orDash(cp.Status), orDash(cb), mark})
		}
		p.Table("Credential Providers", []string{"Name", "Type", "Vendor", "Status", "Callback URL", "In project"}, rows)
	}
	for _, name := range out.MissingOnServer {
		p.Warnf("%s lists provider %q, which the server does not have", yamlconfig.FileName, name)
	}
	switch {
	case out.Workload != nil:
		p.Linef("\nWorkload identity (agent %s): %s", out.Agent, out.Workload.Name)
		p.Linef("  ARN:         %s", out.Workload.ARN)
		p.Linef("  Return URLs: %s", orDash(strings.Join(out.Workload.ReturnURLs, ", ")))
	case out.Agent != "":
		p.Linef("\nNo workload identity recorded for agent %s.", out.Agent)
	}
}
