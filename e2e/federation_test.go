package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

const audience = "https://api.example.com"

// offsetClock is real time plus an offset the test moves forward. Moved a
// few minutes it expires provider tokens (one minute lifetime) while SigV4
// signatures (five minutes of skew) stay valid; the federation test moves
// it further only for unauthenticated JWKS fetches.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// httpStatus returns the HTTP status of an SDK error.
func httpStatus(t *testing.T, err error) int {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want an HTTP response error, got %v", err)
	}
	return re.HTTPStatusCode()
}

func mint(ctx context.Context, c *sts.Client, alg string, duration int32, aud ...string) (*sts.GetWebIdentityTokenOutput, error) {
	return c.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
		Audience: aud, SigningAlgorithm: aws.String(alg), DurationSeconds: aws.Int32(duration),
	})
}

// stsClaims is the AWS namespace object of a web identity token.
type stsClaims struct {
	Account      string            `json:"aws_account"`
	SourceRegion string            `json:"source_region"`
	RequestTags  map[string]string `json:"request_tags"`
}

// rp is a relying party that knows only the issuer URL: it discovers the
// JWKS over HTTP, like any external service would.
func rp(t *testing.T, ctx context.Context, issuer string, now func() time.Time) *oidc.IDTokenVerifier {
	t.Helper()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discover %s: %v", issuer, err)
	}
	return provider.Verifier(&oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{"ES384", "RS256"}, Now: now})
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES384, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Protected.KeyID
}

