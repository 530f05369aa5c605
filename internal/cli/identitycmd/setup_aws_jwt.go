package identitycmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/output"
	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

func newSetupAWSJWTCmd(e *env) *cobra.Command {
	var audiences []string
	var alg, agent string
	var duration int
	cmd := &cobra.Command{
		Use:   "setup-aws-jwt",
		Short: "Enable AWS IAM outbound web identity federation and record the JWT audience",
		Long: `Enable the account's outbound web identity federation (idempotent), so that
agents can obtain AWS-signed JWTs from STS GetWebIdentityToken, and record
the audience, algorithm and duration in .bedrock_agentcore.yaml. Running it
again with another audience adds that audience.`,
		Example: "  agentcore identity setup-aws-jwt --audience https://api.example.com",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			auds := splitList(audiences)
			if len(auds) == 0 {
				return errors.New("--audience is required")
			}
			alg = strings.ToUpper(alg)
			if alg != "ES384" && alg != "RS256" {
				return fmt.Errorf("--signing-algorithm %q: must be ES384 or RS256", alg)
			}
			if duration < 60 || duration > 3600 {
				return fmt.Errorf("--duration %d: must be 60 to 3600 seconds", duration)
			}
			t, err := e.target(ctx)
			if err != nil {
				return err
			}
			issuer, already, err := enableFederation(ctx, t.IAM())
			if err != nil {
				return err
			}
			var cfg yamlconfig.AWSJWT
			name, saved, err := e.updateAgent(agent, func(a *yamlconfig.Agent) error {
				if a.AWSJWT == nil {
					d := yamlconfig.DefaultAWSJWT()
					a.AWSJWT = &d
				}
				j := a.AWSJWT
				j.Enabled, j.IssuerURL, j.SigningAlgorithm, j.DurationSeconds = true, aws.String(issuer), alg, duration
				for _, aud := range auds {
					if !slices.Contains(j.Audiences, aud) {
						j.Audiences = append(j.Audiences, aud)
					}
				}
				cfg = *j
				return nil
			})
			if err != nil {
				return fmt.Errorf("federation enabled, but saving %s failed: %w", yamlconfig.FileName, err)
			}
			if !saved {
				cfg = yamlconfig.AWSJWT{Enabled: true, Audiences: auds, SigningAlgorithm: alg, DurationSeconds: duration}
			}
			printAWSJWTSetup(e.printer(cmd), issuer, already, cfg, name, saved)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&audiences, "audience", "a", nil, "audience (aud) of the tokens; repeat or comma-separate for several (required)")
	f.StringVarP(&alg, "signing-algorithm", "s", "ES384", "ES384 or RS256")
	f.IntVarP(&duration, "duration", "d", 300, "token lifetime in seconds (60-3600)")
	f.StringVar(&agent, "agent", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	return cmd
}

// enableFederation turns outbound web identity federation on unless it
// already is, and returns the account's issuer URL. Another client enabling
// it at the same moment (FeatureEnabled) counts as success.
func enableFederation(ctx context.Context, c *iam.Client) (issuer string, already bool, err error) {
	info, err := c.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
	var disabled *iamtypes.FeatureDisabledException
	switch {
	case err == nil && info.JwtVendingEnabled && aws.ToString(info.IssuerIdentifier) != "":
		return aws.ToString(info.IssuerIdentifier), true, nil
	case err != nil && !errors.As(err, &disabled):
		return "", false, fmt.Errorf("get outbound web identity federation info: %w", err)
	}
	out, err := c.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	var enabled *iamtypes.FeatureEnabledException
	if errors.As(err, &enabled) {
		info, err := c.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
		if err != nil {
			return "", false, fmt.Errorf("get outbound web identity federation info: %w", err)
		}
		return aws.ToString(info.IssuerIdentifier), true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("enable outbound web identity federation: %w", err)
	}
	return aws.ToString(out.IssuerIdentifier), false, nil
}

func printAWSJWTSetup(p *output.Printer, issuer string, already bool, cfg yamlconfig.AWSJWT, agent string, saved bool) {
	state := "enabled now"
	if already {
		state = "already enabled"
	}
	body := fmt.Sprintf(`AWS IAM JWT Federation Configured (%s)

Issuer URL: %s
Audiences: %s
Algorithm: %s
Duration: %ds

Next Steps:
1. Configure your external service to trust this issuer URL
2. Grant sts:GetWebIdentityToken to the agent's principal
3. Use identity.RequiresIAMAccessToken (Go) or @requires_iam_access_token(audience=[...]) (Python) in your agent`,
		state, issuer, strings.Join(cfg.Audiences, ", "), cfg.SigningAlgorithm, cfg.DurationSeconds)
	p.Panel("✅ Success", body, output.Success)
	p.Linef("⚠️  External Service Configuration Required\n\nYour external service must be configured to:")
	p.Linef("  1. Trust issuer: %s", issuer)
	p.Linef("  2. Validate audience: %s", strings.Join(cfg.Audiences, ", "))
	p.Linef("  3. Fetch JWKS from: %s/.well-known/jwks.json", strings.TrimRight(issuer, "/"))
	if saved {
		p.Linef("\nSaved to %s (agent %s)", yamlconfig.FileName, agent)
	} else {
		p.Warnf("no %s here: federation is enabled, but the audience is not recorded", yamlconfig.FileName)
	}
}
