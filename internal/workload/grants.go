package workload

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/agentcore-identity/agentcore/internal/validate"
)

// GrantsMember names the provider grants in validation errors.
const GrantsMember = "identityGrants.credentialProviders"

var providerNameRE = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)

// WithProviderGrants limits which credential providers the workload may
// vend from. nil leaves the identity unrestricted (any provider of the
// account, as for identities made through the plain AWS API); an empty,
// non-nil list grants none. An agent runtime sets the list from the
// providers its configuration names.
func WithProviderGrants(names []string) Option {
	return Option{
		validate: func(v *validate.Errors) {
			v.Count(GrantsMember, len(names), 0, 100)
			for i, n := range names {
				v.String(fmt.Sprintf("%s.%d", GrantsMember, i+1), n, 1, 128, providerNameRE)
			}
		},
		apply: func(d *doc) {
			if names == nil {
				d.Grants = nil
				return
			}
			d.Grants = slices.Clone(names)
		},
	}
}

// MayUse reports whether the identity may vend credentials of provider.
func (id Identity) MayUse(provider string) bool {
	return id.ProviderGrants == nil || slices.Contains(id.ProviderGrants, provider)
}