func TestWebIdentityFederation(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		clock := &offsetClock{}
		env := servertest.Start(t, servertest.Options{Backend: b, Now: clock.Now})
		ctx := servertest.Context(t)
		iamc, stsc := env.IAM(), env.STS()
		adminARN := arn.IAMUser(env.AccountID, server.AdminUser)

		// Before the account enables federation.
		_, err := iamc.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
		var featureDisabled *iamtypes.FeatureDisabledException
		if !errors.As(err, &featureDisabled) || httpStatus(t, err) != http.StatusNotFound {
			t.Fatalf("info before enable: want FeatureDisabled 404, got %v", err)
		}
		_, err = iamc.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{})
		if !errors.As(err, &featureDisabled) {
			t.Fatalf("disable before enable: want FeatureDisabled, got %v", err)
		}
		_, err = mint(ctx, stsc, "ES384", 300, audience)
		var fedDisabled *ststypes.OutboundWebIdentityFederationDisabledException
		if !errors.As(err, &fedDisabled) || httpStatus(t, err) != http.StatusForbidden {
			t.Fatalf("token before enable: want OutboundWebIdentityFederationDisabledException 403, got %v", err)
		}

		enabled, err := iamc.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
		if err != nil {
			t.Fatalf("enable: %v", err)
		}
		issuer := aws.ToString(enabled.IssuerIdentifier)
		if !strings.HasPrefix(issuer, env.URL+"/sts-issuer/") {
			t.Fatalf("issuer %q is not served by this server (%s)", issuer, env.URL)
		}
		_, err = iamc.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
		var featureEnabled *iamtypes.FeatureEnabledException
		if !errors.As(err, &featureEnabled) || httpStatus(t, err) != http.StatusConflict {
			t.Fatalf("second enable: want FeatureEnabled 409, got %v", err)
		}
		info, err := iamc.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
		if err != nil || aws.ToString(info.IssuerIdentifier) != issuer || !info.JwtVendingEnabled {
			t.Fatalf("info after enable = %+v, %v; want %s, enabled", info, err, issuer)
		}

		verifier := rp(t, ctx, issuer, nil)
		for _, alg := range []string{"ES384", "RS256"} {
			t.Run("ok/"+alg, func(t *testing.T) {
				before := time.Now().Truncate(time.Second)
				out, err := stsc.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
					Audience: []string{audience}, SigningAlgorithm: aws.String(alg),
					Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("travel")}, {Key: aws.String("env"), Value: aws.String("")}},
				})
				if err != nil {
					t.Fatalf("GetWebIdentityToken: %v", err)
				}
				tok, err := verifier.Verify(ctx, aws.ToString(out.WebIdentityToken))
				if err != nil {
					t.Fatalf("relying party rejected the token: %v", err)
				}
				jws, _ := jose.ParseSignedCompact(aws.ToString(out.WebIdentityToken), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if jws == nil || jws.Signatures[0].Protected.Algorithm != alg {
					t.Fatalf("token not signed with %s", alg)
				}
				if tok.Issuer != issuer || tok.Subject != adminARN || len(tok.Audience) != 1 || tok.Audience[0] != audience {
					t.Errorf("iss/sub/aud = %q %q %v", tok.Issuer, tok.Subject, tok.Audience)
				}
				if got := tok.Expiry.Sub(tok.IssuedAt); got != 300*time.Second {
					t.Errorf("exp - iat = %s, want the default 300s", got)
				}
				if tok.IssuedAt.Before(before) || !out.Expiration.Equal(tok.Expiry) {
					t.Errorf("iat %s (minted after %s); Expiration %s vs exp %s", tok.IssuedAt, before, out.Expiration, tok.Expiry)
				}
				var raw map[string]json.RawMessage
				if err := tok.Claims(&raw); err != nil {
					t.Fatal(err)
				}
				var ns stsClaims
				if err := json.Unmarshal(raw["https://sts.amazonaws.com/"], &ns); err != nil {
					t.Fatalf("namespace claim: %v (%s)", err, raw["https://sts.amazonaws.com/"])
				}
				if ns.Account != env.AccountID || ns.SourceRegion != env.Region ||
					len(ns.RequestTags) != 2 || ns.RequestTags["team"] != "travel" || ns.RequestTags["env"] != "" {
					t.Errorf("namespace claim = %+v", ns)
				}
				if len(raw["jti"]) < 10 || string(raw["aud"]) != `"`+audience+`"` {
					t.Errorf("jti = %s, aud = %s (one audience is a string)", raw["jti"], raw["aud"])
				}
			})
		}

		t.Run("ok/several-audiences", func(t *testing.T) {
			out, err := mint(ctx, stsc, "ES384", 300, "https://other.example.com", audience)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := verifier.Verify(ctx, aws.ToString(out.WebIdentityToken))
			if err != nil || len(tok.Audience) != 2 {
				t.Fatalf("verify = %v, audiences %v", err, tok)
			}
		})
		t.Run("fail/other-audience", func(t *testing.T) {
			out, err := mint(ctx, stsc, "ES384", 300, "https://other.example.com")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifier.Verify(ctx, aws.ToString(out.WebIdentityToken)); err == nil || !strings.Contains(err.Error(), "audience") {
				t.Fatalf("token for another audience: err = %v, want an audience error", err)
			}
		})
		t.Run("fail/expired", func(t *testing.T) {
			out, err := mint(ctx, stsc, "RS256", 60, audience)
			if err != nil {
				t.Fatal(err)
			}
			exp := aws.ToTime(out.Expiration)
			if d := time.Until(exp); d > 61*time.Second || d < 50*time.Second {
				t.Fatalf("Expiration %s is not ~60s away", exp)
			}
			late := rp(t, ctx, issuer, func() time.Time { return exp.Add(time.Minute) })
			if _, err := late.Verify(ctx, aws.ToString(out.WebIdentityToken)); err == nil || !strings.Contains(err.Error(), "expired") {
				t.Fatalf("expired token: err = %v, want expired", err)
			}
		})

		caller, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(caller.Arn) != adminARN || aws.ToString(caller.Account) != env.AccountID || aws.ToString(caller.UserId) == "" {
			t.Fatalf("GetCallerIdentity = %+v, %v; want %s", caller, err, adminARN)
		}

		testTokenValidation(t, ctx, stsc)
		roleARN := testScopedKey(t, ctx, env, issuer)
		testAuditTrail(t, ctx, env, adminARN, roleARN)
		testJWKSDocument(t, ctx, issuer)

		// Disable: no new tokens, but tokens issued before still verify.
		earlier, err := mint(ctx, stsc, "ES384", 900, audience)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iamc.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{}); err != nil {
			t.Fatalf("disable: %v", err)
		}
		if _, err = mint(ctx, stsc, "ES384", 300, audience); !errors.As(err, &fedDisabled) {
			t.Fatalf("token after disable: want OutboundWebIdentityFederationDisabledException, got %v", err)
		}
		info, err = iamc.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
		if err != nil || info.JwtVendingEnabled || aws.ToString(info.IssuerIdentifier) != issuer {
			t.Fatalf("info after disable = %+v, %v; want same issuer, JwtVendingEnabled false", info, err)
		}
		if _, err := rp(t, ctx, issuer, nil).Verify(ctx, aws.ToString(earlier.WebIdentityToken)); err != nil {
			t.Fatalf("token issued before disable no longer verifies: %v", err)
		}
		if _, err := iamc.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{}); !errors.As(err, &featureDisabled) {
			t.Fatalf("second disable: want FeatureDisabled, got %v", err)
		}
		again, err := iamc.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
		if err != nil || aws.ToString(again.IssuerIdentifier) != issuer {
			t.Fatalf("re-enable = %v, %v; want the same issuer %s", again, err, issuer)
		}

		testRotation(t, ctx, env, clock, issuer)
	})
}

