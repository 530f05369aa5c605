package identity

import (
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/agentcore-identity/agentcore/sdk/internal/awsenv"
)

// Options configure a Client. The zero value works: everything falls back
// to the environment (see New).
type Options struct {
	// Endpoint is the base URL of a self-hosted server serving both planes
	// and STS, e.g. "http://127.0.0.1:8000". Empty means the environment,
	// else the AWS endpoints of Region.
	Endpoint string
	// DataPlaneEndpoint, ControlPlaneEndpoint and STSEndpoint override
	// Endpoint for one service.
	DataPlaneEndpoint    string
	ControlPlaneEndpoint string
	STSEndpoint          string
	// Region signs requests (default AWS_REGION, AWS_DEFAULT_REGION, then
	// us-east-1).
	Region string
	// Credentials sign requests. Default: AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the profile
	// AWS_PROFILE of the file AWS_SHARED_CREDENTIALS_FILE (default
	// ~/.aws/credentials).
	Credentials aws.CredentialsProvider
	// HTTPClient sends requests (default: the AWS SDK's).
	HTTPClient aws.HTTPClient
	// RetryMaxAttempts bounds attempts per call (0: the AWS SDK default of 3).
	RetryMaxAttempts int
	// LocalDev configures how a workload access token is obtained when the
	// context carries none (outside an agent runtime). Nil means the Python
	// SDK's behaviour: ./.agentcore.json, unless DOCKER_CONTAINER is set. See
	// LocalDev.
	LocalDev *LocalDev
}

// Client is a typed client for AgentCore Identity: workload identities,
// credential providers and the token operations agents use. It is safe for
// concurrent use.
type Client struct {
	data    *bedrockagentcore.Client
	control *bedrockagentcorecontrol.Client
	sts     *sts.Client
	region  string
	local   *localDev // nil: no local-development fallback
}

// Environment variables that name endpoints, most specific first. The
// BEDROCK_AGENTCORE_* names are the Python SDK's, AWS_ENDPOINT_URL_* are the
// AWS SDKs' standard service-specific overrides, and AGENTCORE_ENDPOINT is
// this project's single-server shortcut.
var (
	dataPlaneEnv    = []string{"BEDROCK_AGENTCORE_DP_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", "AGENTCORE_ENDPOINT", "AWS_ENDPOINT_URL"}
	controlPlaneEnv = []string{"BEDROCK_AGENTCORE_CP_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL", "AGENTCORE_ENDPOINT", "AWS_ENDPOINT_URL"}
	stsEnv          = []string{"AWS_ENDPOINT_URL_STS", "AGENTCORE_ENDPOINT", "AWS_ENDPOINT_URL"}
)

// New builds a client. Each endpoint is, in order: the service-specific
// option, Options.Endpoint, the environment (data plane:
// BEDROCK_AGENTCORE_DP_ENDPOINT, AWS_ENDPOINT_URL_BEDROCK_AGENTCORE; control
// plane: BEDROCK_AGENTCORE_CP_ENDPOINT,
// AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL; STS: AWS_ENDPOINT_URL_STS;
// then AGENTCORE_ENDPOINT and AWS_ENDPOINT_URL for all three), and finally
// the AWS endpoint of the region.
func New(opts Options) (*Client, error) {
	return newClient(opts, os.Getenv)
}

func newClient(opts Options, getenv awsenv.Getenv) (*Client, error) {
	region := opts.Region
	if region == "" {
		region = awsenv.Region(getenv)
	}
	creds := opts.Credentials
	if creds == nil {
		creds = awsenv.Credentials(getenv)
	}
	pick := func(specific string, env []string) (*string, error) {
		u := specific
		if u == "" {
			u = opts.Endpoint
		}
		if u == "" {
			u = awsenv.First(getenv, env...)
		}
		if u == "" {
			return nil, nil
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("identity: endpoint %q is not an absolute http(s) URL", u)
		}
		return aws.String(u), nil
	}
	dp, err := pick(opts.DataPlaneEndpoint, dataPlaneEnv)
	if err != nil {
		return nil, err
	}
	cp, err := pick(opts.ControlPlaneEndpoint, controlPlaneEnv)
	if err != nil {
		return nil, err
	}
	st, err := pick(opts.STSEndpoint, stsEnv)
	if err != nil {
		return nil, err
	}

	c := &Client{
		region: region,
		data: bedrockagentcore.New(bedrockagentcore.Options{
			BaseEndpoint: dp, Region: region, Credentials: creds, HTTPClient: opts.HTTPClient, RetryMaxAttempts: opts.RetryMaxAttempts,
		}),
		control: bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
			BaseEndpoint: cp, Region: region, Credentials: creds, HTTPClient: opts.HTTPClient, RetryMaxAttempts: opts.RetryMaxAttempts,
		}),
		sts: sts.New(sts.Options{
			BaseEndpoint: st, Region: region, Credentials: creds, HTTPClient: opts.HTTPClient, RetryMaxAttempts: opts.RetryMaxAttempts,
		}),
	}
	c.local, err = newLocalDev(c, opts.LocalDev, getenv)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Region is the region requests are signed for.
func (c *Client) Region() string { return c.region }

// Data returns the underlying AWS SDK data-plane client, for operations this
// package does not wrap.
func (c *Client) Data() *bedrockagentcore.Client { return c.data }

// Control returns the underlying AWS SDK control-plane client.
func (c *Client) Control() *bedrockagentcorecontrol.Client { return c.control }

// STS returns an STS client with the same region, credentials and endpoint
// resolution; pass it to RequiresIAMAccessToken.
func (c *Client) STS() *sts.Client { return c.sts }
