package cognitoapi

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/devidp"
)

type poolRef struct {
	UserPoolID string `json:"UserPoolId"`
}

type userPoolType struct {
	ID                    string          `json:"Id"`
	Name                  string          `json:"Name"`
	Arn                   string          `json:"Arn"`
	Status                string          `json:"Status,omitempty"`
	Domain                *string         `json:"Domain,omitempty"`
	CreationDate          *awsproto.Epoch `json:"CreationDate,omitempty"`
	LastModifiedDate      *awsproto.Epoch `json:"LastModifiedDate,omitempty"`
	AdminCreateUserConfig *adminCreateCfg `json:"AdminCreateUserConfig,omitempty"`
}

type adminCreateCfg struct {
	AllowAdminCreateUserOnly bool `json:"AllowAdminCreateUserOnly"`
}

func poolOut(p devidp.Pool) userPoolType {
	return userPoolType{ID: p.ID, Name: p.Name, Arn: p.ARN(), Domain: ptr(p.Domain), Status: "Enabled",
		CreationDate: epoch(p.Created), LastModifiedDate: epoch(p.Modified),
		AdminCreateUserConfig: &adminCreateCfg{AllowAdminCreateUserOnly: p.AdminCreateUserOnly}}
}

type createUserPoolIn struct {
	PoolName              string          `json:"PoolName"`
	AdminCreateUserConfig *adminCreateCfg `json:"AdminCreateUserConfig"`
}

func (h *Handlers) createUserPool(ctx context.Context, account string, in *createUserPoolIn) (any, error) {
	adminOnly := in.AdminCreateUserConfig != nil && in.AdminCreateUserConfig.AllowAdminCreateUserOnly
	p, err := h.IdP.CreatePool(ctx, account, in.PoolName, adminOnly)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": poolOut(p)}, nil
}