// testTokenValidation sends inputs the SDK lets through but STS rejects.
func testTokenValidation(t *testing.T, ctx context.Context, c *sts.Client) {
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprintf("https://api%d.example.com", i)
	}
	bigTags := make([]ststypes.Tag, 50)
	for i := range bigTags {
		bigTags[i] = ststypes.Tag{Key: aws.String(fmt.Sprintf("%03d", i) + strings.Repeat("k", 125)), Value: aws.String(strings.Repeat("v", 256))}
	}
	tag := func(k, v string) ststypes.Tag { return ststypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	cases := []struct {
		name       string
		in         sts.GetWebIdentityTokenInput
		wantCode   string
		wantStatus int
		wantText   string
	}{
		{"fail/duration-59", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("ES384"), DurationSeconds: aws.Int32(59)}, "ValidationError", 400, "durationSeconds"},
		{"fail/duration-3601", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("ES384"), DurationSeconds: aws.Int32(3601)}, "ValidationError", 400, "less than or equal to 3600"},
		{"fail/11-audiences", sts.GetWebIdentityTokenInput{Audience: many, SigningAlgorithm: aws.String("ES384")}, "ValidationError", 400, "'audience'"},
		{"fail/no-audience", sts.GetWebIdentityTokenInput{Audience: []string{}, SigningAlgorithm: aws.String("ES384")}, "ValidationError", 400, "greater than or equal to 1"},
		{"fail/audience-too-long", sts.GetWebIdentityTokenInput{Audience: []string{strings.Repeat("a", 1001)}, SigningAlgorithm: aws.String("ES384")}, "ValidationError", 400, "audience.1.member"},
		{"fail/algorithm", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("HS256")}, "ValidationError", 400, "signingAlgorithm"},
		{"fail/tag-key-chars", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("ES384"), Tags: []ststypes.Tag{tag("a*b", "x")}}, "ValidationError", 400, "tags.1.member.key"},
		{"fail/duplicate-tag", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("ES384"), Tags: []ststypes.Tag{tag("Team", "a"), tag("team", "b")}}, "ValidationError", 400, "tags.2.member.key"},
		{"fail/payload-too-large", sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("ES384"), Tags: bigTags}, "JWTPayloadSizeExceededException", 400, "payload"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetWebIdentityToken(ctx, &tc.in)
			if code := apiCode(t, err); code != tc.wantCode {
				t.Fatalf("code = %s, want %s (%v)", code, tc.wantCode, err)
			}
			if s := httpStatus(t, err); s != tc.wantStatus {
				t.Errorf("status = %d, want %d", s, tc.wantStatus)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("message %q does not mention %q", err, tc.wantText)
			}
		})
	}
	var tooBig *ststypes.JWTPayloadSizeExceededException
	if _, err := c.GetWebIdentityToken(ctx, &cases[len(cases)-1].in); !errors.As(err, &tooBig) {
		t.Errorf("payload too large is not the SDK's typed error: %T", err)
	}
}

