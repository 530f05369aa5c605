package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// signInToCallback plays the user's browser from authURL through the
// provider's login and stops before delivering the provider's redirect to
// our callback, which it returns.
func (x *vendEnv) signInToCallback(authURL, username string) *url.URL {
	x.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), x.callback+"?") {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("redirect loop")
		}
		return nil
	}}
	form := x.fetch(hc, http.MethodGet, authURL, nil)
	if !strings.Contains(form.body, `name="password"`) {
		x.t.Fatalf("authorization URL did not lead to the provider's login form: %d at %s", form.status, form.url)
	}
	vals := url.Values{"id": {form.url.Query().Get("authRequestID")}, "username": {username}, "password": {idpPassword}}
	p := x.fetch(hc, http.MethodPost, form.url.String(), vals)
	loc, err := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), x.callback+"?") {
		x.t.Fatalf("sign-in did not redirect to our callback: %d %q", p.status, p.header.Get("Location"))
	}
	return loc
}

func randomToken(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestCallbackCSRF: the OAuth callback accepts only the state of a session
// waiting for it, on that session's provider, once. Forged, misrouted and
// replayed callbacks get a plain error page, change nothing in the store,
// and leave the genuine flow intact.
func TestCallbackCSRF(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b, "alice")
		other, err := x.c.CreateOauth2CredentialProvider(x.ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String("other-idp"), CredentialProviderVendor: "CustomOauth2",
			Oauth2ProviderConfigInput: customDiscovery(x.idp.DiscoveryURL(), "other-client", "other-secret"),
		})
		if err != nil {
			t.Fatal(err)
		}
		start, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(x.wat("agent-a", "alice-id")))
		if err != nil || start.AuthorizationUrl == nil {
			t.Fatalf("start flow: %+v %v", start, err)
		}
		genuine := x.signInToCallback(aws.ToString(start.AuthorizationUrl), "alice")
		state, code := genuine.Query().Get("state"), genuine.Query().Get("code")
		sessionID, _, ok := strings.Cut(state, ".")
		if !ok || code == "" {
			t.Fatalf("provider redirect %s has no state or code", genuine)
		}

		refused := func(t *testing.T, target string) {
			t.Helper()
			x.env.Unchanged(t, func() {
				p := x.fetch(noFollow, http.MethodGet, target, nil)
				if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Invalid request") || p.header.Get("Location") != "" {
					t.Fatalf("got %d (Location %q): %s", p.status, p.header.Get("Location"), p.body)
				}
			})
		}
		forged := []struct {
			name   string
			target string
			query  url.Values
		}{
			{"fail/no-state", x.callback, url.Values{"code": {code}}},
			{"fail/malformed-state", x.callback, url.Values{"code": {code}, "state": {"not-a-state"}}},
			{"fail/unknown-session", x.callback, url.Values{"code": {code}, "state": {randomToken(t) + "." + randomToken(t)}}},
			{"fail/right-session-wrong-secret", x.callback, url.Values{"code": {code}, "state": {sessionID + "." + randomToken(t)}}},
			{"fail/error-with-forged-state", x.callback, url.Values{"error": {"access_denied"}, "state": {sessionID + "." + randomToken(t)}}},
			{"fail/another-providers-callback", aws.ToString(other.CallbackUrl), url.Values{"code": {code}, "state": {state}}},
		}
		for _, tc := range forged {
			t.Run(tc.name, func(t *testing.T) { refused(t, tc.target+"?"+tc.query.Encode()) })
		}

		// None of that burnt the session: the genuine redirect completes it.
		p := x.fetch(noFollow, http.MethodGet, genuine.String(), nil)
		ret, _ := url.Parse(p.header.Get("Location"))
		if p.status != http.StatusFound || ret == nil || !strings.HasPrefix(ret.String(), x.returnTo+"?") ||
			ret.Query().Get("session_id") != aws.ToString(start.SessionUri) || ret.Query().Get("error") != "" {
			t.Fatalf("genuine callback: %d to %q", p.status, p.header.Get("Location"))
		}
		t.Run("fail/replayed-state", func(t *testing.T) { refused(t, genuine.String()) })
	})
}
