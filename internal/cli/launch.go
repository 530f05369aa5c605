package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/internal/runtime"
)

// newLaunchCmd builds and starts the agent on this machine, in its own
// process group so it outlives this command (its pid is kept in the data
// directory for destroy), and registers it as an agent runtime.
func newLaunchCmd() *cobra.Command {
	var t runtimeTarget
	var agent string
	cmd := &cobra.Command{
		Use:     "launch",
		Aliases: []string{"deploy"},
		Short:   "Start the configured agent locally and register its agent runtime",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			f, name, a, err := loadAgent(agent)
			if err != nil {
				return err
			}
			client, err := t.client(ctx)
			if err != nil {
				return err
			}
			stopPrevious(ctx, client.Control(), t.dataDir, name, a)
			command, err := agentCommand(ctx, &t, name, a)
			if err != nil {
				return err
			}
			port, err := runtime.FreePort()
			if err != nil {
				return err
			}
			members := map[string]any{"agentRuntimeArtifact": map[string]any{"localConfiguration": map[string]any{"port": port}}}
			if g := grants(a); g != nil {
				members["identityGrants"] = g
			}
			if a.AuthorizerConfiguration != nil {
				members["authorizerConfiguration"] = a.AuthorizerConfiguration
			}
			if a.RequestHeaderConfiguration != nil {
				members["requestHeaderConfiguration"] = a.RequestHeaderConfiguration
			}
			out, err := client.Control().CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
				AgentRuntimeName:     aws.String(name),
				AgentRuntimeArtifact: &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String("local")}},
				RoleArn:              aws.String("arn:aws:iam::000000000000:role/local"),
			}, withMembers(members))
			if err != nil {
				return fmt.Errorf("register agent runtime: %w", err)
			}
			// The agent signs its own calls with the runtime's execution
			// key (not the admin key): its STS audiences are the grants.
			key, err := t.executionCredentials(ctx, aws.ToString(out.AgentRuntimeId))
			var pid int
			if err == nil {
				pid, err = startAgent(ctx, &t, name, command, port, key)
			}
			if err != nil {
				_, _ = client.Control().DeleteAgentRuntime(context.WithoutCancel(ctx),
					&cp.DeleteAgentRuntimeInput{AgentRuntimeId: out.AgentRuntimeId})
				return err
			}
			if err := f.UpdateAgent(name, func(a *yamlconfig.Agent) error {
				if a.BedrockAgentCore == nil {
					a.BedrockAgentCore = &yamlconfig.BedrockAgentCore{}
				}
				a.BedrockAgentCore.AgentID, a.BedrockAgentCore.AgentARN = out.AgentRuntimeId, out.AgentRuntimeArn
				a.BedrockAgentCore.AgentSessionID = nil // as the toolkit: deploy resets the session
				return nil
			}); err != nil {
				return err
			}
			if err := f.Save(); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Agent %s is running (pid %d, http://127.0.0.1:%d)\n", name, pid, port)
			fmt.Fprintf(w, "Agent runtime ARN: %s\n", aws.ToString(out.AgentRuntimeArn))
			fmt.Fprintf(w, "Execution role: %s (access key %s)\n", key.PrincipalARN, key.AccessKeyID)
			if out.WorkloadIdentityDetails != nil {
				fmt.Fprintf(w, "Workload identity: %s\n", aws.ToString(out.WorkloadIdentityDetails.WorkloadIdentityArn))
			}
			if g := grants(a); g != nil {
				fmt.Fprintf(w, "Identity grants: providers %v, AWS JWT audiences %v\n",
					g["credentialProviders"], g["awsJwtAudiences"])
			}
			return nil
		},
	}
	t.flags(cmd)
	cmd.Flags().StringVarP(&agent, "agent", "a", "", "agent name (default: default_agent)")
	return cmd
}

// agentCommand is the command that starts the agent: a Go entrypoint
// directory is built first.
func agentCommand(ctx context.Context, t *runtimeTarget, name string, a *yamlconfig.Agent) ([]string, error) {
	dir := agentDir(t.dataDir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	command := strings.Fields(a.Entrypoint)
	if fi, err := os.Stat(a.Entrypoint); err == nil && fi.IsDir() {
		bin, _ := filepath.Abs(filepath.Join(dir, "agent"))
		if err := runtime.BuildGo(ctx, a.Entrypoint, bin); err != nil {
			return nil, err
		}
		command = []string{bin}
	}
	if len(command) == 0 {
		return nil, errors.New("the agent has no entrypoint: run `agentcore configure -e …`")
	}
	return command, nil
}

// startAgent starts the agent detached on port with the runtime's
// execution key as its AWS credentials, and waits for GET /ping.
func startAgent(ctx context.Context, t *runtimeTarget, name string, command []string, port int, key executionKey) (pid int, err error) {
	dir := agentDir(t.dataDir, name)
	logf, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	env := map[string]string{"AGENTCORE_ENDPOINT": t.endpoint, "AWS_REGION": t.region,
		"AWS_ACCESS_KEY_ID": key.AccessKeyID, "AWS_SECRET_ACCESS_KEY": key.SecretAccessKey,
		// Whatever the launching shell held must not mix with the key.
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_SHARED_CREDENTIALS_FILE": ""}
	p, err := runtime.Launch(runtime.LaunchSpec{Command: command, Env: env, Port: port, Output: logf})
	if err != nil {
		return 0, err
	}
	pid = p.Cmd.Process.Pid
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := runtime.WaitReady(wctx, port, p); err != nil {
		p.Stop(5 * time.Second)
		return 0, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return 0, err
	}
	return pid, nil
}

// stopPrevious ends an earlier launch of the agent: its process and its
// runtime registration.
func stopPrevious(ctx context.Context, c *cp.Client, dataDir, name string, a *yamlconfig.Agent) {
	if pid := readPID(dataDir, name); runtime.Alive(pid) {
		_ = runtime.StopGroup(pid, 5*time.Second, nil)
	}
	if id := str(a.BedrockAgentCore.AgentID); id != "" {
		_, _ = c.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
	}
}

// grants are the providers and AWS JWT audiences the YAML gives the agent.
func grants(a *yamlconfig.Agent) map[string]any {
	var providers, audiences []string
	if a.Identity != nil {
		for _, p := range a.Identity.CredentialProviders {
			providers = append(providers, p.Name)
		}
	}
	if a.AWSJWT != nil && a.AWSJWT.Enabled {
		audiences = a.AWSJWT.Audiences
	}
	if providers == nil && audiences == nil {
		return nil
	}
	return map[string]any{"credentialProviders": providers, "awsJwtAudiences": audiences}
}
