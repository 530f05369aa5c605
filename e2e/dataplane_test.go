package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// Credentials of the OAuth client our server is at the test provider.
const (
	idpClientID     = "agentcore-client"
	idpClientSecret = "idp-client-secret-7f3a"
	idpPassword     = "correct horse battery staple"
	idpProvider     = "corp-idp"
)

// vendEnv is our server, a real OpenID provider registered as a custom
// credential provider by discovery URL, and an application whose return
// URL is registered on workloads agent-a and agent-b.
type vendEnv struct {
	t        *testing.T
	ctx      context.Context
	env      *servertest.Env
	idp      *oidctest.Provider
	clock    *offsetClock
	d        *dp.Client
	c        *cp.Client
	app      *httptest.Server
	returnTo string
	callback string
	keys     *oidc.RemoteKeySet
}

func newVendEnv(t *testing.T, b servertest.Backend, users ...string) *vendEnv {
	t.Helper()
	x := &vendEnv{t: t, ctx: servertest.Context(t), clock: &offsetClock{}}
	var idpUsers []oidctest.User
	for _, u := range users {
		idpUsers = append(idpUsers, oidctest.User{Username: u, Password: idpPassword})
	}
	x.idp = oidctest.Start(t, oidctest.Options{Users: idpUsers, AccessTokenLifetime: time.Minute})
	x.keys = oidc.NewRemoteKeySet(x.ctx, x.idp.JWKSURL())
	x.env = servertest.Start(t, servertest.Options{Backend: b, Now: x.clock.Now})
	x.d, x.c = x.env.Data(), x.env.Control()
	x.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "signed in; the app now calls CompleteResourceTokenAuth")
	}))
	t.Cleanup(x.app.Close)
	x.returnTo = x.app.URL + "/oauth/return"

	out, err := x.c.CreateOauth2CredentialProvider(x.ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String(idpProvider), CredentialProviderVendor: "CustomOauth2",
		Oauth2ProviderConfigInput: customDiscovery(x.idp.DiscoveryURL(), idpClientID, idpClientSecret),
	})
	if err != nil {
		t.Fatalf("create provider: %v", err)
	}
	x.callback = aws.ToString(out.CallbackUrl)
	x.idp.AddClient(oidctest.Client{ID: idpClientID, Secret: idpClientSecret, RedirectURIs: []string{x.callback},
		Scopes: []string{"read", "write"}})
	for name, urls := range map[string][]string{"agent-a": {x.returnTo}, "agent-b": {x.returnTo}, "no-return-urls": nil} {
		if _, err := x.c.CreateWorkloadIdentity(x.ctx, &cp.CreateWorkloadIdentityInput{
			Name: aws.String(name), AllowedResourceOauth2ReturnUrls: urls}); err != nil {
			t.Fatalf("create workload %s: %v", name, err)
		}
	}
	return x
}

// wat is a workload access token of workload for userID ("" for none).
func (x *vendEnv) wat(workload, userID string) *string {
	x.t.Helper()
	if userID == "" {
		out, err := x.d.GetWorkloadAccessToken(x.ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workload)})
		if err != nil {
			x.t.Fatal(err)
		}
		return out.WorkloadAccessToken
	}
	out, err := x.d.GetWorkloadAccessTokenForUserId(x.ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String(workload), UserId: aws.String(userID)})
	if err != nil {
		x.t.Fatal(err)
	}
	return out.WorkloadAccessToken
}

// userFed builds a USER_FEDERATION request as the Python SDK sends it.
func (x *vendEnv) userFed(wat *string, opts ...func(*dp.GetResourceOauth2TokenInput)) *dp.GetResourceOauth2TokenInput {
	in := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: wat, ResourceCredentialProviderName: aws.String(idpProvider),
		Scopes: []string{"openid", "offline_access", "read"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(x.returnTo),
	}
	for _, o := range opts {
		o(in)
	}
	return in
}

func withSessionURI(uri *string) func(*dp.GetResourceOauth2TokenInput) {
	return func(in *dp.GetResourceOauth2TokenInput) { in.SessionUri = uri }
}

