package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

// newConfigureCmd writes an agent's entry in .bedrock_agentcore.yaml, as
// the starter toolkit's `configure` does (authorizer and header allowlist
// stored verbatim for CreateAgentRuntime).
func newConfigureCmd() *cobra.Command {
	var entrypoint, name, authorizer, headers string
	var disableMemory bool
	cmd := &cobra.Command{
		Use:   "configure",
		Short: "Configure an agent for `agentcore launch` (writes .bedrock_agentcore.yaml)",
		Long: `Configure an agent. The entrypoint is a Go main package directory (built
with go build by launch) or a command line. --authorizer-config takes the
CreateAgentRuntime shape {"customJWTAuthorizer":{"discoveryUrl":…,
"allowedClients":[…]}} and makes the runtime accept bearer JWTs instead
of SigV4.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if entrypoint == "" || name == "" {
				return fmt.Errorf("--entrypoint and --name are required")
			}
			a := &yamlconfig.Agent{Name: name, Entrypoint: entrypoint, Language: "go", DeploymentType: "local",
				BedrockAgentCore: &yamlconfig.BedrockAgentCore{}, Identity: &yamlconfig.Identity{}}
			jwt := yamlconfig.DefaultAWSJWT()
			a.AWSJWT = &jwt
			if authorizer != "" {
				if err := json.Unmarshal([]byte(authorizer), &a.AuthorizerConfiguration); err != nil {
					return fmt.Errorf("--authorizer-config is not a JSON object: %w", err)
				}
				if _, ok := a.AuthorizerConfiguration["customJWTAuthorizer"]; !ok {
					return fmt.Errorf(`--authorizer-config must be {"customJWTAuthorizer": {...}}`)
				}
			}
			if headers != "" {
				var list []any
				for h := range strings.SplitSeq(headers, ",") {
					if h = strings.TrimSpace(h); h != "" {
						list = append(list, h)
					}
				}
				a.RequestHeaderConfiguration = map[string]any{"requestHeaderAllowlist": list}
			}
			_ = disableMemory // memory is not part of the local runtime; accepted for parity
			f, ok, err := yamlconfig.LoadDir(".")
			if err != nil {
				return err
			}
			if !ok {
				wd, _ := os.Getwd()
				f = yamlconfig.New(wd + "/" + yamlconfig.FileName)
			}
			if err := f.PutAgent(name, a); err != nil {
				return err
			}
			f.SetDefaultAgent(name)
			if err := f.Save(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Configured agent %q in %s\n", name, f.Path)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&entrypoint, "entrypoint", "e", "", "Go package directory or command of the agent")
	fl.StringVarP(&name, "name", "n", "", "agent name")
	fl.StringVarP(&authorizer, "authorizer-config", "a", "", "inbound JWT authorizer (JSON)")
	fl.StringVar(&headers, "request-header-allowlist", "", "comma-separated headers forwarded to the agent")
	fl.BoolVar(&disableMemory, "disable-memory", false, "accepted for toolkit parity (no memory locally)")
	fl.Bool("non-interactive", true, "accepted for toolkit parity")
	return cmd
}
