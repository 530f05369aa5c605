package tokenvault

import (
	"context"
	"errors"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// TestRefreshOnceAcrossReplicas: 50 callers spread over two replicas that
// share a database find one expired token; the provider (which rotates
// refresh tokens, so a second redemption would fail) sees one refresh.
func TestRefreshOnceAcrossReplicas(t *testing.T) {
	for _, backend := range []string{"sqlite-file", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			fx := newFixture(t, fixtureOptions{backend: backend, replicas: 2})
			ctx := context.Background()
			r := fx.request("agent", "alice", "openid", "offline_access", "read")
			first := fx.consent(fx.flows[0], r, "alice")

			fx.clock.Advance(2 * time.Hour) // past the provider's 1 h lifetime
			var wg sync.WaitGroup
			tokens := make([]string, 50)
			errs := make([]error, 50)
			for i := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := fx.flows[i%2].UserFederation(ctx, r)
					tokens[i], errs[i] = res.AccessToken, err
				}()
			}
			wg.Wait()
			for i := range tokens {
				if errs[i] != nil || tokens[i] == "" || tokens[i] == first || tokens[i] != tokens[0] {
					t.Fatalf("caller %d: err %v, token equals first: %v, equals caller 0: %v", i, errs[i], tokens[i] == first, tokens[i] == tokens[0])
				}
			}
			if n := fx.idp.TokenCalls(oidctest.GrantRefreshToken); n != 1 {
				t.Fatalf("refresh grants = %d, want exactly 1", n)
			}

			// A refresh token the provider no longer honours sends the user
			// back to consent instead of failing the agent.
			fx.idp.RevokeRefreshTokens()
			fx.clock.Advance(2 * time.Hour)
			res, err := fx.flows[1].UserFederation(ctx, r)
			if err != nil || res.AccessToken != "" || res.AuthorizationURL == "" {
				t.Fatalf("after revocation: res=%+v err=%v", res, err)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{})
	f := fx.flows[0]
	r := fx.request("agent", "alice", "openid", "read")
	r.CustomState = "csrf-<1>"
	uri, cb := fx.startConsent(f, r, "alice")
	state := cb.Query().Get("state")
	callbackID := path.Base(cb.Path)
	with := func(k, v string) url.Values {
		q := cb.Query()
		q.Set(k, v)
		return q
	}

	steps := []struct {
		name string
		run  func() error
		want func(error) bool
	}{
		{"fail/complete-before-consent", func() error { return f.Complete(ctx, testAccount, uri, "alice") },
			func(err error) bool { return code(err) == awserr.CodeAccessDenied }},
		{"fail/authorize-twice", func() error { _, err := f.Authorize(ctx, uri); return err },
			func(err error) bool { return browserStatus(err) == 400 }},
		{"fail/foreign-state", func() error {
			_, err := f.Callback(ctx, callbackID, with("state", strings.Split(state, ".")[0]+"."+randomID(32)))
			return err
		}, func(err error) bool { return browserStatus(err) == 400 }},
		{"fail/other-provider-path", func() error { _, err := f.Callback(ctx, "gen-other", cb.Query()); return err },
			func(err error) bool { return browserStatus(err) == 400 }},
		{"fail/garbage-state", func() error { _, err := f.Callback(ctx, callbackID, with("state", "<script>")); return err },
			func(err error) bool { return browserStatus(err) == 400 }},
		// None of the refusals above changed the session: the genuine
		// callback still goes through.
		{"ok/callback", func() error {
			back, err := f.Callback(ctx, callbackID, cb.Query())
			if err == nil {
				u, _ := url.Parse(back)
				if u.Query().Get(ReturnSessionParam) != uri || u.Query().Get(ReturnStateParam) != "csrf-<1>" {
					t.Errorf("return URL = %s", back)
				}
			}
			return err
		}, func(err error) bool { return err == nil }},
		{"fail/replay", func() error { _, err := f.Callback(ctx, callbackID, cb.Query()); return err },
			func(err error) bool { return browserStatus(err) == 400 }},
		{"ok/poll-before-complete", func() error {
			res, err := f.UserFederation(ctx, withSession(r, uri))
			if err == nil && (res.SessionStatus != StatusInProgress || res.AccessToken != "") {
				t.Errorf("poll = %+v", res)
			}
			return err
		}, func(err error) bool { return err == nil }},
		{"fail/complete-other-user", func() error { return f.Complete(ctx, testAccount, uri, "mallory") },
			func(err error) bool { return code(err) == awserr.CodeAccessDenied }},
		{"fail/complete-other-account", func() error { return f.Complete(ctx, "999999999999", uri, "alice") },
			func(err error) bool { return code(err) == awserr.CodeAccessDenied }},
		{"fail/poll-by-other-user", func() error {
			res, err := f.UserFederation(ctx, withSession(fx.request("agent", "bob", "openid", "read"), uri))
			if err == nil && (res.AccessToken != "" || res.SessionStatus != StatusFailed) {
				t.Errorf("bob polling alice's session got %+v", res)
			}
			return err
		}, func(err error) bool { return err == nil }},
		{"ok/complete", func() error { return f.Complete(ctx, testAccount, uri, "alice") },
			func(err error) bool { return err == nil }},
		{"ok/complete-again", func() error { return f.Complete(ctx, testAccount, uri, "alice") },
			func(err error) bool { return err == nil }},
		{"ok/token", func() error {
			res, err := f.UserFederation(ctx, withSession(r, uri))
			if err == nil && res.AccessToken == "" {
				t.Errorf("poll after completion = %+v", res)
			}
			return err
		}, func(err error) bool { return err == nil }},
	}
	for _, s := range steps {
		if err := s.run(); !s.want(err) {
			t.Fatalf("%s: unexpected result %v", s.name, err)
		}
	}
	if n := fx.idp.TokenCalls(oidctest.GrantAuthorizationCode); n != 1 {
		t.Errorf("code exchanges = %d, want 1", n)
	}
}

