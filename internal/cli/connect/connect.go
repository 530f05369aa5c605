// Package connect finds the agentcore server a CLI command talks to and
// builds the SDK clients for it: the public identity SDK, and the real AWS
// SDK clients (Cognito user pools, IAM) pointed at the same endpoint.
package connect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/agentcore-identity/agentcore/sdk/identity"
)

// Defaults of a local installation (see `agentcore server`).
const (
	DefaultDataDir  = ".agentcore"
	DefaultEndpoint = "http://127.0.0.1:8400"
	DefaultRegion   = "us-east-1"
	// Profile is the profile `agentcore server` writes to
	// <data-dir>/credentials.
	Profile      = "agentcore"
	endpointFile = "endpoint.json"
	credsFile    = "credentials"
)

// ErrServerUnreachable is matched by the error Dial returns when nothing
// answers at the endpoint.
var ErrServerUnreachable = errors.New("agentcore server unreachable")

// UnreachableError says which endpoint did not answer and what to do.
type UnreachableError struct {
	Endpoint string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("no agentcore server at %s — start one with `agentcore server` (or set --endpoint / AGENTCORE_ENDPOINT)\n  cause: %v", e.Endpoint, e.Err)
}

// Is matches ErrServerUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrServerUnreachable }

// Unwrap returns the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Flags are the command-line inputs of server discovery.
type Flags struct {
	Endpoint string
	Region   string
	DataDir  string // default DefaultDataDir
}

// Target is a resolved server.
type Target struct {
	Endpoint    string
	Region      string
	AccountID   string // from endpoint.json; empty otherwise
	Credentials aws.CredentialsProvider
	// CredentialsSource says where the keys came from, for error messages.
	CredentialsSource string
	HTTPClient        *http.Client
}

// endpointDoc is the part of <data-dir>/endpoint.json the CLI reads.
type endpointDoc struct {
	URL       string `json:"url"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
}

// Dial finds the server, checks that it answers, and loads the
// credentials: the endpoint is --endpoint, AGENTCORE_ENDPOINT,
// <data-dir>/endpoint.json, then DefaultEndpoint; the region is --region,
// AWS_REGION, endpoint.json, then DefaultRegion; credentials are the AWS
// environment variables, <data-dir>/credentials (profile agentcore), then
// AWS_SHARED_CREDENTIALS_FILE / AWS_PROFILE. getenv is os.Getenv outside
// tests. The server is checked first so that a stopped server is reported
// as such, not as missing credentials.
func Dial(ctx context.Context, f Flags, getenv func(string) string) (*Target, error) {
	t, dataDir, err := resolve(f, getenv)
	if err != nil {
		return nil, err
	}
	if err := t.Ping(ctx); err != nil {
		return nil, err
	}
	creds, src, err := resolveCredentials(dataDir, getenv)
	if err != nil {
		return nil, err
	}
	t.Credentials, t.CredentialsSource = creds, src
	return t, nil
}

func resolve(f Flags, getenv func(string) string) (*Target, string, error) {
	dataDir := f.DataDir
	if dataDir == "" {
		dataDir = DefaultDataDir
	}
	var doc endpointDoc
	if b, err := os.ReadFile(filepath.Join(dataDir, endpointFile)); err == nil {
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, "", fmt.Errorf("read %s: %w", filepath.Join(dataDir, endpointFile), err)
		}
	}
	t := &Target{
		Endpoint:   strings.TrimRight(first(f.Endpoint, getenv("AGENTCORE_ENDPOINT"), doc.URL, DefaultEndpoint), "/"),
		Region:     first(f.Region, getenv("AWS_REGION"), doc.Region, DefaultRegion),
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
	}
	if doc.URL != "" && strings.TrimRight(doc.URL, "/") == t.Endpoint {
		t.AccountID = doc.AccountID
	}
	return t, dataDir, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func resolveCredentials(dataDir string, getenv func(string) string) (aws.CredentialsProvider, string, error) {
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return static(aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN")}), "environment", nil
	}
	local := filepath.Join(dataDir, credsFile)
	c, err := ReadProfile(local, Profile)
	if err == nil {
		return static(c), local, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	shared := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if shared == "" {
		if home, err := os.UserHomeDir(); err == nil {
			shared = filepath.Join(home, ".aws", "credentials")
		}
	}
	profile := first(getenv("AWS_PROFILE"), "default")
	c, err = ReadProfile(shared, profile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use the data directory of a server (%s is missing)", local)
		}
		return nil, "", err
	}
	return static(c), shared + " [" + profile + "]", nil
}

func static(c aws.Credentials) aws.CredentialsProvider {
	c.Source = "agentcore-cli"
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

// ReadProfile reads one profile of an AWS shared-credentials (INI) file,
// such as the one agentcore server writes into its data directory. A
// missing file or profile matches fs.ErrNotExist.
func ReadProfile(path, profile string) (aws.Credentials, error) {
	fh, err := os.Open(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer fh.Close()
	var c aws.Credentials
	in := false
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			name := strings.TrimSpace(strings.TrimPrefix(line[1:len(line)-1], "profile "))
			in = name == profile
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
		case "aws_session_token":
			c.SessionToken = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("profile %q with keys in %s: %w", profile, path, fs.ErrNotExist)
	}
	return c, nil
}

// Ping checks that a server answers at the endpoint, so that every command
// fails the same clear way when none is running.
func (t *Target) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.Endpoint+"/readyz", nil)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", t.Endpoint, err)
	}
	resp, err := t.HTTPClient.Do(req)
	if err != nil {
		return &UnreachableError{Endpoint: t.Endpoint, Err: err}
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("the agentcore server at %s is not ready (HTTP %d from /readyz); see its log", t.Endpoint, resp.StatusCode)
	}
	return nil
}

// Identity returns the public SDK client for the target.
func (t *Target) Identity() (*identity.Client, error) {
	return identity.New(identity.Options{
		Endpoint: t.Endpoint, Region: t.Region, Credentials: t.Credentials, HTTPClient: t.HTTPClient,
		// The CLI never acts inside a runtime: no ./.agentcore.json side effects.
		LocalDev: &identity.LocalDev{Disabled: true},
	})
}

// Cognito returns the real AWS SDK Cognito user-pools client (signing name
// cognito-idp) pointed at the server's built-in IdP.
func (t *Target) Cognito() *cognitoidentityprovider.Client {
	return cognitoidentityprovider.New(cognitoidentityprovider.Options{
		BaseEndpoint: aws.String(t.Endpoint), Region: t.Region, Credentials: t.Credentials,
		HTTPClient: t.HTTPClient, RetryMaxAttempts: 2,
	})
}

// IAM returns the real AWS SDK IAM client (outbound web identity
// federation) pointed at the server.
func (t *Target) IAM() *iam.Client {
	return iam.New(iam.Options{
		BaseEndpoint: aws.String(t.Endpoint), Region: t.Region, Credentials: t.Credentials,
		HTTPClient: t.HTTPClient, RetryMaxAttempts: 2,
	})
}

// PoolDiscoveryURL is the OpenID discovery document of a user pool of the
// built-in IdP.
func (t *Target) PoolDiscoveryURL(poolID string) string {
	return t.Endpoint + "/idp/" + poolID + "/.well-known/openid-configuration"
}

// OAuth2CallbackURL is the server's generic OAuth2 callback, which the
// toolkit registers on the identity pool's app client.
func (t *Target) OAuth2CallbackURL() string { return t.Endpoint + "/identities/oauth2/callback" }