func (h *Handlers) describeUserPool(ctx context.Context, account string, in *poolRef) (any, error) {
	p, err := h.IdP.Pool(ctx, account, in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": poolOut(p)}, nil
}

type listUserPoolsIn struct {
	MaxResults int     `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

func (h *Handlers) listUserPools(ctx context.Context, account string, in *listUserPoolsIn) (any, error) {
	after, err := awsproto.DecodeToken("NextToken", in.NextToken)
	if err != nil {
		return nil, devidp.InvalidParameter("Invalid NextToken.")
	}
	pools, next, err := h.IdP.ListPools(ctx, account, after, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := make([]userPoolType, len(pools))
	for i, p := range pools {
		out[i] = userPoolType{ID: p.ID, Name: p.Name, Status: "Enabled", CreationDate: epoch(p.Created), LastModifiedDate: epoch(p.Modified)}
	}
	return struct {
		UserPools []userPoolType `json:"UserPools"`
		NextToken *string        `json:"NextToken,omitempty"`
	}{out, awsproto.EncodeToken(next)}, nil
}

func (h *Handlers) deleteUserPool(ctx context.Context, account string, in *poolRef) (any, error) {
	return nil, h.IdP.DeletePool(ctx, account, in.UserPoolID)
}

type domainIn struct {
	Domain     string `json:"Domain"`
	UserPoolID string `json:"UserPoolId"`
}

func (h *Handlers) createDomain(ctx context.Context, account string, in *domainIn) (any, error) {
	if err := required("domain", in.Domain); err != nil {
		return nil, err
	}
	return nil, h.IdP.CreateDomain(ctx, account, in.UserPoolID, in.Domain)
}

func (h *Handlers) describeDomain(ctx context.Context, account string, in *domainIn) (any, error) {
	d, err := h.IdP.DescribeDomain(ctx, account, in.Domain)
	if err != nil {
		return nil, err
	}
	desc := map[string]any{}
	if d.Domain != "" {
		desc = map[string]any{"Domain": d.Domain, "UserPoolId": d.PoolID, "AWSAccountId": d.Account,
			"Status": "ACTIVE", "Version": "1", "CloudFrontDistribution": d.Domain + ".local"}
	}
	return map[string]any{"DomainDescription": desc}, nil
}

func (h *Handlers) deleteDomain(ctx context.Context, account string, in *domainIn) (any, error) {
	return nil, h.IdP.DeleteDomain(ctx, account, in.UserPoolID, in.Domain)
}

type resourceServerIn struct {
	UserPoolID string `json:"UserPoolId"`
	Identifier string `json:"Identifier"`
	Name       string `json:"Name"`
	Scopes     []struct {
		ScopeName        string `json:"ScopeName"`
		ScopeDescription string `json:"ScopeDescription"`
	} `json:"Scopes"`
}

func (h *Handlers) createResourceServer(ctx context.Context, account string, in *resourceServerIn) (any, error) {
	rs := devidp.ResourceServer{PoolID: in.UserPoolID, Identifier: in.Identifier, Name: in.Name}
	for _, s := range in.Scopes {
		rs.Scopes = append(rs.Scopes, devidp.Scope{Name: s.ScopeName, Description: s.ScopeDescription})
	}
	rs, err := h.IdP.CreateResourceServer(ctx, account, rs)
	if err != nil {
		return nil, err
	}
	scopes := make([]map[string]string, len(rs.Scopes))
	for i, s := range rs.Scopes {
		scopes[i] = map[string]string{"ScopeName": s.Name, "ScopeDescription": s.Description}
	}
	return map[string]any{"ResourceServer": map[string]any{"UserPoolId": rs.PoolID, "Identifier": rs.Identifier,
		"Name": rs.Name, "Scopes": scopes}}, nil
}

type attribute struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type userIn struct {
	UserPoolID        string      `json:"UserPoolId"`
	Username          string      `json:"Username"`
	TemporaryPassword string      `json:"TemporaryPassword"`
	MessageAction     string      `json:"MessageAction"`
	UserAttributes    []attribute `json:"UserAttributes"`
	Password          string      `json:"Password"`
	Permanent         bool        `json:"Permanent"`
}

func attributes(u devidp.User) []attribute {
	out := []attribute{{Name: "sub", Value: u.Sub}}
	for k, v := range u.Attributes {
		out = append(out, attribute{Name: k, Value: v})
	}
	return out
}

// adminCreateUser never sends messages: MessageAction SUPPRESS and RESEND
// are accepted and mean the same here.
func (h *Handlers) adminCreateUser(ctx context.Context, account string, in *userIn) (any, error) {
	if err := required("username", in.Username); err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for _, a := range in.UserAttributes {
		attrs[a.Name] = a.Value
	}
	u, err := h.IdP.CreateUser(ctx, account, in.UserPoolID, in.Username, in.TemporaryPassword, attrs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": map[string]any{"Username": u.Username, "Attributes": attributes(u),
		"UserCreateDate": epoch(u.Created), "UserLastModifiedDate": epoch(u.Modified),
		"Enabled": u.Enabled, "UserStatus": u.Status}}, nil
}

func (h *Handlers) adminSetUserPassword(ctx context.Context, account string, in *userIn) (any, error) {
	if err := required("password", in.Password); err != nil {
		return nil, err
	}
	return nil, h.IdP.SetUserPassword(ctx, account, in.UserPoolID, in.Username, in.Password, in.Permanent)
}

func (h *Handlers) adminGetUser(ctx context.Context, account string, in *userIn) (any, error) {
	u, err := h.IdP.User(ctx, account, in.UserPoolID, in.Username)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Username": u.Username, "UserAttributes": attributes(u), "Enabled": u.Enabled,
		"UserStatus": u.Status, "UserCreateDate": epoch(u.Created), "UserLastModifiedDate": epoch(u.Modified)}, nil
}

func (h *Handlers) adminDeleteUser(ctx context.Context, account string, in *userIn) (any, error) {
	return nil, h.IdP.DeleteUser(ctx, account, in.UserPoolID, in.Username)
}

type initiateAuthIn struct {
	AuthFlow       string            `json:"AuthFlow"`
	ClientID       string            `json:"ClientId"`
	AuthParameters map[string]string `json:"AuthParameters"`
}

func (h *Handlers) initiateAuth(ctx context.Context, _ string, in *initiateAuthIn) (any, error) {
	if err := required("clientId", in.ClientID); err != nil {
		return nil, err
	}
	res, err := h.IdP.InitiateAuth(ctx, in.AuthFlow, in.ClientID, in.AuthParameters)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ChallengeParameters": map[string]string{}, "AuthenticationResult": map[string]any{
		"AccessToken": res.AccessToken, "IdToken": res.IDToken, "RefreshToken": ptr(res.RefreshToken),
		"ExpiresIn": res.ExpiresIn, "TokenType": "Bearer"}}, nil
}

// respondToAuthChallenge exists so the public route reaches a Cognito
// error: InitiateAuth never issues a challenge here.
func (h *Handlers) respondToAuthChallenge(context.Context, string, *struct{}) (any, error) {
	return nil, devidp.InvalidParameter("Invalid session: this identity provider issues no authentication challenges.")
}
