package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

type execKey struct {
	AccessKeyID      string   `json:"accessKeyId"`
	SecretAccessKey  string   `json:"secretAccessKey"`
	PrincipalARN     string   `json:"principalArn"`
	AllowedAudiences []string `json:"allowedAudiences"`
}

// issueExecKey calls our IssueAgentRuntimeExecutionCredentials extension
// signed with creds; on an error it returns the status and error type.
func issueExecKey(t *testing.T, env *servertest.Env, creds aws.Credentials, runtimeID string) (execKey, int, string) {
	t.Helper()
	req := signedRequestAs(t, env, creds, "bedrock-agentcore", http.MethodPost,
		"/runtimes/"+runtimeID+"/execution-credentials", "application/json", []byte("{}"), time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var k execKey
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &k); err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
	}
	return k, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype")
}

// TestRuntimeExecutionKey: a runtime's agent signs with an execution key of
// its own, not the admin key: it acts as the runtime's role, may mint AWS
// JWTs only for the audiences the runtime was granted (following updates),
// may not issue keys itself, and stops working when it is replaced or the
// runtime is deleted.
func TestRuntimeExecutionKey(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		if _, err := env.IAM().EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{}); err != nil {
			t.Fatal(err)
		}
		const granted, other = "https://api.example.com", "https://other.example.com"
		runtimeBody := func(aud string) []byte {
			return []byte(fmt.Sprintf(`{"agentRuntimeName":"jwt_agent","agentRuntimeArtifact":{"localConfiguration":{"port":1}},`+
				`"roleArn":"arn:aws:iam::123456789012:role/JwtAgentRole","identityGrants":{"awsJwtAudiences":[%q]}}`, aud))
		}
		if status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/", "application/json", runtimeBody(granted), time.Now())); status != 202 {
			t.Fatalf("create runtime: %d %+v", status, we)
		}
		rt, err := env.Control().GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String("jwt_agent")})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(rt.AgentRuntimeId)
		admin := aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}

		k, status, code := issueExecKey(t, env, admin, id)
		wantARN := "arn:aws:iam::" + env.AccountID + ":role/JwtAgentRole"
		if status != http.StatusOK || k.PrincipalARN != wantARN || len(k.AllowedAudiences) != 1 || k.AllowedAudiences[0] != granted {
			t.Fatalf("issue: %d %s %+v; want %s with [%s]", status, code, k, wantARN, granted)
		}
		keyCreds := aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}
		agent := env.STS(func(o *sts.Options) { o.Credentials = servertest.StaticCredentials(k.AccessKeyID, k.SecretAccessKey) })
		mintAs := func(c *sts.Client, aud string) error {
			_, err := mint(ctx, c, "ES384", 300, aud)
			return err
		}
		errCode := func(err error) string {
			var ae smithy.APIError
			if errors.As(err, &ae) {
				return ae.ErrorCode()
			}
			return fmt.Sprint(err)
		}

		steps := []struct {
			name string
			act  func() error
			want string // "" = success, else the error code
		}{
			{"ok/granted audience", func() error { return mintAs(agent, granted) }, ""},
			{"fail/other audience", func() error { return mintAs(agent, other) }, "AccessDenied"},
			{"fail/the agent issues itself a key", func() error {
				if _, status, code := issueExecKey(t, env, keyCreds, id); status != http.StatusForbidden {
					return fmt.Errorf("status %d %s", status, code)
				}
				return errors.New("AccessDeniedException")
			}, "AccessDeniedException"},
			{"ok/grants follow an update", func() error {
				if status, _, we := do(t, signedRequest(t, env, http.MethodPut, "/runtimes/"+id+"/", "application/json", runtimeBody(other), time.Now())); status != 202 {
					t.Fatalf("update runtime: %d %+v", status, we)
				}
				return mintAs(agent, other)
			}, ""},
			{"fail/the old grant is gone", func() error { return mintAs(agent, granted) }, "AccessDenied"},
		}
		for _, s := range steps {
			err := s.act()
			if got := errCode(err); (s.want == "" && err != nil) || (s.want != "" && got != s.want) {
				t.Fatalf("%s: got %v, want %q", s.name, err, s.want)
			}
		}

		// Issuing again replaces the key; deleting the runtime removes the
		// new one. Both then fail authentication.
		k2, status, _ := issueExecKey(t, env, admin, id)
		if status != http.StatusOK || k2.AccessKeyID == k.AccessKeyID {
			t.Fatalf("reissue: %d %+v", status, k2)
		}
		if err := mintAs(agent, other); errCode(err) != "InvalidClientTokenId" {
			t.Fatalf("replaced key: got %v, want InvalidClientTokenId", err)
		}
		if _, err := env.Control().DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		agent2 := env.STS(func(o *sts.Options) {
			o.Credentials = servertest.StaticCredentials(k2.AccessKeyID, k2.SecretAccessKey)
		})
		if err := mintAs(agent2, other); errCode(err) != "InvalidClientTokenId" {
			t.Fatalf("key of a deleted runtime: got %v, want InvalidClientTokenId", err)
		}
	})
}
