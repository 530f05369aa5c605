package tokenvault

import (
	"context"
	"fmt"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Size counts the live records of the token vault by store kind: users'
// tokens (UserTokenKind, stored under an account per user and provider),
// cached client-credentials tokens (M2MTokenKind) and 3LO sessions not yet
// expired (SessionKind). It counts the whole store, not one account: every
// replica then reports the same figure for the shared vault.
func Size(ctx context.Context, st store.Store) (map[string]int, error) {
	out := map[string]int{}
	for _, kind := range []string{UserTokenKind, M2MTokenKind, SessionKind} {
		n, err := st.CountKind(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", kind, err)
		}
		out[kind] = n
	}
	return out, nil
}
