package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// runtimeTarget is where the runtime verbs find the server: --endpoint or
// AGENTCORE_ENDPOINT, else the endpoint file of the data directory, whose
// credentials file signs requests unless AWS credentials are in the
// environment. (To be merged with the identity commands' client.go.)
type runtimeTarget struct {
	endpoint string
	dataDir  string
	region   string
}

func (t *runtimeTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.endpoint, "endpoint", os.Getenv("AGENTCORE_ENDPOINT"), "server URL (default: from <data-dir>/endpoint.json)")
	dd := os.Getenv("AGENTCORE_DATA_DIR")
	if dd == "" {
		dd = ".agentcore"
	}
	cmd.Flags().StringVar(&t.dataDir, "data-dir", dd, "the server's data directory")
}

func (t *runtimeTarget) credentialsFile() string { return filepath.Join(t.dataDir, "credentials") }

// resolve fills endpoint and region.
func (t *runtimeTarget) resolve() error {
	if t.endpoint != "" && t.region != "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(t.dataDir, server.EndpointFile))
	if err != nil {
		if t.endpoint != "" {
			return nil
		}
		return fmt.Errorf("no server found: start `agentcore server` or set --endpoint/AGENTCORE_ENDPOINT (%w)", err)
	}
	var ep server.Endpoint
	if err := json.Unmarshal(b, &ep); err != nil {
		return fmt.Errorf("%s: %w", server.EndpointFile, err)
	}
	if t.endpoint == "" {
		t.endpoint = ep.URL
	}
	t.region = ep.Region
	return nil
}

func (t *runtimeTarget) client() (*identity.Client, error) {
	if err := t.resolve(); err != nil {
		return nil, err
	}
	opts := identity.Options{Endpoint: t.endpoint, Region: t.region, LocalDev: &identity.LocalDev{Disabled: true}}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		if creds, err := readCredentials(t.credentialsFile(), "agentcore"); err == nil {
			opts.Credentials = creds
		}
	}
	return identity.New(opts)
}

// readCredentials reads one profile of an AWS shared-credentials file.
func readCredentials(path, profile string) (aws.CredentialsProvider, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c aws.Credentials
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = line == "["+profile+"]"
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" {
		return nil, errors.New("profile " + profile + " not found in " + path)
	}
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil }), nil
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

// credentials are the caller's: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
// else the data directory's admin profile.
func (t *runtimeTarget) credentials(ctx context.Context) (aws.Credentials, error) {
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken: os.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	p, err := readCredentials(t.credentialsFile(), "agentcore")
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("no credentials: set AWS_ACCESS_KEY_ID or run next to the server's data directory (%w)", err)
	}
	return p.Retrieve(ctx)
}

// executionCredentials issues the runtime's execution key. The operation
// is our extension, which the AWS SDK has no method for, so the request is
// signed here with the SDK's SigV4 signer.
func (t *runtimeTarget) executionCredentials(ctx context.Context, runtimeID string) (executionKey, error) {
	if err := t.resolve(); err != nil {
		return executionKey{}, err
	}
	creds, err := t.credentials(ctx)
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
	resp, err := http.DefaultClient.Do(req)
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
