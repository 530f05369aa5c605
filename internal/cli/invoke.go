package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
	"github.com/agentcore-identity/agentcore/internal/runtime"
)

// newInvokeCmd invokes the launched agent like the starter toolkit: a
// bearer token goes as raw HTTP (the runtime derives the user from it),
// otherwise the call is SigV4-signed with an optional user id.
func newInvokeCmd() *cobra.Command {
	var t runtimeTarget
	var agent, bearer, session, user string
	cmd := &cobra.Command{
		Use:   "invoke <payload>",
		Short: "Invoke the launched agent (a non-JSON payload becomes {\"prompt\": payload})",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, name, a, err := loadAgent(agent)
			if err != nil {
				return err
			}
			arn := str(a.BedrockAgentCore.AgentARN)
			if arn == "" {
				return fmt.Errorf("agent %s is not launched: run `agentcore launch`", name)
			}
			payload := payloadOf(args[0])
			if session == "" {
				session = str(a.BedrockAgentCore.AgentSessionID)
			}
			if session == "" {
				session = uuid.NewString() // 36 characters: within 33-256
			}
			if err := f.UpdateAgent(name, func(a *yamlconfig.Agent) error {
				a.BedrockAgentCore.AgentSessionID = aws.String(session)
				return nil
			}); err != nil {
				return err
			}
			if err := f.Save(); err != nil {
				return err
			}
			if bearer == "" {
				bearer = os.Getenv("BEDROCK_AGENTCORE_BEARER_TOKEN")
			}
			if bearer != "" && a.AuthorizerConfiguration == nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Warning: the agent has no authorizer_configuration; ignoring the bearer token")
				bearer = ""
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(cmd.ErrOrStderr(), "Session: %s\n", session)
			if bearer != "" {
				return invokeBearer(cmd, &t, arn, bearer, session, payload, w)
			}
			client, err := t.client(cmd.Context())
			if err != nil {
				return err
			}
			in := &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session),
				Payload: payload, ContentType: aws.String("application/json"), Accept: aws.String("text/event-stream, application/json")}
			if user != "" {
				in.RuntimeUserId = aws.String(user)
			}
			out, err := client.Data().InvokeAgentRuntime(cmd.Context(), in)
			if err != nil {
				return err
			}
			defer out.Response.Close()
			_, err = io.Copy(w, out.Response)
			fmt.Fprintln(w)
			return err
		},
	}
	t.flags(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&agent, "agent", "a", "", "agent name (default: default_agent)")
	fl.StringVar(&bearer, "bearer-token", "", "inbound JWT (default $BEDROCK_AGENTCORE_BEARER_TOKEN)")
	fl.StringVarP(&session, "session-id", "s", "", "runtime session id, 33-256 characters (default: saved, else new)")
	fl.StringVarP(&user, "user-id", "u", "", "user id for a SigV4 invoke (the agent gets a workload access token for it)")
	return cmd
}

// payloadOf keeps a JSON payload and wraps anything else as a prompt.
func payloadOf(arg string) []byte {
	if json.Valid([]byte(arg)) {
		return []byte(arg)
	}
	b, _ := json.Marshal(map[string]string{"prompt": arg})
	return b
}

func invokeBearer(cmd *cobra.Command, t *runtimeTarget, arn, bearer, session string, payload []byte, w io.Writer) error {
	if _, err := t.dial(cmd.Context()); err != nil {
		return err
	}
	target := strings.TrimRight(t.endpoint, "/") + "/runtimes/" + url.QueryEscape(arn) + "/invocations?qualifier=DEFAULT"
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, target, strings.NewReader(string(payload)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream, application/json")
	req.Header.Set(runtime.HeaderSessionID, session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct{ Message string }
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s: %s", resp.Header.Get("X-Amzn-ErrorType"), e.Message)
	}
	_, err = io.Copy(w, resp.Body)
	fmt.Fprintln(w)
	return err
}
