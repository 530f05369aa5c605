package server

import "context"

// mountDataPlane adds the AgentCore data plane: workload access tokens,
// credential vending and the OAuth2 user-consent flow.
func mountDataPlane(_ context.Context, _ *mounts) error {
	return nil
}
