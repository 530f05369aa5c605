package tokenvault

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/wat"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

const (
	testAccount   = "123456789012"
	testReturnURL = "https://app.test/return"
	testPassword  = "pw-for-tests"
)

// clock is a settable test clock shared by the flows and their stores.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// providers resolves the one test provider; gen can be swapped to act as
// a deleted and re-created provider.
type providers struct {
	mu sync.Mutex
	p  credprovider.OAuth2Provider
}

func (s *providers) ResolveOAuth2(_ context.Context, _, name string) (credprovider.OAuth2Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name != s.p.Name {
		return credprovider.OAuth2Provider{}, awserr.NotFound("no provider %q", name)
	}
	return s.p, nil
}

func (s *providers) get() credprovider.OAuth2Provider {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// fixture is a real OpenID provider plus one or more Flows ("replicas")
// over one database, each with its own store connection, client and
// single-flight group, as separate processes would have.
type fixture struct {
	t     *testing.T
	idp   *oidctest.Provider
	clock *clock
	provs *providers
	flows []*Flows
	store store.Store
}

type fixtureOptions struct {
	backend       string // "memory", "sqlite-file", "postgres"
	replicas      int
	maxUserTokens int
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: time.Now().UTC()}
	callback := "http://127.0.0.1:1/identities/oauth2/callback/gen-1"
	idp := oidctest.Start(t, oidctest.Options{
		Users: []oidctest.User{{Username: "alice", Password: testPassword}, {Username: "bob", Password: testPassword}},
		Clients: []oidctest.Client{{ID: "agentcore", Secret: "client-secret", RedirectURIs: []string{callback},
			Scopes: []string{"read", "write"}}},
	})
	info, _ := credprovider.Vendor("CustomOauth2")
	provs := &providers{p: credprovider.OAuth2Provider{Name: "idp", Vendor: info.Name, VendorInfo: info,
		ClientID: "agentcore", ClientSecret: "client-secret", CallbackID: "gen-1", CallbackURL: callback,
		DiscoveryURL: idp.DiscoveryURL()}}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kek, err := seal.NewLocalKEK(map[string][]byte{"k1": key}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	var open func() store.Store
	switch o.backend {
	case "postgres":
		dsn := pgtest.NewDatabase(t)
		open = func() store.Store {
			st, err := postgres.Open(ctx, postgres.Options{URL: dsn, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	case "sqlite-file":
		file := filepath.Join(t.TempDir(), "vault.db")
		open = func() store.Store {
			st, err := sqlite.Open(ctx, sqlite.Options{Path: file, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	default:
		st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.MemoryPath, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		open = func() store.Store { return st }
	}
	fx := &fixture{t: t, idp: idp, clock: clk, provs: provs}
	for range max(1, o.replicas) {
		st := open()
		t.Cleanup(func() { _ = st.Close() })
		fx.store = st
		fx.flows = append(fx.flows, NewFlows(FlowsConfig{
			Store: st, Sealer: seal.New(kek), Providers: provs,
			Client:    oauthclient.New(oauthclient.Options{Now: clk.Now}),
			PublicURL: "http://agentcore.test", Now: clk.Now, MaxUserTokens: o.maxUserTokens,
		}))
	}
	return fx
}

// request is a USER_FEDERATION call for user on workload wl.
func (fx *fixture) request(wl, user string, scopes ...string) Request {
	return Request{
		Caller: wat.Claims{Account: testAccount, Workload: wl, UserID: user, Source: wat.SourceUserID,
			ArtifactHash: wat.HashArtifact(user)},
		Workload:  workload.Identity{Name: wl, ReturnURLs: []string{testReturnURL}},
		Provider:  fx.provs.get(),
		Scopes:    scopes,
		ReturnURL: testReturnURL,
	}
}

// startConsent starts a flow and signs in at the provider as idpUser; it
// returns the session URI and the provider's redirect to our callback.
func (fx *fixture) startConsent(f *Flows, r Request, idpUser string) (string, *url.URL) {
	fx.t.Helper()
	ctx := context.Background()
	res, err := f.UserFederation(ctx, r)
	if err != nil || res.AuthorizationURL == "" || res.SessionStatus != StatusInProgress {
		fx.t.Fatalf("start flow: res=%+v err=%v", res, err)
	}
	target, err := f.Authorize(ctx, res.SessionURI)
	if err != nil {
		fx.t.Fatalf("authorize: %v", err)
	}
	cb, err := fx.idp.Authorize(ctx, target, idpUser, testPassword)
	if err != nil {
		fx.t.Fatalf("sign in at the provider: %v", err)
	}
	return res.SessionURI, cb
}

// consent runs a whole flow and returns the token the caller then gets.
func (fx *fixture) consent(f *Flows, r Request, idpUser string) string {
	fx.t.Helper()
	ctx := context.Background()
	uri, cb := fx.startConsent(f, r, idpUser)
	back, err := f.Callback(ctx, path.Base(cb.Path), cb.Query())
	if err != nil {
		fx.t.Fatalf("callback: %v", err)
	}
	if u, _ := url.Parse(back); u.Query().Get(ReturnSessionParam) != uri {
		fx.t.Fatalf("return URL %q does not carry the session", back)
	}
	if err := f.Complete(ctx, testAccount, uri, r.Caller.UserID); err != nil {
		fx.t.Fatalf("complete: %v", err)
	}
	r.SessionURI, r.ForceAuthentication = uri, false // polls, as the SDKs send them
	res, err := f.UserFederation(ctx, r)
	if err != nil || res.AccessToken == "" {
		fx.t.Fatalf("token after consent: res=%+v err=%v", res, err)
	}
	return res.AccessToken
}

func code(err error) string {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func browserStatus(err error) int {
	var e *BrowserError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