// browse plays a user's browser (with cookies): it opens authURL, signs in
// on the provider's form as username and follows the redirects back to
// the application. It returns where it landed and every URL it visited.
func (x *vendEnv) browse(authURL, username string) (*url.URL, []*url.URL) {
	x.t.Helper()
	jar, _ := cookiejar.New(nil)
	var hops []*url.URL
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		hops = append(hops, r.URL)
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
	landed := x.fetch(hc, http.MethodPost, form.url.String(), vals)
	if landed.status != http.StatusOK {
		x.t.Fatalf("sign-in ended with %d at %s: %s", landed.status, landed.url, landed.body)
	}
	return landed.url, hops
}

type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (x *vendEnv) fetch(hc *http.Client, method, target string, form url.Values) page {
	x.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(x.ctx, method, target, body)
	if err != nil {
		x.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		x.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(b)}
}

// metrics returns the server's Prometheus exposition.
func (x *vendEnv) metrics() string {
	x.t.Helper()
	return servertest.MetricsText(x.t, x.env.URL)
}

// noFollow is a browser that stops at the first redirect.
var noFollow = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// verify checks that token is a genuine access token of the provider for
// subject: signed with a key of its JWKS, issued by it to our client, and
// not expired.
func (x *vendEnv) verify(token, subject string) {
	x.t.Helper()
	payload, err := x.keys.VerifySignature(x.ctx, token)
	if err != nil {
		x.t.Fatalf("token does not verify against the provider's JWKS: %v", err)
	}
	var c struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		ClientID string `json:"client_id"`
		Exp      int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		x.t.Fatal(err)
	}
	if c.Iss != x.idp.Issuer() || c.Sub != subject || c.ClientID != idpClientID || time.Unix(c.Exp, 0).Before(time.Now()) {
		x.t.Fatalf("token claims iss=%q sub=%q client_id=%q exp=%d; want sub %q", c.Iss, c.Sub, c.ClientID, c.Exp, subject)
	}
}

// consent runs the whole 3LO flow for (workload, user) with the user
// signing in at the provider as idpUser, and returns the vended token.
func (x *vendEnv) consent(workload, user, idpUser string) string {
	x.t.Helper()
	wat := x.wat(workload, user)
	start, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(wat))
	if err != nil || start.AuthorizationUrl == nil || start.AccessToken != nil {
		x.t.Fatalf("%s/%s: want a new flow, got %+v %v", workload, user, start, err)
	}
	landed, _ := x.browse(aws.ToString(start.AuthorizationUrl), idpUser)
	if got := landed.Query().Get("session_id"); got != aws.ToString(start.SessionUri) {
		x.t.Fatalf("landed on %s, want session_id %s", landed, aws.ToString(start.SessionUri))
	}
	if _, err := x.d.CompleteResourceTokenAuth(x.ctx, &dp.CompleteResourceTokenAuthInput{
		SessionUri: start.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: user}}); err != nil {
		x.t.Fatalf("complete: %v", err)
	}
	out, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(wat, withSessionURI(start.SessionUri)))
	if err != nil || out.AccessToken == nil {
		x.t.Fatalf("token after consent: %+v %v", out, err)
	}
	return aws.ToString(out.AccessToken)
}

