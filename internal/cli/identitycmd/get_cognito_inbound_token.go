package identitycmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/identitycmd/cognitosetup"
)

func newGetCognitoInboundTokenCmd(e *env) *cobra.Command {
	var f cognitosetup.Credentials
	var flow string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get-cognito-inbound-token",
		Short: "Print an access token of the runtime pool, for invoking an agent with a bearer token",
		Long: `Sign in to a user pool of the built-in IdP and print only the access token,
so that TOKEN=$(agentcore identity get-cognito-inbound-token) works.

With --auth-flow user: InitiateAuth USER_PASSWORD_AUTH (with SECRET_HASH
when the client has a secret). With --auth-flow m2m: the client-credentials
grant at the pool's token endpoint. Unset options come from RUNTIME_POOL_ID,
RUNTIME_CLIENT_ID, RUNTIME_CLIENT_SECRET, RUNTIME_USERNAME and
RUNTIME_PASSWORD, else from the .agentcore_identity_<flow>.env file
setup-cognito wrote in the current directory.`,
		Example: "  export $(grep -v '^#' .agentcore_identity_user.env | xargs)\n  BEARER_TOKEN=$(agentcore identity get-cognito-inbound-token)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			get := e.opts.Getenv
			fill := func(v *string, name string) {
				if *v == "" {
					*v = get(name)
				}
			}
			fill(&f.PoolID, "RUNTIME_POOL_ID")
			fill(&f.ClientID, "RUNTIME_CLIENT_ID")
			fill(&f.ClientSecret, "RUNTIME_CLIENT_SECRET")
			fill(&f.Username, "RUNTIME_USERNAME")
			fill(&f.Password, "RUNTIME_PASSWORD")
			if f.ClientID == "" {
				// Spare the export step: read the file setup-cognito wrote.
				for _, fl := range []string{cognitosetup.FlowUser, cognitosetup.FlowM2M} {
					if _, vals, err := cognitosetup.ReadEnvFile(e.path(cognitosetup.EnvName(fl))); err == nil {
						get = func(k string) string { return vals[k] }
						break
					}
				}
				fill(&f.PoolID, "RUNTIME_POOL_ID")
				fill(&f.ClientID, "RUNTIME_CLIENT_ID")
				fill(&f.Username, "RUNTIME_USERNAME")
				fill(&f.Password, "RUNTIME_PASSWORD")
			}
			if f.ClientID == "" {
				return errors.New("no client id: give --client-id or set RUNTIME_CLIENT_ID (setup-cognito writes it to .agentcore_identity_user.env)")
			}
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			var tok *cognitosetup.Token
			switch flow {
			case cognitosetup.FlowUser:
				tok, err = cognitosetup.PasswordToken(ctx, t.Cognito(), f)
			case cognitosetup.FlowM2M:
				tok, err = cognitosetup.ClientCredentialsToken(ctx, t, f)
			default:
				return fmt.Errorf("--auth-flow %q: must be user or m2m", flow)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return e.printer(cmd).JSON(tok)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), tok.AccessToken)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&flow, "auth-flow", cognitosetup.FlowUser, "user (username and password) or m2m (client credentials)")
	fl.StringVar(&f.PoolID, "pool-id", "", "user pool id (default $RUNTIME_POOL_ID)")
	fl.StringVar(&f.ClientID, "client-id", "", "app client id (default $RUNTIME_CLIENT_ID)")
	fl.StringVar(&f.ClientSecret, "client-secret", "", "app client secret, if it has one (default $RUNTIME_CLIENT_SECRET)")
	fl.StringVarP(&f.Username, "username", "u", "", "user name (default $RUNTIME_USERNAME)")
	fl.StringVarP(&f.Password, "password", "p", "", "password (default $RUNTIME_PASSWORD)")
	fl.StringVar(&f.Scopes, "scopes", "", "space-separated scopes to request (m2m)")
	fl.BoolVar(&asJSON, "json", false, "print the token response as JSON")
	return cmd
}
