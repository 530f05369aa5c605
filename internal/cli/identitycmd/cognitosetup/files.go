// Package cognitosetup does the Cognito user-pool work of the identity
// commands against the server's built-in IdP, through the real AWS SDK
// client: creating the test pools of setup-cognito and the files that
// describe them, signing in for tokens, registering callback URLs and
// deleting pools.
package cognitosetup

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/agentcore-identity/agentcore/internal/cli/connect"
)

// Flows of setup-cognito: user consent (authorization code) or
// machine-to-machine (client credentials).
const (
	FlowUser = "user"
	FlowM2M  = "m2m"
)

// Pool is one pool in .agentcore_identity_cognito_<flow>.json, with
// the toolkit's key names.
type Pool struct {
	PoolID                   string   `json:"pool_id"`
	ClientID                 string   `json:"client_id"`
	ClientSecret             string   `json:"client_secret,omitempty"`
	DiscoveryURL             string   `json:"discovery_url,omitempty"`
	DomainPrefix             string   `json:"domain_prefix,omitempty"`
	Username                 string   `json:"username,omitempty"`
	Password                 string   `json:"password,omitempty"`
	TokenEndpoint            string   `json:"token_endpoint,omitempty"`
	ResourceServerIdentifier string   `json:"resource_server_identifier,omitempty"`
	Scopes                   []string `json:"scopes,omitempty"`
	FlowType                 string   `json:"flow_type,omitempty"`
}

// File is the content of .agentcore_identity_cognito_<flow>.json.
type File struct {
	Runtime  Pool   `json:"runtime"`
	Identity Pool   `json:"identity"`
	FlowType string `json:"flow_type"`
}

// JSONName is the JSON file setup-cognito writes for a flow.
func JSONName(flow string) string { return ".agentcore_identity_cognito_" + flow + ".json" }

// EnvName is the env file setup-cognito writes for a flow.
func EnvName(flow string) string { return ".agentcore_identity_" + flow + ".env" }

// EnvLines are the variables of .agentcore_identity_<flow>.env, in the
// toolkit's order and spelling.
func (c File) EnvLines() [][2]string {
	r, i := c.Runtime, c.Identity
	lines := [][2]string{
		{"RUNTIME_POOL_ID", r.PoolID}, {"RUNTIME_CLIENT_ID", r.ClientID}, {"RUNTIME_DISCOVERY_URL", r.DiscoveryURL},
		{"RUNTIME_USERNAME", r.Username}, {"RUNTIME_PASSWORD", r.Password},
		{"IDENTITY_POOL_ID", i.PoolID}, {"IDENTITY_CLIENT_ID", i.ClientID}, {"IDENTITY_CLIENT_SECRET", i.ClientSecret},
	}
	if c.FlowType == FlowM2M {
		return append(lines, [2]string{"IDENTITY_TOKEN_ENDPOINT", i.TokenEndpoint}, [2]string{"IDENTITY_RESOURCE_SERVER", i.ResourceServerIdentifier})
	}
	return append(lines, [2]string{"IDENTITY_DISCOVERY_URL", i.DiscoveryURL},
		[2]string{"IDENTITY_USERNAME", i.Username}, [2]string{"IDENTITY_PASSWORD", i.Password})
}

// Write saves both files in dir with mode 0600: they hold passwords and a client
// secret (the toolkit leaves the JSON file world-readable).
func (c File) Write(dir string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := writePrivate(filepath.Join(dir, JSONName(c.FlowType)), append(b, '\n')); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "# AgentCore Identity - Cognito credentials (%s flow), written by `agentcore identity setup-cognito`.\n", c.FlowType)
	fmt.Fprintf(&sb, "# Keep it secret. Load with: export $(grep -v '^#' %s | xargs)\n", EnvName(c.FlowType))
	for _, kv := range c.EnvLines() {
		fmt.Fprintf(&sb, "%s=%s\n", kv[0], kv[1])
	}
	return writePrivate(filepath.Join(dir, EnvName(c.FlowType)), []byte(sb.String()))
}

// ReadEnvFile reads an env file written by Write: its variable names in
// order, and their values.
func ReadEnvFile(path string) ([]string, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	vals := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%s: line %q is not NAME=value", path, line)
		}
		names = append(names, k)
		vals[k] = v
	}
	return names, vals, nil
}

func writePrivate(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	// WriteFile keeps the mode of an existing file; force 0600.
	return os.Chmod(path, 0o600)
}

// ReadFile reads a JSON file written by Write.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c File
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &c, nil
}

// newPassword returns a 16-character password with an upper, lower, digit
// and special character, which any Cognito password policy accepts. The
// specials avoid characters a shell or xargs would interpret when the env
// file is loaded with export $(… | xargs).
func newPassword() (string, error) {
	classes := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#%^_+-="}
	all := strings.Join(classes, "")
	out := make([]byte, 16)
	for i := range out {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", err
		}
		out[i] = set[n.Int64()]
	}
	// Shuffle so the classes are not at fixed positions.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

// secretHash is Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, msg)).
func secretHash(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// TokenEndpoint reads a pool's token endpoint from its discovery document,
// falling back to the conventional path when the document has none.
func TokenEndpoint(ctx context.Context, t *connect.Target, poolID string) string {
	fallback := t.Endpoint + "/idp/" + poolID + "/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.PoolDiscoveryURL(poolID), nil)
	if err != nil {
		return fallback
	}
	resp, err := t.HTTPClient.Do(req)
	if err != nil {
		return fallback
	}
	defer resp.Body.Close()
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&doc) != nil || doc.TokenEndpoint == "" {
		return fallback
	}
	return doc.TokenEndpoint
}

// DeletePool removes a pool's domain, then the pool. A pool already gone
// counts as deleted.
func DeletePool(ctx context.Context, c *cip.Client, poolID, domain string) error {
	var nf *ciptypes.ResourceNotFoundException
	if domain != "" {
		_, err := c.DeleteUserPoolDomain(ctx, &cip.DeleteUserPoolDomainInput{Domain: aws.String(domain), UserPoolId: aws.String(poolID)})
		if err != nil && !errors.As(err, &nf) {
			return fmt.Errorf("delete domain %s: %w", domain, err)
		}
	}
	_, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(poolID)})
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete user pool %s: %w", poolID, err)
	}
	return nil
}
