// Package dataplane holds the restJson1 handlers of the AgentCore data
// plane (bedrock-agentcore): workload access tokens, API keys and OAuth2
// tokens for resources. Handlers translate the wire; the rules live in the
// domain services they call.
package dataplane

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/validate"
	"github.com/agentcore-identity/agentcore/internal/wat"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// Handlers binds the data-plane operations to their services.
type Handlers struct {
	Workloads *workload.Service
	Providers *credprovider.Service
	Tokens    *wat.Service
	// JWT validates end-user tokens for GetWorkloadAccessTokenForJWT and
	// CompleteResourceTokenAuth.
	JWT inbound.JWTValidator
	// OAuth2 runs the resource OAuth2 flows (M2M and user federation).
	OAuth2 *tokenvault.Flows
}

// Operations is the data plane's operation table.
func (h *Handlers) Operations() []awsproto.Operation {
	op := func(name, path string, handle func(context.Context, *awsproto.Request) (any, error)) awsproto.Operation {
		return awsproto.Operation{Name: name, Method: http.MethodPost, Path: path, Status: http.StatusOK, Handle: handle}
	}
	return []awsproto.Operation{
		op("GetWorkloadAccessToken", "/identities/GetWorkloadAccessToken", h.getWorkloadAccessToken),
		op("GetWorkloadAccessTokenForJWT", "/identities/GetWorkloadAccessTokenForJWT", h.getWorkloadAccessTokenForJWT),
		op("GetWorkloadAccessTokenForUserId", "/identities/GetWorkloadAccessTokenForUserId", h.getWorkloadAccessTokenForUserID),
		op("GetResourceApiKey", "/identities/api-key", h.getResourceAPIKey),
		op("GetResourceOauth2Token", "/identities/oauth2/token", h.getResourceOAuth2Token),
		op("CompleteResourceTokenAuth", "/identities/CompleteResourceTokenAuth", h.completeResourceTokenAuth),
	}
}

// Constraints from the data-plane model.
var (
	userTokenRE    = regexp.MustCompile(`^[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+$`)
	providerNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
)

func decode(ctx context.Context, req *awsproto.Request, in any) (principal.Principal, error) {
	p, ok := principal.From(ctx)
	if !ok || p.AccountID == "" {
		return p, awserr.New(awserr.CodeMissingAuthToken, http.StatusForbidden, "Missing Authentication Token")
	}
	return p, req.Decode(in)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

type watOutput struct {
	WorkloadAccessToken string `json:"workloadAccessToken"`
}

// workloadFor checks the name and that the identity exists.
func (h *Handlers) workloadFor(ctx context.Context, account string, name *string, v *validate.Errors) (workload.Identity, error) {
	if v.Required("workloadName", name != nil) {
		workload.ValidateName(v, "workloadName", *name)
	}
	if err := v.Err(); err != nil {
		return workload.Identity{}, err
	}
	return h.Workloads.Get(ctx, account, *name)
}

func (h *Handlers) mint(ctx context.Context, c wat.Claims) (any, error) {
	tok, _, err := h.Tokens.Mint(ctx, c)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	return watOutput{WorkloadAccessToken: tok}, nil
}

func (h *Handlers) getWorkloadAccessToken(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		WorkloadName *string `json:"workloadName"`
	}
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	wl, err := h.workloadFor(ctx, p.AccountID, in.WorkloadName, &v)
	if err != nil {
		return nil, err
	}
	audit.Note(ctx, audit.Details{Workload: wl.Name})
	return h.mint(ctx, wat.Claims{Account: p.AccountID, Workload: wl.Name})
}

func (h *Handlers) getWorkloadAccessTokenForUserID(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		WorkloadName *string `json:"workloadName"`
		UserID       *string `json:"userId"`
	}
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	if v.Required("userId", in.UserID != nil) {
		v.String("userId", *in.UserID, 1, 128, nil)
	}
	wl, err := h.workloadFor(ctx, p.AccountID, in.WorkloadName, &v)
	if err != nil {
		return nil, err
	}
	audit.Note(ctx, audit.Details{Workload: wl.Name, User: *in.UserID})
	return h.mint(ctx, wat.Claims{Account: p.AccountID, Workload: wl.Name, UserID: *in.UserID,
		Source: wat.SourceUserID, ArtifactHash: wat.HashArtifact(*in.UserID)})
}

