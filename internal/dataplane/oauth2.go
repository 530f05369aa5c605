package dataplane

import (
	"context"
	"fmt"
	"regexp"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/validate"
	"github.com/agentcore-identity/agentcore/internal/wat"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// OAuth2 flow names (Oauth2FlowType).
const (
	flowUserFederation = "USER_FEDERATION"
	flowM2M            = "M2M"
	flowOnBehalfOf     = "ON_BEHALF_OF_TOKEN_EXCHANGE"
)

// Constraints of GetResourceOauth2Token from the model; the counts the
// model leaves open are bounded here to keep sessions small.
var sessionURIRE = regexp.MustCompile(`^urn:ietf:params:oauth:request_uri:[a-zA-Z0-9\-._~]+$`)

const (
	maxScopes       = 100
	maxCustomParams = 50
	maxTargets      = 20 // resources and audiences each
)

type oauth2TokenInput struct {
	WorkloadIdentityToken *string           `json:"workloadIdentityToken"`
	ProviderName          *string           `json:"resourceCredentialProviderName"`
	Scopes                *[]string         `json:"scopes"`
	Flow                  *string           `json:"oauth2Flow"`
	SessionURI            *string           `json:"sessionUri"`
	ReturnURL             *string           `json:"resourceOauth2ReturnUrl"`
	ForceAuthentication   *bool             `json:"forceAuthentication"`
	CustomParameters      map[string]string `json:"customParameters"`
	CustomState           *string           `json:"customState"`
	Resources             []string          `json:"resources"`
	Audiences             []string          `json:"audiences"`
}

type oauth2TokenOutput struct {
	AuthorizationURL string `json:"authorizationUrl,omitempty"`
	AccessToken      string `json:"accessToken,omitempty"`
	SessionURI       string `json:"sessionUri,omitempty"`
	SessionStatus    string `json:"sessionStatus,omitempty"`
}

func (in *oauth2TokenInput) validate(v *validate.Errors) {
	if v.Required("resourceCredentialProviderName", in.ProviderName != nil) {
		v.String("resourceCredentialProviderName", *in.ProviderName, 1, 128, providerNameRE)
	}
	if v.Required("scopes", in.Scopes != nil) && v.Count("scopes", len(*in.Scopes), 0, maxScopes) {
		for i, s := range *in.Scopes {
			if !v.String(fmt.Sprintf("scopes.%d", i+1), s, 1, 128, nil) {
				break
			}
		}
	}
	if v.Required("oauth2Flow", in.Flow != nil) {
		v.OneOf("oauth2Flow", *in.Flow, flowUserFederation, flowM2M, flowOnBehalfOf)
	}
	v.OptString("sessionUri", in.SessionURI, 1, 1024, sessionURIRE)
	v.OptString("resourceOauth2ReturnUrl", in.ReturnURL, 1, 2048, workload.ReturnURLRE)
	v.OptString("customState", in.CustomState, 0, 4096, nil)
	if v.Count("customParameters", len(in.CustomParameters), 0, maxCustomParams) {
		for k, val := range in.CustomParameters {
			if !v.String("customParameters.key", k, 1, 256, nil) || !v.String("customParameters.value", val, 0, 2048, nil) {
				break
			}
		}
	}
	for _, t := range []struct {
		name string
		list []string
	}{{"resources", in.Resources}, {"audiences", in.Audiences}} {
		if name, list := t.name, t.list; v.Count(name, len(list), 0, maxTargets) {
			for i, s := range list {
				if !v.String(fmt.Sprintf("%s.%d", name, i+1), s, 1, 2048, nil) {
					break
				}
			}
		}
	}
}

func (h *Handlers) getResourceOAuth2Token(ctx context.Context, req *awsproto.Request) (any, error) {
	var in oauth2TokenInput
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	in.validate(&v)
	if in.ProviderName != nil {
		audit.Note(ctx, audit.Details{Provider: *in.ProviderName})
	}
	caller, wl, err := h.verifyWAT(ctx, p.AccountID, in.WorkloadIdentityToken, str(in.ProviderName), &v)
	if err != nil {
		return nil, err
	}
	if *in.Flow == flowOnBehalfOf {
		return nil, awserr.Field(awserr.FieldError{Name: "oauth2Flow",
			Message: "ON_BEHALF_OF_TOKEN_EXCHANGE is not supported by this server yet; use USER_FEDERATION or M2M"})
	}
	prov, err := h.Providers.ResolveOAuth2(ctx, p.AccountID, *in.ProviderName)
	if err != nil {
		return nil, err
	}
	r := tokenvault.Request{
		Caller: caller, Workload: wl, Provider: prov,
		Scopes: *in.Scopes, Resources: in.Resources, Audiences: in.Audiences,
		SessionURI: str(in.SessionURI), ReturnURL: str(in.ReturnURL),
		ForceAuthentication: in.ForceAuthentication != nil && *in.ForceAuthentication,
		CustomState:         str(in.CustomState), CustomParameters: in.CustomParameters,
	}
	var res tokenvault.Result
	if *in.Flow == flowM2M {
		res, err = h.OAuth2.M2M(ctx, r)
	} else {
		res, err = h.OAuth2.UserFederation(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return oauth2TokenOutput{AuthorizationURL: res.AuthorizationURL, AccessToken: res.AccessToken,
		SessionURI: res.SessionURI, SessionStatus: res.SessionStatus}, nil
}

func (h *Handlers) completeResourceTokenAuth(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		SessionURI     *string `json:"sessionUri"`
		UserIdentifier *struct {
			UserToken *string `json:"userToken"`
			UserID    *string `json:"userId"`
		} `json:"userIdentifier"`
	}
	p, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	if v.Required("sessionUri", in.SessionURI != nil) {
		v.String("sessionUri", *in.SessionURI, 1, 1024, sessionURIRE)
	}
	var artifact string
	var isToken bool
	if v.Required("userIdentifier", in.UserIdentifier != nil) {
		switch id := in.UserIdentifier; {
		case (id.UserToken == nil) == (id.UserID == nil):
			v.Add("userIdentifier", "Exactly one of userToken and userId must be set")
		case id.UserToken != nil:
			v.String("userIdentifier.userToken", *id.UserToken, 1, 131072, userTokenRE)
			artifact, isToken = *id.UserToken, true
		default:
			v.String("userIdentifier.userId", *id.UserID, 1, 128, nil)
			artifact = *id.UserID
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	info, err := h.OAuth2.Session(ctx, p.AccountID, *in.SessionURI, artifact)
	if err != nil {
		return nil, err
	}
	audit.Note(ctx, audit.Details{Workload: info.Workload, User: info.UserID, Provider: info.Provider})
	if isToken != (info.Source == wat.SourceJWT) {
		return nil, awserr.AccessDenied("Invalid or expired session")
	}
	if isToken {
		wl, err := h.Workloads.Get(ctx, p.AccountID, info.Workload)
		if err != nil {
			return nil, awserr.AccessDenied("Invalid or expired session")
		}
		// The token was valid when the flow started; it must still be, so
		// that an expired or revoked sign-in cannot finish a consent.
		if wl.Authorizer != nil && h.JWT != nil {
			if _, err := h.validateUserToken(ctx, wl, artifact); err != nil {
				return nil, err
			}
		}
	}
	if err := h.OAuth2.Complete(ctx, p.AccountID, *in.SessionURI, artifact); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
