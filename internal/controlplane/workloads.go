package controlplane

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/validate"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// authorizerConfiguration is our extension member of the workload identity
// operations, in the agent runtime's shape. AWS SDKs neither send it nor
// read it (they skip unknown response members); our SDK, CLI and raw JSON
// clients use it to say which user JWTs GetWorkloadAccessTokenForJWT
// accepts for the workload.
type authorizerConfiguration struct {
	CustomJWTAuthorizer *inbound.JWTAuthorizerConfig `json:"customJWTAuthorizer,omitempty"`
}

func authorizerOutput(cfg *inbound.JWTAuthorizerConfig) *authorizerConfiguration {
	if cfg == nil {
		return nil
	}
	return &authorizerConfiguration{CustomJWTAuthorizer: cfg}
}

// authorizerOptions turns the member into a service option. On Update an
// absent (or null) member keeps the current authorizer, so AWS SDK updates
// never drop it; {} removes it.
func authorizerOptions(in *authorizerConfiguration) []workload.Option {
	if in == nil {
		return nil
	}
	return []workload.Option{workload.WithAuthorizer(in.CustomJWTAuthorizer)}
}

type createWorkloadIdentityInput struct {
	Name       *string                  `json:"name"`
	ReturnURLs []string                 `json:"allowedResourceOauth2ReturnUrls"`
	Tags       map[string]string        `json:"tags"`
	Authorizer *authorizerConfiguration `json:"authorizerConfiguration"`
}

type createWorkloadIdentityOutput struct {
	Name       string                   `json:"name"`
	ARN        string                   `json:"workloadIdentityArn"`
	ReturnURLs []string                 `json:"allowedResourceOauth2ReturnUrls"`
	Authorizer *authorizerConfiguration `json:"authorizerConfiguration,omitempty"`
}

type workloadIdentityOutput struct {
	Name            string                   `json:"name"`
	ARN             string                   `json:"workloadIdentityArn"`
	ReturnURLs      []string                 `json:"allowedResourceOauth2ReturnUrls"`
	CreatedTime     *awsproto.Epoch          `json:"createdTime,omitempty"`
	LastUpdatedTime *awsproto.Epoch          `json:"lastUpdatedTime,omitempty"`
	Authorizer      *authorizerConfiguration `json:"authorizerConfiguration,omitempty"`
}

func toWorkloadOutput(id workload.Identity) workloadIdentityOutput {
	return workloadIdentityOutput{
		Name: id.Name, ARN: id.ARN, ReturnURLs: id.ReturnURLs,
		CreatedTime: awsproto.EpochPtr(id.CreatedAt), LastUpdatedTime: awsproto.EpochPtr(id.UpdatedAt),
		Authorizer: authorizerOutput(id.Authorizer),
	}
}

func requireName(in *string) error {
	var v validate.Errors
	v.Required("name", in != nil)
	return v.Err()
}

func (h *Handlers) createWorkloadIdentity(ctx context.Context, req *awsproto.Request) (any, error) {
	var in createWorkloadIdentityInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := requireName(in.Name); err != nil {
		return nil, err
	}
	id, err := h.Workloads.Create(ctx, acct, *in.Name, in.ReturnURLs, in.Tags, authorizerOptions(in.Authorizer)...)
	if err != nil {
		return nil, err
	}
	return createWorkloadIdentityOutput{Name: id.Name, ARN: id.ARN, ReturnURLs: id.ReturnURLs,
		Authorizer: authorizerOutput(id.Authorizer)}, nil
}

func (h *Handlers) getWorkloadIdentity(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	id, err := h.Workloads.Get(ctx, acct, name)
	if err != nil {
		return nil, err
	}
	return toWorkloadOutput(id), nil
}

func (h *Handlers) updateWorkloadIdentity(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		Name       *string                  `json:"name"`
		ReturnURLs []string                 `json:"allowedResourceOauth2ReturnUrls"`
		Authorizer *authorizerConfiguration `json:"authorizerConfiguration"`
	}
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	if err := requireName(in.Name); err != nil {
		return nil, err
	}
	id, err := h.Workloads.Update(ctx, acct, *in.Name, in.ReturnURLs, authorizerOptions(in.Authorizer)...)
	if err != nil {
		return nil, err
	}
	return toWorkloadOutput(id), nil
}

func (h *Handlers) deleteWorkloadIdentity(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, name, err := nameRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	return nil, h.Workloads.Delete(ctx, acct, name)
}

func (h *Handlers) listWorkloadIdentities(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, limit, after, err := listRequest(ctx, req, 20)
	if err != nil {
		return nil, err
	}
	ids, next, err := h.Workloads.List(ctx, acct, limit, after)
	if err != nil {
		return nil, err
	}
	type item struct {
		Name string `json:"name"`
		ARN  string `json:"workloadIdentityArn"`
	}
	out := struct {
		Items     []item  `json:"workloadIdentities"`
		NextToken *string `json:"nextToken,omitempty"`
	}{Items: make([]item, 0, len(ids)), NextToken: awsproto.EncodeToken(next)}
	for _, id := range ids {
		out.Items = append(out.Items, item{Name: id.Name, ARN: id.ARN})
	}
	return out, nil
}
