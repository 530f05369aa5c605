// Package identitycmd holds the `agentcore identity …` commands, one file
// per verb-noun, mirroring the starter toolkit's identity CLI. They reach
// the server only through the public SDK (and, for the built-in Cognito IdP
// and IAM, through the real AWS SDK clients), and share the project file
// .bedrock_agentcore.yaml with the runtime commands.
package identitycmd

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

// Options are the process inputs of the commands; the zero value uses the
// real process (environment, working directory, stdin).
type Options struct {
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Dir is where project files are read and written (default the
	// working directory).
	Dir string
	// Stdin answers confirmation prompts (default os.Stdin).
	Stdin io.Reader
	// IsTerminal reports whether a stream is interactive (default a tty
	// check); it decides styled output and whether cleanup may prompt.
	IsTerminal func(any) bool
}

// env is what every subcommand shares: options and the global flags.
type env struct {
	opts  Options
	flags connect.Flags
}

// New builds the `identity` command group.
func New(opts Options) *cobra.Command {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.IsTerminal == nil {
		opts.IsTerminal = output.IsTerminal
	}
	e := &env{opts: opts}
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Manage workload identities, credential providers, Cognito test pools and AWS IAM JWTs",
		Long: `Manage AgentCore Identity resources, as the starter toolkit's
"agentcore identity" commands do, against a self-hosted agentcore server.

The server is found through --endpoint, AGENTCORE_ENDPOINT, or the
endpoint.json that "agentcore server" writes to its data directory; the
admin credentials come from the AWS environment variables, else from
<data-dir>/credentials (profile agentcore), else from the AWS shared
credentials file. Resources are recorded in ./.bedrock_agentcore.yaml
when it exists.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&e.flags.Endpoint, "endpoint", "", "server URL (default $AGENTCORE_ENDPOINT, else <data-dir>/endpoint.json, else "+connect.DefaultEndpoint+")")
	pf.StringVar(&e.flags.DataDir, "data-dir", connect.DefaultDataDir, "data directory of a local server (endpoint.json, credentials)")
	pf.StringVarP(&e.flags.Region, "region", "r", "", "region (default $AWS_REGION, else the server's)")
	cmd.AddCommand(
		newSetupCognitoCmd(e),
		newGetCognitoInboundTokenCmd(e),
		newCreateCredentialProviderCmd(e),
		newCreateWorkloadIdentityCmd(e),
		newUpdateWorkloadIdentityCmd(e),
		newListCredentialProvidersCmd(e),
		newSetupAWSJWTCmd(e),
		newListAWSJWTCmd(e),
		newCleanupCmd(e),
	)
	return cmd
}

func (e *env) printer(cmd *cobra.Command) *output.Printer {
	p := output.New(cmd.OutOrStdout(), cmd.ErrOrStderr())
	p.Styled = e.opts.IsTerminal(cmd.OutOrStdout())
	return p
}

// path resolves a project-relative path.
func (e *env) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(e.opts.Dir, name)
}

// target resolves the server and checks that it answers.
func (e *env) target(ctx context.Context) (*connect.Target, error) {
	f := e.flags
	f.DataDir = e.path(f.DataDir)
	return connect.Dial(ctx, f, e.opts.Getenv)
}

// project loads ./.bedrock_agentcore.yaml; ok is false when there is none.
func (e *env) project() (*yamlconfig.File, bool, error) {
	return yamlconfig.LoadDir(e.opts.Dir)
}

// updateAgent applies fn to the agent's YAML entry and saves the file. It
// reports false, without error, when there is no project file.
func (e *env) updateAgent(agent string, fn func(*yamlconfig.Agent) error) (string, bool, error) {
	f, ok, err := e.project()
	if err != nil || !ok {
		return "", false, err
	}
	name, err := f.ResolveAgent(agent)
	if errors.Is(err, yamlconfig.ErrNoAgent) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if err := f.UpdateAgent(name, fn); err != nil {
		return "", false, err
	}
	return name, true, f.Save()
}

// splitList splits comma-separated values, dropping blanks.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
