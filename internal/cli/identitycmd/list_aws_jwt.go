package identitycmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

type awsJWTJSON struct {
	Agent            string   `json:"agent,omitempty"`
	Enabled          bool     `json:"enabled"`
	IssuerURL        string   `json:"issuerUrl"`
	JWKSURL          string   `json:"jwksUrl,omitempty"`
	SigningAlgorithm string   `json:"signingAlgorithm,omitempty"`
	DurationSeconds  int      `json:"durationSeconds,omitempty"`
	Audiences        []string `json:"audiences"`
	// Source is "project" (.bedrock_agentcore.yaml) or "server" (no
	// project file: the account's federation state only).
	Source string `json:"source"`
}

func newListAWSJWTCmd(e *env) *cobra.Command {
	var agent string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list-aws-jwt",
		Short: "Show the AWS IAM JWT federation configuration",
		Long: `Show the aws_jwt configuration of the agent in .bedrock_agentcore.yaml.
Without a project file, show the account's federation state from the server.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := e.awsJWTState(cmd, agent)
			if err != nil {
				return err
			}
			p := e.printer(cmd)
			if asJSON {
				return p.JSON(out)
			}
			enabled := "❌ No"
			if out.Enabled {
				enabled = "✅ Yes"
			}
			rows := [][]string{{"Enabled", enabled}, {"Issuer URL", orDash(out.IssuerURL)}}
			if out.Source == "project" {
				rows = append(rows, []string{"Signing Algorithm", out.SigningAlgorithm},
					[]string{"Duration (seconds)", strconv.Itoa(out.DurationSeconds)},
					[]string{"Audiences", orDash(strings.Join(out.Audiences, ", "))})
			}
			if out.JWKSURL != "" {
				rows = append(rows, []string{"JWKS URL", out.JWKSURL})
			}
			p.Table("AWS IAM JWT Federation Configuration", []string{"Property", "Value"}, rows)
			if out.Source == "server" {
				p.Linef("(no %s here: account state from the server; audiences are recorded by setup-aws-jwt in a project)", yamlconfig.FileName)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&agent, "agent", "a", "", "agent in .bedrock_agentcore.yaml (default: default_agent)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (e *env) awsJWTState(cmd *cobra.Command, agent string) (awsJWTJSON, error) {
	out := awsJWTJSON{Audiences: []string{}}
	f, ok, err := e.project()
	if err != nil {
		return out, err
	}
	name := ""
	if ok {
		if name, err = f.ResolveAgent(agent); errors.Is(err, yamlconfig.ErrNoAgent) && agent == "" {
			ok = false // a project without agents: report the account state
		} else if err != nil {
			return out, err
		}
	}
	if ok {
		a, err := f.Agent(name)
		if err != nil {
			return out, err
		}
		j := yamlconfig.DefaultAWSJWT()
		if a.AWSJWT != nil {
			j = *a.AWSJWT
		}
		out = awsJWTJSON{Agent: name, Enabled: j.Enabled, IssuerURL: aws.ToString(j.IssuerURL), Source: "project",
			SigningAlgorithm: j.SigningAlgorithm, DurationSeconds: j.DurationSeconds, Audiences: nonNil(j.Audiences)}
	} else {
		t, err := e.target(cmd.Context())
		if err != nil {
			return out, err
		}
		out.Source = "server"
		info, err := t.IAM().GetOutboundWebIdentityFederationInfo(cmd.Context(), &iam.GetOutboundWebIdentityFederationInfoInput{})
		var disabled *iamtypes.FeatureDisabledException
		switch {
		case errors.As(err, &disabled):
		case err != nil:
			return out, fmt.Errorf("get outbound web identity federation info: %w", err)
		default:
			out.Enabled, out.IssuerURL = info.JwtVendingEnabled, aws.ToString(info.IssuerIdentifier)
		}
	}
	if out.IssuerURL != "" {
		out.JWKSURL = strings.TrimRight(out.IssuerURL, "/") + "/.well-known/jwks.json"
	}
	return out, nil
}
