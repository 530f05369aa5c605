package workload

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// AuthorizerMember is the wire name of the authorizer extension member,
// under which its validation errors are reported. AgentCore's
// CreateWorkloadIdentity has no such member; ours carries the agent
// runtime's authorizerConfiguration shape so that
// GetWorkloadAccessTokenForJWT knows which tokens to trust.
const AuthorizerMember = "authorizerConfiguration.customJWTAuthorizer"

// Option sets an extension member of a workload identity on Create or
// Update.
type Option struct {
	validate func(*validate.Errors)
	apply    func(*doc)
}

// WithAuthorizer sets the inbound JWT authorizer; nil removes it.
func WithAuthorizer(cfg *inbound.JWTAuthorizerConfig) Option {
	return Option{
		validate: func(v *validate.Errors) {
			if cfg != nil {
				cfg.Validate(v, AuthorizerMember)
			}
		},
		apply: func(d *doc) { d.Authorizer = cfg },
	}
}

func validateOptions(v *validate.Errors, opts []Option) {
	for _, o := range opts {
		o.validate(v)
	}
}

// SetAuthorizer sets (or, with nil, removes) the inbound JWT authorizer of
// an existing workload identity.
func (s *Service) SetAuthorizer(ctx context.Context, account, name string, cfg *inbound.JWTAuthorizerConfig) (Identity, error) {
	var v validate.Errors
	ValidateName(&v, "name", name)
	opt := WithAuthorizer(cfg)
	opt.validate(&v)
	if err := v.Err(); err != nil {
		return Identity{}, err
	}
	return s.modify(ctx, account, name, opt.apply)
}
