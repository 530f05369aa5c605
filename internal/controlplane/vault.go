package controlplane

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

type tokenVaultOutput struct {
	TokenVaultID     string                      `json:"tokenVaultId"`
	KMSConfiguration tokenvault.KMSConfiguration `json:"kmsConfiguration"`
	LastModifiedDate awsproto.Epoch              `json:"lastModifiedDate"`
}

func toVaultOutput(v tokenvault.Vault) tokenVaultOutput {
	return tokenVaultOutput{TokenVaultID: v.ID, KMSConfiguration: v.KMS, LastModifiedDate: awsproto.Epoch(v.LastModifiedAt)}
}

func (h *Handlers) getTokenVault(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		TokenVaultID *string `json:"tokenVaultId"`
	}
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	v, err := h.Vault.Get(ctx, acct, str(in.TokenVaultID))
	if err != nil {
		return nil, err
	}
	return toVaultOutput(v), nil
}

func (h *Handlers) setTokenVaultCMK(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		TokenVaultID     *string                      `json:"tokenVaultId"`
		KMSConfiguration *tokenvault.KMSConfiguration `json:"kmsConfiguration"`
	}
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	v, err := h.Vault.SetCMK(ctx, acct, str(in.TokenVaultID), in.KMSConfiguration)
	if err != nil {
		return nil, err
	}
	return toVaultOutput(v), nil
}

func (h *Handlers) tagResource(ctx context.Context, req *awsproto.Request) (any, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	return nil, h.Tags.Tag(ctx, acct, req.Label("resourceArn"), in.Tags)
}

func (h *Handlers) untagResource(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	keys := req.HTTP.URL.Query()["tagKeys"]
	var v validate.Errors
	v.Required("tagKeys", len(keys) > 0)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return nil, h.Tags.Untag(ctx, acct, req.Label("resourceArn"), keys)
}

func (h *Handlers) listTagsForResource(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := h.Tags.List(ctx, acct, req.Label("resourceArn"))
	if err != nil {
		return nil, err
	}
	return struct {
		Tags map[string]string `json:"tags"`
	}{tags}, nil
}
