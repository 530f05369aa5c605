package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// runtimeTarget is where the runtime verbs find the server, as the identity
// commands do (connect.Dial): --endpoint or AGENTCORE_ENDPOINT, else the
// data directory's endpoint file, whose credentials file signs requests
// unless AWS credentials are in the environment. The data directory also
// holds the launched agents' build output, logs and pid files.
type runtimeTarget struct {
	endpoint string
	dataDir  string
	region   string // set by dial
	target   *connect.Target
}

func (t *runtimeTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.endpoint, "endpoint", "", "server URL (default: AGENTCORE_ENDPOINT, else from <data-dir>/endpoint.json)")
	dd := os.Getenv("AGENTCORE_DATA_DIR")
	if dd == "" {
		dd = connect.DefaultDataDir
	}
	cmd.Flags().StringVar(&t.dataDir, "data-dir", dd, "the server's data directory")
}

// dial finds the server (once) and checks that it answers.
func (t *runtimeTarget) dial(ctx context.Context) (*connect.Target, error) {
	if t.target == nil {
		tg, err := connect.Dial(ctx, connect.Flags{Endpoint: t.endpoint, DataDir: t.dataDir}, os.Getenv)
		if err != nil {
			return nil, err
		}
		t.target, t.endpoint, t.region = tg, tg.Endpoint, tg.Region
	}
	return t.target, nil
}

func (t *runtimeTarget) client(ctx context.Context) (*identity.Client, error) {
	tg, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	return tg.Identity()
}

// withMembers sets JSON body members the AWS SDK cannot express (our
// localConfiguration artifact and identityGrants) before the request is
// signed.
func withMembers(members map[string]any) func(*cp.Options) {
	mw := middleware.BuildMiddlewareFunc("AgentcoreExtensionMembers", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
		req, ok := in.Request.(*smithyhttp.Request)
		if !ok || req.GetStream() == nil {
			return next.HandleBuild(ctx, in)
		}
		body, err := io.ReadAll(req.GetStream())
		if err != nil {
			return middleware.BuildOutput{}, middleware.Metadata{}, err
		}
		doc := map[string]any{}
		if err := json.Unmarshal(body, &doc); err != nil {
			return middleware.BuildOutput{}, middleware.Metadata{}, err
		}
		for k, v := range members {
			doc[k] = v
		}
		if body, err = json.Marshal(doc); err != nil {
			return middleware.BuildOutput{}, middleware.Metadata{}, err
		}
		if req, err = req.SetStream(bytes.NewReader(body)); err != nil {
			return middleware.BuildOutput{}, middleware.Metadata{}, err
		}
		req.ContentLength = int64(len(body))
		in.Request = req
		return next.HandleBuild(ctx, in)
	})
	return func(o *cp.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error { return st.Build.Add(mw, middleware.Before) })
	}
}

// executionKey is the answer of our IssueAgentRuntimeExecutionCredentials
// extension operation.
type executionKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	PrincipalARN    string `json:"principalArn"`
}

// executionCredentials issues the runtime's execution key. The operation
// is our extension, which the AWS SDK has no method for, so the request is
// signed here with the SDK's SigV4 signer.
func (t *runtimeTarget) executionCredentials(ctx context.Context, runtimeID string) (executionKey, error) {
	tg, err := t.dial(ctx)
	if err != nil {
		return executionKey{}, err
	}
	creds, err := tg.Credentials.Retrieve(ctx)
	if err != nil {
		return executionKey{}, err
	}
	body := []byte("{}")
	u := strings.TrimSuffix(t.endpoint, "/") + "/runtimes/" + url.PathEscape(runtimeID) + "/execution-credentials"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return executionKey{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", t.region, time.Now()); err != nil {
		return executionKey{}, fmt.Errorf("sign: %w", err)
	}
	resp, err := tg.HTTPClient.Do(req)
	if err != nil {
		return executionKey{}, fmt.Errorf("issue execution credentials: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return executionKey{}, fmt.Errorf("issue execution credentials: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return executionKey{}, fmt.Errorf("issue execution credentials: %s %s: %s", resp.Status, resp.Header.Get("X-Amzn-Errortype"), e.Message)
	}
	var k executionKey
	if err := json.Unmarshal(b, &k); err != nil || k.AccessKeyID == "" {
		return executionKey{}, fmt.Errorf("issue execution credentials: unexpected answer (%v)", err)
	}
	return k, nil
}
