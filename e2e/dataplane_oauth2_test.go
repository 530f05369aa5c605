package e2e

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

func TestResourceOAuth2M2M(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b)
		m2m := func(wat *string, scopes ...string) *dp.GetResourceOauth2TokenInput {
			return &dp.GetResourceOauth2TokenInput{WorkloadIdentityToken: wat, ResourceCredentialProviderName: aws.String(idpProvider),
				Scopes: scopes, Oauth2Flow: dptypes.Oauth2FlowTypeM2m}
		}
		agent := x.wat("agent-a", "")
		first, err := x.d.GetResourceOauth2Token(x.ctx, m2m(agent, "read"))
		if err != nil || first.AccessToken == nil || first.AuthorizationUrl != nil {
			t.Fatalf("M2M: %+v %v", first, err)
		}
		x.verify(aws.ToString(first.AccessToken), idpClientID) // a client-credentials token is the client's own
		grants := func() int { return x.idp.TokenCalls(oidctest.GrantClientCredentials) }
		steps := []struct {
			name   string
			in     *dp.GetResourceOauth2TokenInput
			same   bool
			grants int
		}{
			{"ok/cached", m2m(agent, "read"), true, 1},
			{"ok/cached-for-a-user-token-of-the-workload", m2m(x.wat("agent-a", "alice-id"), "read"), true, 1},
			{"ok/other-scopes", m2m(agent, "read", "write"), false, 2},
			{"ok/other-workload", m2m(x.wat("agent-b", ""), "read"), false, 3},
		}
		for _, s := range steps {
			out, err := x.d.GetResourceOauth2Token(x.ctx, s.in)
			if err != nil || (aws.ToString(out.AccessToken) == aws.ToString(first.AccessToken)) != s.same || grants() != s.grants {
				t.Fatalf("%s: err=%v same=%v grants=%d", s.name, err, aws.ToString(out.AccessToken) == aws.ToString(first.AccessToken), grants())
			}
		}
		x.clock.Advance(2 * time.Minute)
		if out, err := x.d.GetResourceOauth2Token(x.ctx, m2m(agent, "read")); err != nil ||
			aws.ToString(out.AccessToken) == aws.ToString(first.AccessToken) || grants() != 4 {
			t.Fatalf("ok/expired: err=%v grants=%d", err, grants())
		}
	})
}

