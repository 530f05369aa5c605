package cognitoapi

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/devidp"
)

type clientIn struct {
	UserPoolID                      string   `json:"UserPoolId"`
	ClientID                        string   `json:"ClientId"`
	ClientName                      string   `json:"ClientName"`
	GenerateSecret                  bool     `json:"GenerateSecret"`
	ExplicitAuthFlows               []string `json:"ExplicitAuthFlows"`
	AllowedOAuthFlows               []string `json:"AllowedOAuthFlows"`
	AllowedOAuthScopes              []string `json:"AllowedOAuthScopes"`
	AllowedOAuthFlowsUserPoolClient bool     `json:"AllowedOAuthFlowsUserPoolClient"`
	CallbackURLs                    []string `json:"CallbackURLs"`
	LogoutURLs                      []string `json:"LogoutURLs"`
	SupportedIdentityProviders      []string `json:"SupportedIdentityProviders"`
}

func (in *clientIn) spec() devidp.ClientSpec {
	return devidp.ClientSpec{
		Name: in.ClientName, GenerateSecret: in.GenerateSecret, ExplicitAuthFlows: in.ExplicitAuthFlows,
		AllowedOAuthFlows: in.AllowedOAuthFlows, AllowedOAuthScopes: in.AllowedOAuthScopes,
		OAuthEnabled: in.AllowedOAuthFlowsUserPoolClient, CallbackURLs: in.CallbackURLs,
		LogoutURLs: in.LogoutURLs, SupportedIdentityProviders: in.SupportedIdentityProviders,
	}
}

// clientOut is UserPoolClientType; the secret is returned, as Cognito
// does on create and describe.
func clientOut(c devidp.Client, secret string) map[string]any {
	return map[string]any{"UserPoolClient": map[string]any{
		"UserPoolId": c.PoolID, "ClientId": c.ID, "ClientName": c.Name, "ClientSecret": ptr(secret),
		"ExplicitAuthFlows": c.ExplicitAuthFlows, "AllowedOAuthFlows": c.AllowedOAuthFlows,
		"AllowedOAuthScopes": c.AllowedOAuthScopes, "AllowedOAuthFlowsUserPoolClient": c.OAuthEnabled,
		"CallbackURLs": c.CallbackURLs, "LogoutURLs": c.LogoutURLs,
		"SupportedIdentityProviders": c.SupportedIdentityProviders,
		"CreationDate":               epoch(c.Created), "LastModifiedDate": epoch(c.Modified),
		"RefreshTokenValidity": 30, "EnableTokenRevocation": true,
	}}
}

func (h *Handlers) createClient(ctx context.Context, account string, in *clientIn) (any, error) {
	c, secret, err := h.IdP.CreateClient(ctx, account, in.UserPoolID, in.spec())
	if err != nil {
		return nil, err
	}
	return clientOut(c, secret), nil
}

func (h *Handlers) describeClient(ctx context.Context, account string, in *clientIn) (any, error) {
	c, secret, err := h.IdP.Client(ctx, account, in.UserPoolID, in.ClientID)
	if err != nil {
		return nil, err
	}
	return clientOut(c, secret), nil
}

func (h *Handlers) updateClient(ctx context.Context, account string, in *clientIn) (any, error) {
	c, secret, err := h.IdP.UpdateClient(ctx, account, in.UserPoolID, in.ClientID, in.spec())
	if err != nil {
		return nil, err
	}
	return clientOut(c, secret), nil
}

func (h *Handlers) deleteClient(ctx context.Context, account string, in *clientIn) (any, error) {
	return nil, h.IdP.DeleteClient(ctx, account, in.UserPoolID, in.ClientID)
}
