// Package cli holds the cobra commands of the agentcore binary, one file per
// verb-noun. Commands other than `server` talk to a server only through the
// public SDK.
package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd"
)

// Execute runs the CLI with args and returns the process exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

// NewRoot builds the command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "agentcore",
		Short:         "Self-hosted AgentCore Identity: identities and credentials for AI agents",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newAuditCmd(), identitycmd.New(identitycmd.Options{}))
	root.AddCommand(newConfigureCmd(), newLaunchCmd(), newInvokeCmd(), newDestroyCmd())
	return root
}