func TestResourceOAuth2Errors(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b, "alice")
		ctx, d := x.ctx, x.d
		alice := x.wat("agent-a", "alice-id")
		var ve *dptypes.ValidationException
		var ad *dptypes.AccessDeniedException
		var nf *dptypes.ResourceNotFoundException
		cases := []struct {
			name    string
			in      *dp.GetResourceOauth2TokenInput
			want    any
			message string
		}{
			{"fail/return-url-not-allowed", x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
				in.ResourceOauth2ReturnUrl = aws.String("https://evil.test/steal")
			}), &ve, "resourceOauth2ReturnUrl"},
			{"fail/return-url-missing", x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) { in.ResourceOauth2ReturnUrl = nil }),
				&ve, "You must provide a ResourceOauth2ReturnUrl to proceed with this flow"},
			{"fail/workload-without-return-urls", x.userFed(x.wat("no-return-urls", "alice-id")),
				&ve, "You must register and use at least one ResourceOauth2ReturnUrl on your workload identity"},
			{"fail/no-user-in-token", x.userFed(x.wat("agent-a", "")), &ve, "USER_FEDERATION"},
			{"fail/unknown-provider", x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
				in.ResourceCredentialProviderName = aws.String("nope")
			}), &nf, "nope"},
			{"fail/bad-session-uri", x.userFed(alice, withSessionURI(aws.String("urn:other"))), &ve, "sessionUri"},
			{"fail/on-behalf-of", x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
				in.Oauth2Flow = dptypes.Oauth2FlowTypeOnBehalfOfTokenExchange
			}), &ve, "oauth2Flow"},
			{"fail/bad-wat", x.userFed(aws.String("wat1.forged")), &ad, "workload access token"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				x.env.Unchanged(t, func() {
					_, err := d.GetResourceOauth2Token(ctx, tc.in)
					if !errors.As(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
						t.Fatalf("got %v, want %T mentioning %q", err, tc.want, tc.message)
					}
				})
			})
		}
		completeCases := []struct {
			name string
			uri  string
			want any
		}{
			{"fail/complete-malformed-session", "not-a-urn", &ve},
			{"fail/complete-unknown-session", "urn:ietf:params:oauth:request_uri:" + strings.Repeat("A", 43), &ad},
		}
		for _, tc := range completeCases {
			t.Run(tc.name, func(t *testing.T) {
				x.env.Unchanged(t, func() {
					_, err := d.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: aws.String(tc.uri),
						UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "alice-id"}})
					if !errors.As(err, tc.want) {
						t.Errorf("got %v, want %T", err, tc.want)
					}
				})
			})
		}

		// The provider refuses (the user clicked "deny"): the flow fails
		// and the application learns why.
		denied, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
			in.CustomState = aws.String("s-1")
		}))
		if err != nil {
			t.Fatal(err)
		}
		toIdP := x.fetch(noFollow, http.MethodGet, aws.ToString(denied.AuthorizationUrl), nil)
		loc, err := url.Parse(toIdP.header.Get("Location"))
		if toIdP.status != http.StatusFound || err != nil {
			t.Fatalf("authorize: %d %v", toIdP.status, err)
		}
		back := x.fetch(noFollow, http.MethodGet, x.callback+"?"+url.Values{
			"state": {loc.Query().Get("state")}, "error": {"access_denied"}}.Encode(), nil)
		ret, _ := url.Parse(back.header.Get("Location"))
		if back.status != http.StatusFound || !strings.HasPrefix(ret.String(), x.returnTo+"?") ||
			ret.Query().Get("error") != "access_denied" || ret.Query().Get("session_id") != aws.ToString(denied.SessionUri) ||
			ret.Query().Get("custom_state") != "s-1" {
			t.Fatalf("callback with error: %d %s", back.status, ret)
		}
		poll, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, withSessionURI(denied.SessionUri)))
		if err != nil || poll.SessionStatus != dptypes.SessionStatusFailed || poll.AccessToken != nil {
			t.Fatalf("poll of a denied session: %+v %v", poll, err)
		}

		// A session nobody finishes expires: its link is dead, polls say
		// FAILED and it cannot be completed.
		stale, err := d.GetResourceOauth2Token(ctx, x.userFed(alice))
		if err != nil {
			t.Fatal(err)
		}
		x.clock.Advance(11 * time.Minute)
		expired := x.fetch(noFollow, http.MethodGet, aws.ToString(stale.AuthorizationUrl), nil)
		if expired.status != http.StatusBadRequest || !strings.Contains(expired.body, "Invalid request") {
			t.Fatalf("expired link: %d %s", expired.status, expired.body)
		}
		if _, err := x.env.Store.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		x.clock.Advance(-11 * time.Minute) // back within SigV4's clock skew
		poll, err = d.GetResourceOauth2Token(ctx, x.userFed(alice, withSessionURI(stale.SessionUri)))
		if err != nil || poll.SessionStatus != dptypes.SessionStatusFailed {
			t.Fatalf("poll of an expired session: %+v %v", poll, err)
		}
		_, err = d.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{SessionUri: stale.SessionUri,
			UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "alice-id"}})
		if !errors.As(err, &ad) {
			t.Fatalf("complete of an expired session: %v", err)
		}

		// Error pages never reflect their input, and change nothing.
		var evil, cb page
		x.env.Unchanged(t, func() {
			evil = x.fetch(noFollow, http.MethodGet, x.env.URL+"/identities/oauth2/authorize?request_uri="+url.QueryEscape("<script>alert(1)</script>"), nil)
			cb = x.fetch(noFollow, http.MethodGet, x.callback+"?state=%3Cimg%20src%3Dx%3E&code=%3Cb%3E", nil)
		})
		for _, p := range []page{evil, cb} {
			if p.status != http.StatusBadRequest || strings.Contains(p.body, "<script>") || strings.Contains(p.body, "<img") ||
				p.header.Get("Cache-Control") != "no-store" {
				t.Errorf("error page %d: %s", p.status, p.body)
			}
		}
	})
}