func withSession(r Request, uri string) Request {
	r.SessionURI = uri
	return r
}

func TestSessionFailures(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{})
	f := fx.flows[0]
	r := fx.request("agent", "alice", "read")

	t.Run("ok/provider-error", func(t *testing.T) {
		res, err := f.UserFederation(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		target, err := f.Authorize(ctx, res.SessionURI)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(target)
		back, err := f.Callback(ctx, "gen-1", url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}})
		if err != nil {
			t.Fatal(err)
		}
		q := mustQuery(t, back)
		if q.Get(ReturnErrorParam) != "access_denied" || q.Get(ReturnSessionParam) != res.SessionURI {
			t.Fatalf("return URL = %s", back)
		}
		poll, err := f.UserFederation(ctx, withSession(r, res.SessionURI))
		if err != nil || poll.SessionStatus != StatusFailed {
			t.Fatalf("poll = %+v, %v", poll, err)
		}
	})
	t.Run("ok/session-expiry", func(t *testing.T) {
		res, err := f.UserFederation(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		fx.clock.Advance(DefaultSessionTTL + time.Second)
		if _, err := f.Authorize(ctx, res.SessionURI); browserStatus(err) != 400 {
			t.Errorf("authorize after expiry: %v", err)
		}
		if err := f.Complete(ctx, testAccount, res.SessionURI, "alice"); code(err) != awserr.CodeAccessDenied {
			t.Errorf("complete after expiry: %v", err)
		}
		poll, err := f.UserFederation(ctx, withSession(r, res.SessionURI))
		if err != nil || poll.SessionStatus != StatusFailed || poll.AuthorizationURL != "" {
			t.Errorf("poll after expiry = %+v, %v", poll, err)
		}
	})
	t.Run("fail/validation", func(t *testing.T) {
		noUser := r
		noUser.Caller.UserID = ""
		noURLs := r
		noURLs.Workload.ReturnURLs = nil
		missing := r
		missing.ReturnURL = ""
		other := r
		other.ReturnURL = "https://evil.test/return"
		for name, req := range map[string]Request{"no-user": noUser, "no-registered-url": noURLs, "no-url": missing, "unlisted-url": other} {
			if _, err := f.UserFederation(ctx, req); code(err) != awserr.CodeValidation {
				t.Errorf("%s: want ValidationException, got %v", name, err)
			}
		}
	})
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestUserTokenQuota: the per-user, per-provider cap holds even when two
// flows that each passed the early check complete at once.
func TestUserTokenQuota(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{maxUserTokens: 2})
	f := fx.flows[0]
	fx.consent(f, fx.request("agent", "alice", "read"), "alice")
	uriA, cbA := fx.startConsent(f, fx.request("agent", "alice", "write"), "alice")
	uriB, cbB := fx.startConsent(f, fx.request("agent", "alice", "read", "write"), "alice")
	for _, cb := range []*url.URL{cbA, cbB} {
		if _, err := f.Callback(ctx, path.Base(cb.Path), cb.Query()); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Complete(ctx, testAccount, uriA, "alice"); err != nil {
		t.Fatalf("second token: %v", err)
	}
	if err := f.Complete(ctx, testAccount, uriB, "alice"); code(err) != awserr.CodeServiceQuota {
		t.Fatalf("third token: want ServiceQuotaExceededException, got %v", err)
	}
	if _, err := f.UserFederation(ctx, fx.request("other", "alice", "read")); code(err) != awserr.CodeServiceQuota {
		t.Fatalf("new flow at the quota: want ServiceQuotaExceededException, got %v", err)
	}
	// Bob has his own quota; replacing an existing token takes no room.
	if _, err := f.UserFederation(ctx, fx.request("other", "bob", "read")); err != nil {
		t.Fatalf("bob: %v", err)
	}
	if res, err := f.UserFederation(ctx, forced(fx.request("agent", "alice", "read"))); err != nil || res.AuthorizationURL == "" {
		t.Fatalf("re-consent of a stored token: %+v %v", res, err)
	}
	n, err := fx.store.Count(ctx, UserTokenKind, userScope(testAccount, "alice", "idp"))
	if err != nil || n != 2 {
		t.Fatalf("stored tokens = %d (%v), want 2", n, err)
	}
}

func forced(r Request) Request {
	r.ForceAuthentication = true
	return r
}

func TestM2M(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{})
	f := fx.flows[0]
	r := fx.request("agent", "", "read")
	grants := func() int { return fx.idp.TokenCalls(oidctest.GrantClientCredentials) }

	first, err := f.M2M(ctx, r)
	if err != nil || first.AccessToken == "" || grants() != 1 {
		t.Fatalf("first: %+v %v grants=%d", first, err, grants())
	}
	steps := []struct {
		name       string
		req        Request
		advance    time.Duration
		same       bool
		wantGrants int
	}{
		{"ok/cached", r, 0, true, 1},
		{"ok/scope-order-irrelevant", fx.request("agent", "", "read", "read"), 0, true, 1},
		{"ok/other-scopes", fx.request("agent", "", "read", "write"), 0, false, 2},
		{"ok/other-workload", fx.request("agent-2", "", "read"), 0, false, 3},
		{"ok/force", forced(r), 0, false, 4},
		{"ok/expired", r, 2 * time.Hour, false, 5},
	}
	for _, s := range steps {
		fx.clock.Advance(s.advance)
		res, err := f.M2M(ctx, s.req)
		if err != nil || res.AccessToken == "" || (res.AccessToken == first.AccessToken) != s.same || grants() != s.wantGrants {
			t.Fatalf("%s: same=%v err=%v grants=%d", s.name, res.AccessToken == first.AccessToken, err, grants())
		}
	}

	fx.idp.SetDown(true)
	if _, err := f.M2M(ctx, forced(r)); code(err) != awserr.CodeInternal {
		t.Errorf("fail/provider-down: want InternalServerException, got %v", err)
	}
	fx.idp.SetDown(false)
	bad := r
	bad.Provider.ClientSecret = "wrong"
	bad.ForceAuthentication = true
	if _, err := f.M2M(ctx, bad); code(err) != awserr.CodeAccessDenied || strings.Contains(err.Error(), "wrong") {
		t.Errorf("fail/bad-secret: want AccessDeniedException without the secret, got %v", err)
	}
}

