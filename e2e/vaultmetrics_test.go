package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

var vaultGaugeRE = regexp.MustCompile(`(?m)^agentcore_token_vault_records\{kind="([^"]+)"\} (\S+)$`)

// vaultGauge reads agentcore_token_vault_records by kind from /metrics.
func (x *vendEnv) vaultGauge() map[string]float64 {
	x.t.Helper()
	out := map[string]float64{}
	for _, m := range vaultGaugeRE.FindAllStringSubmatch(x.metrics(), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			x.t.Fatalf("gauge value %q: %v", m[2], err)
		}
		out[m[1]] = v
	}
	return out
}

// TestVaultSizeGauge: the vault gauge follows M2M vends, 3LO sessions and
// users' tokens
// once its short cache has passed.
func TestVaultSizeGauge(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b, "alice")
		const m2m, session, user = "oauth2-m2m-token", "oauth2-session", "oauth2-user-token"
		steps := []struct {
			name string
			act  func()
			want map[string]float64
		}{
			{"ok/empty vault", func() {}, map[string]float64{m2m: 0, session: 0, user: 0}},
			{"ok/after an M2M vend", func() {
				out, err := x.d.GetResourceOauth2Token(x.ctx, &dp.GetResourceOauth2TokenInput{
					WorkloadIdentityToken: x.wat("agent-a", ""), ResourceCredentialProviderName: aws.String(idpProvider),
					Scopes: []string{"read"}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m})
				if err != nil || out.AccessToken == nil {
					t.Fatalf("M2M vend: %+v %v", out, err)
				}
			}, map[string]float64{m2m: 1, session: 0, user: 0}},
			{"ok/after a 3LO start", func() {
				out, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(x.wat("agent-a", "alice-id")))
				if err != nil || out.SessionUri == nil {
					t.Fatalf("3LO start: %+v %v", out, err)
				}
			}, map[string]float64{m2m: 1, session: 1, user: 0}},
			// The user's token lives under a store account of its own (per
			// user and provider); the gauge counts across accounts.
			{"ok/after consent", func() { x.consent("agent-a", "alice-id", "alice") },
				map[string]float64{m2m: 1, user: 1}},
		}
		for _, s := range steps {
			s.act()
			// Within the gauge's cache the old count is served; after it
			// the vault is counted again.
			x.clock.Advance(11 * time.Second)
			got := x.vaultGauge()
			for kind, want := range s.want {
				if v, ok := got[kind]; !ok || v != want {
					t.Fatalf("%s: gauge %s = %v (present %v), want %v", s.name, kind, v, ok, want)
				}
			}
		}
	})
}
