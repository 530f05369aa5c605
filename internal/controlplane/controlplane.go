// Package controlplane holds the restJson1 handlers of the AgentCore control
// plane (bedrock-agentcore-control): workload identities, credential
// providers, the token vault and resource tags. Handlers only translate
// between the wire shapes and the domain services.
package controlplane

import (
	"context"
	"net/http"
	"strconv"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// Handlers binds the control-plane operations to their services.
type Handlers struct {
	Workloads *workload.Service
	Providers *credprovider.Service
	Vault     *tokenvault.Service
	Tags      *tagging.Service
}

// Operations is the control plane's operation table.
func (h *Handlers) Operations() []awsproto.Operation {
	ops := []awsproto.Operation{
		{Name: "CreateWorkloadIdentity", Method: http.MethodPost, Path: "/identities/CreateWorkloadIdentity", Status: http.StatusCreated, Handle: h.createWorkloadIdentity},
		{Name: "GetWorkloadIdentity", Method: http.MethodPost, Path: "/identities/GetWorkloadIdentity", Status: http.StatusOK, Handle: h.getWorkloadIdentity},
		{Name: "UpdateWorkloadIdentity", Method: http.MethodPost, Path: "/identities/UpdateWorkloadIdentity", Status: http.StatusOK, Handle: h.updateWorkloadIdentity},
		{Name: "DeleteWorkloadIdentity", Method: http.MethodPost, Path: "/identities/DeleteWorkloadIdentity", Status: http.StatusNoContent, Handle: h.deleteWorkloadIdentity},
		{Name: "ListWorkloadIdentities", Method: http.MethodPost, Path: "/identities/ListWorkloadIdentities", Status: http.StatusOK, Handle: h.listWorkloadIdentities},
		{Name: "GetTokenVault", Method: http.MethodPost, Path: "/identities/get-token-vault", Status: http.StatusOK, Handle: h.getTokenVault},
		{Name: "SetTokenVaultCMK", Method: http.MethodPost, Path: "/identities/set-token-vault-cmk", Status: http.StatusOK, Handle: h.setTokenVaultCMK},
		{Name: "TagResource", Method: http.MethodPost, Path: "/tags/{resourceArn}", Status: http.StatusNoContent, Handle: h.tagResource},
		{Name: "UntagResource", Method: http.MethodDelete, Path: "/tags/{resourceArn}", Status: http.StatusNoContent, Handle: h.untagResource},
		{Name: "ListTagsForResource", Method: http.MethodGet, Path: "/tags/{resourceArn}", Status: http.StatusOK, Handle: h.listTagsForResource},
	}
	return append(ops, h.providerOperations()...)
}

// account returns the caller's account; the server's auth middleware always
// sets a principal before a handler runs.
func account(ctx context.Context) (string, error) {
	p, ok := principal.From(ctx)
	if !ok || p.AccountID == "" {
		return "", awserr.New(awserr.CodeMissingAuthToken, http.StatusForbidden, "Missing Authentication Token")
	}
	return p.AccountID, nil
}

// decode reads the body and resolves the caller's account.
func decode(ctx context.Context, req *awsproto.Request, in any) (string, error) {
	acct, err := account(ctx)
	if err != nil {
		return "", err
	}
	return acct, req.Decode(in)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nameRequest decodes a request whose only member is the required name of
// the resource it addresses (Get and Delete operations).
func nameRequest(ctx context.Context, req *awsproto.Request) (acct, name string, err error) {
	var in struct {
		Name *string `json:"name"`
	}
	if acct, err = decode(ctx, req, &in); err != nil {
		return "", "", err
	}
	if err := requireName(in.Name); err != nil {
		return "", "", err
	}
	return acct, *in.Name, nil
}

// listRequest decodes a List operation: maxResults (1..maxN, default maxN)
// and an opaque nextToken.
func listRequest(ctx context.Context, req *awsproto.Request, maxN int32) (acct string, limit int, after string, err error) {
	var in struct {
		NextToken  *string `json:"nextToken"`
		MaxResults *int32  `json:"maxResults"`
	}
	if acct, err = decode(ctx, req, &in); err != nil {
		return "", 0, "", err
	}
	if limit, err = pageSize("maxResults", in.MaxResults, maxN); err != nil {
		return "", 0, "", err
	}
	if after, err = awsproto.DecodeToken("nextToken", in.NextToken); err != nil {
		return "", 0, "", err
	}
	return acct, limit, after, nil
}

// pageSize validates maxResults (1..max) and defaults it to max.
func pageSize(member string, n *int32, maxN int32) (int, error) {
	if n == nil {
		return int(maxN), nil
	}
	if *n < 1 || *n > maxN {
		return 0, awserr.Field(awserr.FieldError{Name: member,
			Message: "Member must have value between 1 and " + strconv.Itoa(int(maxN))})
	}
	return int(*n), nil
}
