package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/internal/runtime"
)

// newDestroyCmd stops a launched agent, deletes its agent runtime (and so
// its workload identity) and clears the deployment from the YAML.
func newDestroyCmd() *cobra.Command {
	var t runtimeTarget
	var agent string
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Stop the local agent and delete its agent runtime",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, name, a, err := loadAgent(agent)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if pid := readPID(t.dataDir, name); runtime.Alive(pid) {
				if err := runtime.StopGroup(pid, 5*time.Second, nil); err != nil {
					return err
				}
				fmt.Fprintf(w, "Stopped agent process %d\n", pid)
			}
			_ = os.RemoveAll(agentDir(t.dataDir, name))
			if id := str(a.BedrockAgentCore.AgentID); id != "" {
				client, err := t.client(cmd.Context())
				if err != nil {
					return err
				}
				_, err = client.Control().DeleteAgentRuntime(cmd.Context(), &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
				if err != nil && !isNotFound(err) {
					return fmt.Errorf("delete agent runtime %s: %w", id, err)
				}
				fmt.Fprintf(w, "Deleted agent runtime %s\n", id)
			}
			if err := f.UpdateAgent(name, func(a *yamlconfig.Agent) error {
				a.BedrockAgentCore = &yamlconfig.BedrockAgentCore{}
				return nil
			}); err != nil {
				return err
			}
			return f.Save()
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVarP(&agent, "agent", "a", "", "agent name (default: default_agent)")
	cmd.Flags().Bool("force", false, "accepted for toolkit parity")
	return cmd
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException"
}