func TestResourceOAuth2UserFederation(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		x := newVendEnv(t, b, "alice", "bob")
		ctx, d := x.ctx, x.d
		alice := x.wat("agent-a", "alice-id")

		// 1. The agent asks for a token; the user has never consented.
		start, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
			in.CustomState = aws.String("csrf-42")
			in.CustomParameters = map[string]string{"login_hint": "alice", "client_id": "evil", "redirect_uri": "https://evil.test"}
		}))
		if err != nil {
			t.Fatal(err)
		}
		uri := aws.ToString(start.SessionUri)
		if start.AccessToken != nil || start.SessionStatus != dptypes.SessionStatusInProgress ||
			!strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") ||
			aws.ToString(start.AuthorizationUrl) != x.env.URL+"/identities/oauth2/authorize?request_uri="+url.QueryEscape(uri) {
			t.Fatalf("start = %+v", start)
		}

		// 2. The user's browser: our URL, the provider's login, our
		// callback, the application's return URL.
		landed, hops := x.browse(aws.ToString(start.AuthorizationUrl), "alice")
		q := landed.Query()
		if landed.Path != "/oauth/return" || q.Get("session_id") != uri || q.Get("custom_state") != "csrf-42" {
			t.Fatalf("landed on %s", landed)
		}
		var toProvider, toCallback *url.URL
		for _, h := range hops {
			switch {
			case toProvider == nil && strings.HasPrefix(h.String(), x.idp.Issuer()+"/authorize?"):
				toProvider = h
			case strings.HasPrefix(h.String(), x.callback+"?"):
				toCallback = h
			}
		}
		if toProvider == nil || toCallback == nil {
			t.Fatalf("redirect chain %v misses the provider or our callback", hops)
		}
		pq := toProvider.Query()
		if pq.Get("client_id") != idpClientID || pq.Get("redirect_uri") != x.callback || pq.Get("login_hint") != "alice" ||
			pq.Get("code_challenge_method") != "S256" || pq.Get("scope") != "offline_access openid read" {
			t.Fatalf("provider authorization request = %v", pq)
		}

		// 3. Until the application binds the session, the agent waits.
		poll, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, withSessionURI(start.SessionUri)))
		if err != nil || poll.AccessToken != nil || poll.SessionStatus != dptypes.SessionStatusInProgress {
			t.Fatalf("poll before completion = %+v %v", poll, err)
		}
		var denied *dptypes.AccessDeniedException
		_, err = d.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
			SessionUri: start.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "bob-id"}})
		if !errors.As(err, &denied) || !strings.Contains(aws.ToString(denied.Message), "Invalid or expired session") {
			t.Fatalf("complete as another user: %v", err)
		}
		if _, err := d.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
			SessionUri: start.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: "alice-id"}}); err != nil {
			t.Fatalf("complete: %v", err)
		}

		// 4. The token is the provider's, for alice, and is then cached.
		got, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, withSessionURI(start.SessionUri)))
		if err != nil || got.AccessToken == nil {
			t.Fatalf("token after completion: %+v %v", got, err)
		}
		first := aws.ToString(got.AccessToken)
		x.verify(first, "sub-alice")
		again, err := d.GetResourceOauth2Token(ctx, x.userFed(x.wat("agent-a", "alice-id"), func(in *dp.GetResourceOauth2TokenInput) {
			in.Scopes = []string{"read"} // covered by the granted scopes
		}))
		if err != nil || aws.ToString(again.AccessToken) != first || x.idp.TokenCalls(oidctest.GrantAuthorizationCode) != 1 {
			t.Fatalf("cached token: %+v %v", again, err)
		}

		// 5. Replaying the provider's redirect, or re-opening our
		// authorization URL, is refused and changes nothing.
		var replay, reopen page
		x.env.Unchanged(t, func() {
			replay = x.fetch(noFollow, http.MethodGet, toCallback.String(), nil)
			reopen = x.fetch(noFollow, http.MethodGet, aws.ToString(start.AuthorizationUrl), nil)
		})
		for name, p := range map[string]page{"replayed callback": replay, "re-opened authorization URL": reopen} {
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Invalid request") ||
				!strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: %d %s", name, p.status, p.body)
			}
		}
		if again, err := d.GetResourceOauth2Token(ctx, x.userFed(alice)); err != nil || aws.ToString(again.AccessToken) != first ||
			x.idp.TokenCalls(oidctest.GrantAuthorizationCode) != 1 {
			t.Fatalf("after replay: %+v %v", again, err)
		}

		// 6. Expiry: the next call refreshes; then 50 concurrent callers on
		// an expired token cause exactly one more refresh grant.
		x.clock.Advance(2 * time.Minute)
		refreshed, err := d.GetResourceOauth2Token(ctx, x.userFed(alice))
		if err != nil || refreshed.AccessToken == nil || aws.ToString(refreshed.AccessToken) == first ||
			x.idp.TokenCalls(oidctest.GrantRefreshToken) != 1 {
			t.Fatalf("refresh: %+v %v (refresh grants %d)", refreshed, err, x.idp.TokenCalls(oidctest.GrantRefreshToken))
		}
		x.verify(aws.ToString(refreshed.AccessToken), "sub-alice")
		x.clock.Advance(2 * time.Minute)
		tokens := make([]string, 50)
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := d.GetResourceOauth2Token(ctx, x.userFed(alice))
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
					return
				}
				tokens[i] = aws.ToString(out.AccessToken)
			}()
		}
		wg.Wait()
		for i, tok := range tokens {
			if tok == "" || tok != tokens[0] || tok == aws.ToString(refreshed.AccessToken) {
				t.Fatalf("caller %d got a different or stale token", i)
			}
		}
		if n := x.idp.TokenCalls(oidctest.GrantRefreshToken); n != 2 {
			t.Fatalf("refresh grants = %d, want 2 (one per expiry)", n)
		}
		x.verify(tokens[0], "sub-alice")
		if m := x.metrics(); !strings.Contains(m, `agentcore_oauth2_refreshes_total{outcome="success"} 2`) {
			t.Error("/metrics does not count the two refresh grants")
		}

		// 7. Bob, and alice on another workload, do not get alice's token.
		for _, w := range []*string{x.wat("agent-a", "bob-id"), x.wat("agent-b", "alice-id")} {
			out, err := d.GetResourceOauth2Token(ctx, x.userFed(w))
			if err != nil || out.AccessToken != nil || out.AuthorizationUrl == nil {
				t.Fatalf("another user or workload: %+v %v", out, err)
			}
		}

		// 8. forceAuthentication starts a new flow despite the cached token.
		forced, err := d.GetResourceOauth2Token(ctx, x.userFed(alice, func(in *dp.GetResourceOauth2TokenInput) {
			in.ForceAuthentication = aws.Bool(true)
		}))
		if err != nil || forced.AccessToken != nil || forced.AuthorizationUrl == nil || aws.ToString(forced.SessionUri) == uri {
			t.Fatalf("forced: %+v %v", forced, err)
		}

		// No secret of the flow ever reached the log.
		logs := x.env.Logs.String()
		for name, secret := range map[string]string{"client secret": idpClientSecret, "access token": first,
			"code": toCallback.Query().Get("code"), "state": toCallback.Query().Get("state")} {
			if secret != "" && strings.Contains(logs, secret) {
				t.Errorf("the %s appears in the server log", name)
			}
		}
	})
}

