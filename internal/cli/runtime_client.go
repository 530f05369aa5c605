package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
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