// TestProviderRecreated: tokens of a deleted provider are not served by a
// new provider of the same name.
func TestProviderRecreated(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{})
	f := fx.flows[0]
	fx.consent(f, fx.request("agent", "alice", "read"), "alice")
	fx.provs.mu.Lock()
	fx.provs.p.CallbackID = "gen-2"
	fx.provs.mu.Unlock()
	res, err := f.UserFederation(ctx, fx.request("agent", "alice", "read"))
	if err != nil || res.AccessToken != "" || res.AuthorizationURL == "" {
		t.Fatalf("got %+v %v, want a new flow", res, err)
	}
}

// TestPollWithStoredToken: a poll of a running session ends with a token
// the user granted meanwhile, unless the session was forced (the agent
// asked for a new consent on purpose).
func TestPollWithStoredToken(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{})
	f := fx.flows[0]
	r := fx.request("agent", "alice", "read")
	plain, err := f.UserFederation(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	forcedRes, err := f.UserFederation(ctx, forced(r))
	if err != nil {
		t.Fatal(err)
	}
	tok := fx.consent(f, forced(r), "alice")
	cases := []struct {
		name      string
		uri       string
		wantToken bool
	}{
		{"ok/plain-session-gets-token", plain.SessionURI, true},
		{"ok/forced-session-keeps-waiting", forcedRes.SessionURI, false},
	}
	for _, tc := range cases {
		res, err := f.UserFederation(ctx, withSession(r, tc.uri))
		if err != nil || (res.AccessToken == tok) != tc.wantToken || (!tc.wantToken && res.SessionStatus != StatusInProgress) {
			t.Errorf("%s: %+v %v", tc.name, res, err)
		}
	}
}

// TestRefreshLeaseOfDeadReplica: a replica that took the refresh lease and
// died blocks refreshes only until the lease expires.
func TestRefreshLeaseOfDeadReplica(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, fixtureOptions{backend: "sqlite-file", replicas: 2})
	r := fx.request("agent", "alice", "openid", "offline_access", "read")
	first := fx.consent(fx.flows[0], r, "alice")
	fx.clock.Advance(2 * time.Hour)

	scope, key := userScope(testAccount, "alice", "idp"), userKey("agent", r.Scopes, nil, nil)
	if _, _, err := fx.flows[0].claim(ctx, r.Provider, scope, key); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if _, _, err := fx.flows[1].claim(ctx, r.Provider, scope, key); !errors.Is(err, errLeased) {
		t.Fatalf("a second claim under a live lease: got %v, want errLeased", err)
	}
	fx.clock.Advance(fx.flows[1].leaseTTL() + time.Second)
	res, err := fx.flows[1].UserFederation(ctx, r)
	if err != nil || res.AccessToken == "" || res.AccessToken == first {
		t.Fatalf("after the lease expired: %+v %v", res, err)
	}
	if n := fx.idp.TokenCalls(oidctest.GrantRefreshToken); n != 1 {
		t.Fatalf("refresh grants = %d, want 1", n)
	}
}