// TestResourceOAuth2Isolation is a property test: over random (workload,
// user) pairs, a call returns either a new flow (the pair never consented)
// or exactly the token that pair consented to, never another pair's.
func TestResourceOAuth2Isolation(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		users := []string{"u0", "u1", "u2"}
		x := newVendEnv(t, b, users...)
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		rnd := rand.New(rand.NewPCG(uint64(seed), 0))
		issued := map[string]string{} // "workload/user" -> token
		owner := map[string]string{}  // token -> "workload/user"
		for i := range 30 {
			w := []string{"agent-a", "agent-b"}[rnd.IntN(2)]
			u := users[rnd.IntN(len(users))]
			pair := w + "/" + u
			out, err := x.d.GetResourceOauth2Token(x.ctx, x.userFed(x.wat(w, u)))
			if err != nil {
				t.Fatalf("iteration %d (%s): %v", i, pair, err)
			}
			want, consented := issued[pair]
			switch {
			case consented && aws.ToString(out.AccessToken) != want:
				t.Fatalf("iteration %d: %s got a token of %q", i, pair, owner[aws.ToString(out.AccessToken)])
			case !consented && out.AccessToken != nil:
				t.Fatalf("iteration %d: %s never consented but got the token of %q", i, pair, owner[aws.ToString(out.AccessToken)])
			case !consented:
				tok := x.consent(w, u, u)
				x.verify(tok, "sub-"+u)
				if prev, dup := owner[tok]; dup {
					t.Fatalf("iteration %d: %s got the token of %s", i, pair, prev)
				}
				issued[pair], owner[tok] = tok, pair
			}
		}
		if len(issued) < 3 {
			t.Fatalf("only %d pairs consented; the property was barely exercised", len(issued))
		}
	})
}
