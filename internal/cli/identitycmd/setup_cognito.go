package identitycmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd/cognitosetup"
	"github.com/agentcore-identity/agentcore/internal/cli/output"
)

func newSetupCognitoCmd(e *env) *cobra.Command {
	var flow string
	cmd := &cobra.Command{
		Use:   "setup-cognito",
		Short: "Create Cognito test pools on the built-in IdP: a runtime (inbound) pool and an identity (outbound) pool",
		Long: `Create two user pools on the server's built-in Cognito-compatible IdP:

  - the runtime pool, for inbound auth: a public app client with
    USER_PASSWORD_AUTH and a test user (get a bearer token with
    get-cognito-inbound-token);
  - the identity pool, the outbound resource IdP: with --auth-flow user a
    domain, a confidential authorization-code client whose callback is
    this server's OAuth2 callback, and a test user; with --auth-flow m2m a
    resource server with read/write scopes and a client-credentials client.

The settings are saved to .agentcore_identity_cognito_<flow>.json and
.agentcore_identity_<flow>.env (both 0600).`,
		Example: "  agentcore identity setup-cognito\n  export $(grep -v '^#' .agentcore_identity_user.env | xargs)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			res, err := cognitosetup.Setup(ctx, t, flow)
			if err != nil {
				return err
			}
			if err := res.Write(e.opts.Dir); err != nil {
				return fmt.Errorf("pools created, but saving the credentials failed: %w", err)
			}
			printCognitoSetup(e.printer(cmd), res)
			return nil
		},
	}
	cmd.Flags().StringVar(&flow, "auth-flow", cognitosetup.FlowUser, "identity pool flow: user (authorization code) or m2m (client credentials)")
	return cmd
}

func printCognitoSetup(p *output.Printer, c cognitosetup.File) {
	r, i := c.Runtime, c.Identity
	p.Panel("Runtime Pool (Inbound Auth)", fmt.Sprintf("Pool ID:       %s\nClient ID:     %s\nDiscovery URL: %s\nUsername:      %s\nPassword:      %s",
		r.PoolID, r.ClientID, r.DiscoveryURL, r.Username, r.Password), output.Info)
	if c.FlowType == cognitosetup.FlowM2M {
		p.Panel("Identity Pool - M2M", fmt.Sprintf("Pool ID:         %s\nClient ID:       %s\nClient Secret:   %s\nToken Endpoint:  %s\nResource Server: %s\nScopes:          %s/read %s/write",
			i.PoolID, i.ClientID, i.ClientSecret, i.TokenEndpoint, i.ResourceServerIdentifier, i.ResourceServerIdentifier, i.ResourceServerIdentifier), output.Info)
	} else {
		p.Panel("Identity Pool - User Consent", fmt.Sprintf("Pool ID:       %s\nClient ID:     %s\nClient Secret: %s\nDiscovery URL: %s\nUsername:      %s\nPassword:      %s",
			i.PoolID, i.ClientID, i.ClientSecret, i.DiscoveryURL, i.Username, i.Password), output.Info)
	}
	p.Linef("✅ Cognito pools created successfully!\n\n🔐 Credentials saved securely to:\n   • %s\n   • %s\n", cognitosetup.JSONName(c.FlowType), cognitosetup.EnvName(c.FlowType))
	p.Linef("Load them into your shell:\n  export $(grep -v '^#' %s | xargs)", cognitosetup.EnvName(c.FlowType))
}
