// Package cognitoapi serves the subset of the Amazon Cognito user pools
// API that manages the built-in identity provider (internal/devidp), in
// Cognito's own wire format (awsJson1.1, X-Amz-Target
// AWSCognitoIdentityProviderService.<Operation>, SigV4 signing name
// cognito-idp), so the unmodified AWS SDKs and CLI drive it. Handlers only
// translate between the wire and devidp.
package cognitoapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/principal"
)

// Wire names of the service.
const (
	TargetPrefix = "AWSCognitoIdentityProviderService"
	SigningName  = "cognito-idp"
)

// PublicOperations are the operations Cognito serves without SigV4: the
// client authenticates with the request body (password, SECRET_HASH).
func PublicOperations() []string { return []string{"InitiateAuth", "RespondToAuthChallenge"} }

// Handlers translate the Cognito API to the identity provider.
type Handlers struct {
	IdP *devidp.Service
}

// Service builds the awsJson1.1 dispatcher of every supported operation.
func (h *Handlers) Service(log *slog.Logger) *awsproto.JSONService {
	return awsproto.NewJSONService(log, TargetPrefix,
		op("CreateUserPool", h.createUserPool),
		op("DescribeUserPool", h.describeUserPool),
		op("ListUserPools", h.listUserPools),
		op("DeleteUserPool", h.deleteUserPool),
		op("CreateUserPoolDomain", h.createDomain),
		op("DescribeUserPoolDomain", h.describeDomain),
		op("DeleteUserPoolDomain", h.deleteDomain),
		op("CreateUserPoolClient", h.createClient),
		op("DescribeUserPoolClient", h.describeClient),
		op("UpdateUserPoolClient", h.updateClient),
		op("DeleteUserPoolClient", h.deleteClient),
		op("CreateResourceServer", h.createResourceServer),
		op("AdminCreateUser", h.adminCreateUser),
		op("AdminSetUserPassword", h.adminSetUserPassword),
		op("AdminGetUser", h.adminGetUser),
		op("AdminDeleteUser", h.adminDeleteUser),
		op("InitiateAuth", h.initiateAuth),
		op("RespondToAuthChallenge", h.respondToAuthChallenge),
	)
}

// op adapts a typed handler: it decodes the input and, for signed
// operations, passes the caller's account.
func op[In any](name string, fn func(ctx context.Context, account string, in *In) (any, error)) awsproto.JSONOperation {
	return awsproto.JSONOperation{Name: name, Handle: func(ctx context.Context, req *awsproto.Request) (any, error) {
		in := new(In)
		if err := req.Decode(in); err != nil {
			return nil, devidp.InvalidParameter("%s", awserr.As(err).Message)
		}
		p, _ := principal.From(ctx)
		if p.AccountID == "" && !slices.Contains(PublicOperations(), name) {
			return nil, awserr.New(devidp.CodeNotAuthorized, http.StatusBadRequest, "Missing authentication.")
		}
		return fn(ctx, p.AccountID, in)
	}}
}

func required(name, v string) error {
	if v == "" {
		return devidp.InvalidParameter("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must not be null", name)
	}
	return nil
}

func epoch(t time.Time) *awsproto.Epoch { return awsproto.EpochPtr(t) }

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