func (h *Handlers) getWorkloadAccessTokenForJWT(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		WorkloadName *string `json:"workloadName"`
		UserToken    *string `json:"userToken"`
	}
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	if v.Required("userToken", in.UserToken != nil) {
		v.String("userToken", *in.UserToken, 1, 131072, userTokenRE)
	}
	wl, err := h.workloadFor(ctx, p.AccountID, in.WorkloadName, &v)
	if err != nil {
		return nil, err
	}
	audit.Note(ctx, audit.Details{Workload: wl.Name})
	caller, err := h.validateUserToken(ctx, wl, *in.UserToken)
	if err != nil {
		return nil, err
	}
	audit.Note(ctx, audit.Details{User: caller.UserID()})
	return h.mint(ctx, wat.Claims{Account: p.AccountID, Workload: wl.Name, UserID: caller.UserID(),
		Source: wat.SourceJWT, ArtifactHash: wat.HashArtifact(*in.UserToken)})
}

// validateUserToken checks an end-user JWT with the workload's inbound
// authorizer. A workload without one cannot accept user tokens: there would
// be no issuer to trust.
func (h *Handlers) validateUserToken(ctx context.Context, wl workload.Identity, token string) (inbound.Caller, error) {
	if wl.Authorizer == nil {
		return inbound.Caller{}, awserr.Validation(
			"Workload identity %q has no inbound JWT authorizer, so it cannot accept user tokens. Set authorizerConfiguration.customJWTAuthorizer on it (or on the agent runtime that owns it).", wl.Name)
	}
	caller, err := h.JWT.Validate(ctx, *wl.Authorizer, token)
	if errors.Is(err, inbound.ErrRejected) {
		return inbound.Caller{}, awserr.AccessDenied("The user token was rejected: %s", rejection(err))
	}
	if err != nil {
		return inbound.Caller{}, awserr.Internal(err)
	}
	return caller, nil
}

// rejection is the client-safe reason of an inbound rejection.
func rejection(err error) string {
	msg := err.Error()
	const prefix = "inbound: token rejected: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

// verifyWAT opens the workload access token of a vend request for
// provider, checks the workload still exists and is granted the provider,
// and returns both.
func (h *Handlers) verifyWAT(ctx context.Context, account string, token *string, provider string, v *validate.Errors) (wat.Claims, workload.Identity, error) {
	if v.Required("workloadIdentityToken", token != nil) {
		v.String("workloadIdentityToken", *token, 1, wat.MaxLen, nil)
	}
	if err := v.Err(); err != nil {
		return wat.Claims{}, workload.Identity{}, err
	}
	c, err := h.Tokens.Verify(ctx, account, *token)
	if err == nil {
		audit.Note(ctx, audit.Details{Workload: c.Workload, User: c.UserID})
	}
	if errors.Is(err, wat.ErrInvalid) {
		return wat.Claims{}, workload.Identity{}, awserr.AccessDenied("The workload access token is invalid or expired.")
	}
	if err != nil {
		return wat.Claims{}, workload.Identity{}, awserr.Internal(err)
	}
	wl, err := h.Workloads.Get(ctx, account, c.Workload)
	if err != nil {
		if awserr.IsCode(err, awserr.CodeResourceNotFound) {
			err = awserr.AccessDenied("The workload identity of this token no longer exists.")
		}
		return wat.Claims{}, workload.Identity{}, err
	}
	// Identities without grants may use every provider of the account.
	if !wl.MayUse(provider) {
		return wat.Claims{}, workload.Identity{}, awserr.AccessDenied("Workload identity %q is not granted credential provider %q.", wl.Name, provider)
	}
	return c, wl, nil
}

func (h *Handlers) getResourceAPIKey(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		WorkloadIdentityToken *string `json:"workloadIdentityToken"`
		ProviderName          *string `json:"resourceCredentialProviderName"`
	}
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	if v.Required("resourceCredentialProviderName", in.ProviderName != nil) {
		v.String("resourceCredentialProviderName", *in.ProviderName, 1, 128, providerNameRE)
		audit.Note(ctx, audit.Details{Provider: *in.ProviderName})
	}
	if _, _, err := h.verifyWAT(ctx, p.AccountID, in.WorkloadIdentityToken, str(in.ProviderName), &v); err != nil {
		return nil, err
	}
	key, err := h.Providers.APIKey(ctx, p.AccountID, *in.ProviderName)
	if err != nil {
		return nil, err
	}
	return struct {
		APIKey string `json:"apiKey"`
	}{key}, nil
}