// testScopedKey checks that a non-admin key may only request the audiences
// it is allowed, and may not flip the account switch. It returns the key's
// principal ARN.
func testScopedKey(t *testing.T, ctx context.Context, env *servertest.Env, issuer string) string {
	roleARN := fmt.Sprintf("arn:aws:sts::%s:assumed-role/AgentCoreExecutionRole/agent-1", env.AccountID)
	k, err := accesskeys.NewService(env.Store, seal.New(env.KEK)).Create(ctx, accesskeys.Key{
		AccountID: env.AccountID, ARN: roleARN, AllowedAudiences: []string{audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	creds := servertest.StaticCredentials(k.AccessKeyID, k.SecretAccessKey)
	stsc := env.STS(func(o *sts.Options) { o.Credentials = creds })
	iamc := env.IAM(func(o *iam.Options) { o.Credentials = creds })

	out, err := mint(ctx, stsc, "ES384", 300, audience)
	if err != nil {
		t.Fatalf("allowed audience: %v", err)
	}
	tok, err := rp(t, ctx, issuer, nil).Verify(ctx, aws.ToString(out.WebIdentityToken))
	if err != nil || tok.Subject != roleARN {
		t.Fatalf("scoped key token: %v, sub %v; want %s", err, tok, roleARN)
	}
	for name, auds := range map[string][]string{
		"fail/other-audience":         {"https://other.example.com"},
		"fail/scoped-one-not-allowed": {audience, "https://other.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mint(ctx, stsc, "ES384", 300, auds...)
			if code := apiCode(t, err); code != "AccessDenied" || httpStatus(t, err) != http.StatusForbidden {
				t.Fatalf("want AccessDenied 403, got %s (%v)", code, err)
			}
		})
	}
	if _, err := iamc.DisableOutboundWebIdentityFederation(ctx, &iam.DisableOutboundWebIdentityFederationInput{}); apiCode(t, err) != "AccessDenied" {
		t.Fatalf("scoped key disabled federation: %v", err)
	}
	if info, err := iamc.GetOutboundWebIdentityFederationInfo(ctx, &iam.GetOutboundWebIdentityFederationInfoInput{}); err != nil || aws.ToString(info.IssuerIdentifier) != issuer {
		t.Fatalf("scoped key reading the issuer: %v", err)
	}
	caller, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(caller.Arn) != roleARN {
		t.Fatalf("GetCallerIdentity of scoped key = %v, %v", caller, err)
	}
	return roleARN
}

// testAuditTrail checks that vends and denials are audited with the
// audiences they were for.
func testAuditTrail(t *testing.T, ctx context.Context, env *servertest.Env, adminARN, roleARN string) {
	events, _, err := audit.NewTrail(env.Store, nil).Lookup(ctx, env.AccountID, audit.Filter{Operation: "GetWebIdentityToken"}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var vended, denied bool
	for _, e := range events {
		vended = vended || (e.Outcome == audit.OutcomeSuccess && e.Principal == adminARN && e.Resource == audience)
		denied = denied || (e.Outcome == audit.OutcomeDenied && e.Principal == roleARN && e.ErrorCode == "AccessDenied" &&
			e.Resource == "https://other.example.com")
	}
	if !vended || !denied {
		t.Fatalf("audit trail: vend recorded %v, denial recorded %v, in %d events", vended, denied, len(events))
	}
}

// testJWKSDocument checks the raw discovery and JWKS responses.
func testJWKSDocument(t *testing.T, ctx context.Context, issuer string) {
	get := func(url, etag string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	resp := get(issuer+"/.well-known/jwks.json", "")
	body, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil || resp.StatusCode != 200 {
		t.Fatalf("JWKS: %d %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("JWKS Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("JWKS Cache-Control = %q", cc)
	}
	algs := map[string]int{}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS publishes a private key (%s)", k.KeyID)
		}
		algs[k.Algorithm]++
	}
	if algs["ES384"] < 1 || algs["RS256"] < 1 {
		t.Errorf("JWKS algorithms = %v", algs)
	}
	if r := get(issuer+"/.well-known/jwks.json", resp.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: status %d, want 304", r.StatusCode)
	}
	unknown := issuer[:strings.LastIndex(issuer, "/")+1] + "00000000-0000-4000-8000-000000000000"
	for _, u := range []string{unknown + "/.well-known/openid-configuration", unknown + "/.well-known/jwks.json"} {
		if r := get(u, ""); r.StatusCode != http.StatusNotFound || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("unknown issuer %s: %d %s, want 404 JSON", u, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
}

// testRotation rotates the keys the way an admin command would and checks
// that the old key verifies until its grace period ends, then disappears.
func testRotation(t *testing.T, ctx context.Context, env *servertest.Env, clock *offsetClock, issuer string) {
	stsc := env.STS()
	mintedAt := time.Now()
	old, err := mint(ctx, stsc, "ES384", 3600, audience)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.RotateWebIdentityKeys(ctx, env.Store, env.KEK, env.AccountID, clock.Now); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	fresh, err := mint(ctx, stsc, "ES384", 3600, audience)
	if err != nil {
		t.Fatal(err)
	}
	oldKID, newKID := kidOf(t, aws.ToString(old.WebIdentityToken)), kidOf(t, aws.ToString(fresh.WebIdentityToken))
	if oldKID == newKID {
		t.Fatal("tokens minted after a rotation use the old key")
	}
	// The relying party's clock stays at mint time, so expiry is not what
	// rejects the old token below: the missing key is.
	atMint := func() time.Time { return mintedAt.Add(time.Minute) }
	v := rp(t, ctx, issuer, atMint)
	for name, tok := range map[string]string{"old": aws.ToString(old.WebIdentityToken), "new": aws.ToString(fresh.WebIdentityToken)} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("%s token right after rotation: %v", name, err)
		}
	}

	clock.Advance(time.Hour + 5*time.Minute + time.Second)
	v = rp(t, ctx, issuer, atMint)
	if _, err := v.Verify(ctx, aws.ToString(old.WebIdentityToken)); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("token of a key past its grace period: err = %v, want a signature error", err)
	}
	if _, err := v.Verify(ctx, aws.ToString(fresh.WebIdentityToken)); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}
}
