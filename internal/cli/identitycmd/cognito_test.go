package identitycmd

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd/cognitosetup"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// envFile reads an env file setup-cognito wrote, checking its mode.
func envFile(t *testing.T, path string) ([]string, map[string]string) {
	t.Helper()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v (want mode 0600)", path, err)
	}
	names, vals, err := cognitosetup.ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return names, vals
}

func TestSetupCognitoUserFlow(t *testing.T) {
	h := newHarness(t)
	r := h.run("setup-cognito")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.errOut)
	}
	for _, want := range []string{"Runtime Pool (Inbound Auth)", "Identity Pool - User Consent", "✅ Cognito pools created successfully!",
		".agentcore_identity_cognito_user.json", "export $(grep -v '^#' .agentcore_identity_user.env | xargs)"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	names, vars := envFile(t, filepath.Join(h.dir, ".agentcore_identity_user.env"))
	if len(names) != 11 || names[0] != "RUNTIME_POOL_ID" || names[10] != "IDENTITY_PASSWORD" {
		t.Fatalf("env variables = %v", names)
	}
	if vars["RUNTIME_DISCOVERY_URL"] != h.srv.URL+"/idp/"+vars["RUNTIME_POOL_ID"]+"/.well-known/openid-configuration" {
		t.Errorf("discovery URL %q", vars["RUNTIME_DISCOVERY_URL"])
	}
	cog := cip.New(cip.Options{BaseEndpoint: aws.String(h.srv.URL), Region: h.srv.Region, Credentials: h.srv.Credentials()})
	client, err := cog.DescribeUserPoolClient(h.ctx(), &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(vars["IDENTITY_POOL_ID"]), ClientId: aws.String(vars["IDENTITY_CLIENT_ID"])})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(client.UserPoolClient.CallbackURLs, h.srv.URL+"/identities/oauth2/callback") {
		t.Errorf("identity client callbacks = %v", client.UserPoolClient.CallbackURLs)
	}

	// The token command prints only the token; it reads the env file when
	// the variables are not exported, and the variables when they are.
	fromFile := h.must("get-cognito-inbound-token").out
	if c := servertest.JWTClaims(t, strings.TrimSpace(fromFile)); c["client_id"] != vars["RUNTIME_CLIENT_ID"] {
		t.Errorf("token from the env file: claims %v", c)
	}
	for k, v := range vars {
		h.vars[k] = v
	}
	tok := h.must("get-cognito-inbound-token").out
	if strings.Count(tok, "\n") != 1 {
		t.Fatalf("output is not one line: %q", tok)
	}
	if c := servertest.JWTClaims(t, strings.TrimSpace(tok)); c["client_id"] != vars["RUNTIME_CLIENT_ID"] {
		t.Errorf("token claims = %v", c)
	}

	// A cognito provider registers its callback on the identity client.
	h.must("create-credential-provider", "--name", "ExternalServiceProvider", "--type", "cognito",
		"--client-id", vars["IDENTITY_CLIENT_ID"], "--client-secret", vars["IDENTITY_CLIENT_SECRET"],
		"--discovery-url", vars["IDENTITY_DISCOVERY_URL"], "--cognito-pool-id", vars["IDENTITY_POOL_ID"])
	prov, err := h.client().GetOAuth2CredentialProvider(h.ctx(), "ExternalServiceProvider")
	if err != nil {
		t.Fatal(err)
	}
	client, err = cog.DescribeUserPoolClient(h.ctx(), &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(vars["IDENTITY_POOL_ID"]), ClientId: aws.String(vars["IDENTITY_CLIENT_ID"])})
	if err != nil || !slices.Contains(client.UserPoolClient.CallbackURLs, prov.CallbackURL) {
		t.Fatalf("callbacks after create-credential-provider = %v (%v), want %s", client.UserPoolClient.CallbackURLs, err, prov.CallbackURL)
	}
	if slices.Equal(client.UserPoolClient.AllowedOAuthScopes, nil) {
		t.Error("UpdateUserPoolClient lost the client's scopes")
	}

	// cleanup removes both pools and the files.
	h.must("cleanup", "--force")
	for _, pool := range []string{vars["RUNTIME_POOL_ID"], vars["IDENTITY_POOL_ID"]} {
		_, err := cog.DescribeUserPool(h.ctx(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)})
		var nf *ciptypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("pool %s after cleanup: %v", pool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, ".agentcore_identity_user.env")); !os.IsNotExist(err) {
		t.Error("env file survived cleanup")
	}
}

func TestSetupCognitoM2MFlow(t *testing.T) {
	h := newHarness(t)
	r := h.run("setup-cognito", "--auth-flow", "m2m")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.errOut)
	}
	if !strings.Contains(r.out, "Identity Pool - M2M") {
		t.Errorf("output:\n%s", r.out)
	}
	names, vars := envFile(t, filepath.Join(h.dir, ".agentcore_identity_m2m.env"))
	if !slices.Contains(names, "IDENTITY_TOKEN_ENDPOINT") || !strings.HasPrefix(vars["IDENTITY_RESOURCE_SERVER"], "agentcore-m2m-") {
		t.Fatalf("env = %v %v", names, vars)
	}
	tok := h.must("get-cognito-inbound-token", "--auth-flow", "m2m", "--pool-id", vars["IDENTITY_POOL_ID"],
		"--client-id", vars["IDENTITY_CLIENT_ID"], "--client-secret", vars["IDENTITY_CLIENT_SECRET"]).out
	if c := servertest.JWTClaims(t, strings.TrimSpace(tok)); c["client_id"] != vars["IDENTITY_CLIENT_ID"] {
		t.Errorf("m2m token claims = %v", c)
	}
}
