package identity

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
)

// WorkloadIdentity is an agent's identity: the principal workload access
// tokens are minted for.
type WorkloadIdentity struct {
	Name string
	ARN  string
	// ReturnURLs are the allowed resourceOauth2ReturnUrls: where the
	// browser is sent, with ?session_id=..., after a user consents in the
	// 3LO flow.
	ReturnURLs []string
	Created    time.Time
	Updated    time.Time
}

// CreateWorkloadIdentity creates a workload identity. returnURLs may be nil,
// but user-federation (3LO) flows need at least one.
func (c *Client) CreateWorkloadIdentity(ctx context.Context, name string, returnURLs []string) (*WorkloadIdentity, error) {
	out, err := c.control.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{
		Name: aws.String(name), AllowedResourceOauth2ReturnUrls: returnURLs,
	})
	if err != nil {
		return nil, wrapErr("CreateWorkloadIdentity", err)
	}
	return &WorkloadIdentity{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.WorkloadIdentityArn), ReturnURLs: out.AllowedResourceOauth2ReturnUrls,
	}, nil
}

// GetWorkloadIdentity returns one workload identity (ErrNotFound if absent).
func (c *Client) GetWorkloadIdentity(ctx context.Context, name string) (*WorkloadIdentity, error) {
	out, err := c.control.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String(name)})
	if err != nil {
		return nil, wrapErr("GetWorkloadIdentity", err)
	}
	return &WorkloadIdentity{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.WorkloadIdentityArn), ReturnURLs: out.AllowedResourceOauth2ReturnUrls,
		Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// UpdateWorkloadIdentity replaces the allowed return URLs.
func (c *Client) UpdateWorkloadIdentity(ctx context.Context, name string, returnURLs []string) (*WorkloadIdentity, error) {
	if returnURLs == nil {
		returnURLs = []string{}
	}
	out, err := c.control.UpdateWorkloadIdentity(ctx, &cp.UpdateWorkloadIdentityInput{
		Name: aws.String(name), AllowedResourceOauth2ReturnUrls: returnURLs,
	})
	if err != nil {
		return nil, wrapErr("UpdateWorkloadIdentity", err)
	}
	return &WorkloadIdentity{
		Name: aws.ToString(out.Name), ARN: aws.ToString(out.WorkloadIdentityArn), ReturnURLs: out.AllowedResourceOauth2ReturnUrls,
		Created: aws.ToTime(out.CreatedTime), Updated: aws.ToTime(out.LastUpdatedTime),
	}, nil
}

// DeleteWorkloadIdentity deletes a workload identity. Tokens minted for it
// stop working.
func (c *Client) DeleteWorkloadIdentity(ctx context.Context, name string) error {
	_, err := c.control.DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String(name)})
	return wrapErr("DeleteWorkloadIdentity", err)
}

// ListWorkloadIdentities returns every workload identity (name and ARN),
// following pagination.
func (c *Client) ListWorkloadIdentities(ctx context.Context) ([]WorkloadIdentity, error) {
	var all []WorkloadIdentity
	p := cp.NewListWorkloadIdentitiesPaginator(c.control, &cp.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrapErr("ListWorkloadIdentities", err)
		}
		for _, w := range page.WorkloadIdentities {
			all = append(all, WorkloadIdentity{Name: aws.ToString(w.Name), ARN: aws.ToString(w.WorkloadIdentityArn)})
		}
	}
	return all, nil
}
