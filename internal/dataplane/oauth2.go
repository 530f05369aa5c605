package dataplane

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
)

// OAuth2Flows runs resource OAuth2 token flows. (Placeholder: the M2M and
// user-federation flows replace this file.)
type OAuth2Flows interface{}

func (h *Handlers) getResourceOAuth2Token(context.Context, *awsproto.Request) (any, error) {
	return nil, awserr.Validation("GetResourceOauth2Token is not available yet.")
}

func (h *Handlers) completeResourceTokenAuth(context.Context, *awsproto.Request) (any, error) {
	return nil, awserr.Validation("CompleteResourceTokenAuth is not available yet.")
}
