package config

import (
	"strings"
	"testing"
)

func TestRateLimitScope(t *testing.T) {
	cases := []struct {
		name    string
		store   string
		scope   string
		want    string // effective scope when valid
		wantErr string // substring of the Validate error
	}{
		{"sqlite default", StoreSQLite, "", RateLimitLocal, ""},
		{"postgres default", StorePostgres, "", RateLimitCluster, ""},
		{"postgres local", StorePostgres, RateLimitLocal, RateLimitLocal, ""},
		{"sqlite cluster", StoreSQLite, RateLimitCluster, RateLimitCluster, ""},
		{"unknown", StorePostgres, "global", "", `rate-limit-scope "global": must be local`},
		{"wrong case", StoreSQLite, "Cluster", "", `rate-limit-scope "Cluster"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Store = tc.store
			c.DatabaseURL = "postgres://db/agentcore"
			c.RateLimits.Scope = tc.scope
			err := c.Validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Validate = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := c.EffectiveRateLimitScope(); got != tc.want {
				t.Errorf("EffectiveRateLimitScope = %q, want %q", got, tc.want)
			}
		})
	}
}
