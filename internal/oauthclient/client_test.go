package oauthclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
)

// tokenServer is a scripted token endpoint that records what it received.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	respond  func(w http.ResponseWriter, r recorded)
}

type recorded struct {
	header http.Header
	form   url.Values
	body   string
}

func newTokenServer(t *testing.T, respond func(w http.ResponseWriter, r recorded)) *tokenServer {
	t.Helper()
	ts := &tokenServer{respond: respond}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec := recorded{header: r.Header.Clone(), form: form, body: string(body)}
		ts.mu.Lock()
		ts.requests = append(ts.requests, rec)
		ts.mu.Unlock()
		ts.respond(w, rec)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) last(t *testing.T) recorded {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.requests) == 0 {
		t.Fatal("no request reached the token endpoint")
	}
	return ts.requests[len(ts.requests)-1]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func provider(vendor, tokenURL, method string) credprovider.OAuth2Provider {
	info, _ := credprovider.Vendor(vendor)
	return credprovider.OAuth2Provider{
		Name: "p", Vendor: vendor, VendorInfo: info, ClientID: "client-1", ClientSecret: "secret-1",
		CallbackID: "cb-1", CallbackURL: "http://127.0.0.1/identities/oauth2/callback/cb-1",
		Endpoints:       credprovider.Endpoints{AuthorizationEndpoint: "https://idp.test/authorize?tenant=t1", TokenEndpoint: tokenURL},
		TokenAuthMethod: method,
	}
}

type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func TestClientCredentials(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		method    string
		resources []string
		status    int
		reply     map[string]any
		check     func(t *testing.T, r recorded, tok Token, err error)
	}{
		{name: "ok/basic", method: credprovider.AuthClientSecretBasic, status: 200,
			reply: map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 120, "scope": "b a"},
			check: func(t *testing.T, r recorded, tok Token, err error) {
				if err != nil {
					t.Fatal(err)
				}
				user, pass, ok := (&http.Request{Header: r.header}).BasicAuth()
				if !ok || user != "client-1" || pass != "secret-1" || r.form.Has("client_secret") {
					t.Errorf("want client_secret_basic, got basic=%v form=%v", ok, r.form)
				}
				if r.form.Get("grant_type") != "client_credentials" || r.form.Get("scope") != "a b" {
					t.Errorf("form = %v", r.form)
				}
				if tok.AccessToken != "at-1" || strings.Join(tok.Scopes, " ") != "a b" {
					t.Errorf("token = %+v", tok)
				}
			}},
		{name: "ok/post-with-resources", method: credprovider.AuthClientSecretPost, resources: []string{"https://r1", "https://r2"}, status: 200,
			reply: map[string]any{"access_token": "at-2", "token_type": "Bearer"},
			check: func(t *testing.T, r recorded, tok Token, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if r.header.Get("Authorization") != "" || r.form.Get("client_secret") != "secret-1" {
					t.Errorf("want client_secret_post, got %v", r.form)
				}
				if got := r.form["resource"]; len(got) != 2 || got[0] != "https://r1" {
					t.Errorf("resource = %v", got)
				}
				if strings.Join(tok.Scopes, " ") != "a b" {
					t.Errorf("granted scopes default to the requested ones, got %v", tok.Scopes)
				}
			}},
		{name: "fail/invalid_client", method: credprovider.AuthClientSecretBasic, status: 401,
			reply: map[string]any{"error": "invalid_client", "error_description": "bad secret", "echo": "secret-1"},
			check: func(t *testing.T, _ recorded, _ Token, err error) {
				var e *Error
				if !errors.As(err, &e) || e.Code != "invalid_client" || !e.Rejected() || e.Status != 401 {
					t.Fatalf("want a rejected invalid_client, got %v", err)
				}
				if strings.Contains(err.Error(), "secret-1") {
					t.Errorf("error leaks the response body: %v", err)
				}
			}},
		{name: "fail/unavailable", method: credprovider.AuthClientSecretBasic, status: 503,
			reply: map[string]any{"message": "down"},
			check: func(t *testing.T, _ recorded, _ Token, err error) {
				var e *Error
				if !errors.As(err, &e) || e.Rejected() || e.Status != 503 {
					t.Fatalf("want a non-rejection 503, got %v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, _ recorded) { writeJSON(w, tc.status, tc.reply) })
			c := New(Options{})
			p := provider("CustomOauth2", ts.URL, tc.method)
			ep, err := c.Endpoints(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.ClientCredentials(ctx, p, ep, []string{"b", "a"}, tc.resources, nil)
			tc.check(t, ts.last(t), tok, err)
		})
	}
}

func TestTokenLifetime(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	exp := clock.Now().Add(90 * time.Second).Unix()
	jwtLike := "h." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+jsonInt(exp)+`}`)) + ".s"
	cases := []struct {
		name  string
		reply map[string]any
		want  time.Time
	}{
		{"ok/expires_in", map[string]any{"access_token": "x", "expires_in": 300}, clock.Now().Add(300 * time.Second)},
		{"ok/jwt-exp", map[string]any{"access_token": jwtLike}, time.Unix(exp, 0)},
		{"ok/unknown", map[string]any{"access_token": "opaque"}, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, _ recorded) { writeJSON(w, 200, tc.reply) })
			c := New(Options{Now: clock.Now})
			p := provider("CustomOauth2", ts.URL, "")
			ep, _ := c.Endpoints(ctx, p)
			tok, err := c.ClientCredentials(ctx, p, ep, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Expiry.Equal(tc.want) || !tok.ObtainedAt.Equal(clock.Now()) {
				t.Errorf("expiry = %v obtained = %v, want %v", tok.Expiry, tok.ObtainedAt, tc.want)
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		reply map[string]any
		check func(t *testing.T, tok Token, err error)
	}{
		{"ok/rotated", map[string]any{"access_token": "at", "refresh_token": "rt-2"}, func(t *testing.T, tok Token, err error) {
			if err != nil || tok.RefreshToken != "rt-2" || strings.Join(tok.Scopes, " ") != "read" {
				t.Fatalf("tok=%+v err=%v", tok, err)
			}
		}},
		{"ok/kept", map[string]any{"access_token": "at"}, func(t *testing.T, tok Token, err error) {
			if err != nil || tok.RefreshToken != "rt-1" {
				t.Fatalf("a refresh without rotation must keep the old refresh token: tok=%+v err=%v", tok, err)
			}
		}},
		{"fail/invalid_grant", map[string]any{"error": "invalid_grant"}, func(t *testing.T, _ Token, err error) {
			if !InvalidGrant(err) {
				t.Fatalf("want invalid_grant, got %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(w http.ResponseWriter, r recorded) {
				if r.form.Get("grant_type") != "refresh_token" || r.form.Get("refresh_token") != "rt-1" {
					writeJSON(w, 400, map[string]any{"error": "invalid_request"})
					return
				}
				status := 200
				if _, isErr := tc.reply["error"]; isErr {
					status = 400
				}
				writeJSON(w, status, tc.reply)
			})
			c := New(Options{})
			p := provider("CustomOauth2", ts.URL, "")
			ep, _ := c.Endpoints(ctx, p)
			tok, err := c.Refresh(ctx, p, ep, "rt-1", []string{"read"})
			tc.check(t, tok, err)
		})
	}
}

func TestVendorQuirks(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/github-form-response", func(t *testing.T) {
		ts := newTokenServer(t, func(w http.ResponseWriter, r recorded) {
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			_, _ = io.WriteString(w, "access_token=gho_1&scope=repo%2Cuser&token_type=bearer")
		})
		c := New(Options{})
		p := provider("GithubOauth2", ts.URL, credprovider.AuthClientSecretPost)
		ep, _ := c.Endpoints(ctx, p)
		tok, err := c.Exchange(ctx, p, ep, "code-1", NewVerifier(), p.CallbackURL, []string{"repo"})
		if err != nil || tok.AccessToken != "gho_1" {
			t.Fatalf("tok=%+v err=%v", tok, err)
		}
		r := ts.last(t)
		if r.header.Get("Accept") != "application/json" || !strings.HasPrefix(r.header.Get("User-Agent"), "agentcore-identity/") {
			t.Errorf("headers = %v", r.header)
		}
		if r.form.Get("code_verifier") == "" || r.form.Get("redirect_uri") != p.CallbackURL {
			t.Errorf("exchange form = %v", r.form)
		}
	})
	t.Run("ok/slack-user-token", func(t *testing.T) {
		ts := newTokenServer(t, func(w http.ResponseWriter, _ recorded) {
			writeJSON(w, 200, map[string]any{"ok": true, "access_token": "xoxb-bot", "scope": "chat:write",
				"authed_user": map[string]any{"id": "U1", "access_token": "xoxp-user", "scope": "search:read,users:read", "token_type": "user"}})
		})
		c := New(Options{})
		p := provider("SlackOauth2", ts.URL, credprovider.AuthClientSecretPost)
		ep, _ := c.Endpoints(ctx, p)
		tok, err := c.Exchange(ctx, p, ep, "code", NewVerifier(), p.CallbackURL, nil)
		if err != nil || tok.AccessToken != "xoxp-user" || strings.Join(tok.Scopes, " ") != "search:read users:read" {
			t.Fatalf("want the user token with its comma-separated scopes, got %+v err=%v", tok, err)
		}
	})
	t.Run("fail/slack-ok-false", func(t *testing.T) {
		ts := newTokenServer(t, func(w http.ResponseWriter, _ recorded) {
			writeJSON(w, 200, map[string]any{"ok": false, "error": "invalid_code"})
		})
		c := New(Options{})
		p := provider("SlackOauth2", ts.URL, credprovider.AuthClientSecretPost)
		ep, _ := c.Endpoints(ctx, p)
		_, err := c.Exchange(ctx, p, ep, "code", NewVerifier(), p.CallbackURL, nil)
		var e *Error
		if !errors.As(err, &e) || e.Code != "invalid_code" {
			t.Fatalf("want invalid_code, got %v", err)
		}
	})
	t.Run("ok/notion-json-request", func(t *testing.T) {
		ts := newTokenServer(t, func(w http.ResponseWriter, r recorded) {
			var body map[string]string
			if r.header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(r.body), &body) != nil || body["code"] != "c1" {
				writeJSON(w, 400, map[string]any{"error": "invalid_request"})
				return
			}
			writeJSON(w, 200, map[string]any{"access_token": "secret_notion", "token_type": "bearer"})
		})
		c := New(Options{})
		p := provider("NotionOauth2", ts.URL, credprovider.AuthClientSecretBasic)
		ep, _ := c.Endpoints(ctx, p)
		if tok, err := c.Exchange(ctx, p, ep, "c1", NewVerifier(), p.CallbackURL, nil); err != nil || tok.AccessToken != "secret_notion" {
			t.Fatalf("tok=%+v err=%v", tok, err)
		}
	})
}

func TestDiscovery(t *testing.T) {
	ctx := context.Background()
	var calls atomic.Int32
	var methods atomic.Value
	methods.Store([]string{"client_secret_post"})
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			calls.Add(1)
			writeJSON(w, 200, map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize",
				"token_endpoint": srv.URL + "/token", "token_endpoint_auth_methods_supported": methods.Load()})
		case "/broken/.well-known/openid-configuration":
			writeJSON(w, 200, map[string]any{"issuer": srv.URL})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	clock := newClock()
	c := New(Options{Now: clock.Now, DiscoveryTTL: time.Minute})
	p := provider("CustomOauth2", "", "")
	p.Endpoints = credprovider.Endpoints{}
	p.DiscoveryURL = srv.URL + "/.well-known/openid-configuration"

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep, err := c.Endpoints(ctx, p)
			if err != nil || ep.TokenEndpoint != srv.URL+"/token" || ep.AuthStyle != oauth2.AuthStyleInParams {
				t.Errorf("ep=%+v err=%v", ep, err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("ok/cached: %d discovery fetches, want 1", n)
	}
	methods.Store([]string{"private_key_jwt", "client_secret_basic"})
	clock.Advance(2 * time.Minute)
	if ep, err := c.Endpoints(ctx, p); err != nil || ep.AuthStyle != oauth2.AuthStyleInHeader || calls.Load() != 2 {
		t.Errorf("ok/expired-refetch: ep=%+v err=%v calls=%d", ep, err, calls.Load())
	}
	for name, u := range map[string]string{"fail/404": srv.URL + "/nope/.well-known/openid-configuration",
		"fail/no-token-endpoint": srv.URL + "/broken/.well-known/openid-configuration"} {
		p.DiscoveryURL = u
		var e *Error
		if _, err := c.Endpoints(ctx, p); !errors.As(err, &e) || e.Op != "discovery" {
			t.Errorf("%s: want a discovery error, got %v", name, err)
		}
	}
}

func TestAuthCodeURL(t *testing.T) {
	verifier := NewVerifier()
	cases := []struct {
		name   string
		vendor string
		custom map[string]string
		check  func(t *testing.T, q url.Values)
	}{
		{"ok/standard-params-win", "CustomOauth2", map[string]string{"client_id": "evil", "redirect_uri": "https://evil", "state": "x",
			"code_challenge": "x", "scope": "admin", "request": "jwt", "login_hint": "alice"}, func(t *testing.T, q url.Values) {
			if q.Get("client_id") != "client-1" || q.Get("redirect_uri") != "http://cb" || q.Get("state") != "st" ||
				q.Get("scope") != "openid read" || q.Has("request") || q.Get("login_hint") != "alice" || q.Get("response_type") != "code" {
				t.Errorf("query = %v", q)
			}
			if q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(verifier) || q.Get("code_challenge_method") != "S256" {
				t.Errorf("PKCE = %v", q)
			}
			if q.Get("tenant") != "t1" {
				t.Errorf("the endpoint's own query was dropped: %v", q)
			}
		}},
		{"ok/custom-overrides-vendor-extra", "GoogleOauth2", map[string]string{"prompt": "select_account"}, func(t *testing.T, q url.Values) {
			if q.Get("prompt") != "select_account" || q.Get("access_type") != "offline" {
				t.Errorf("query = %v", q)
			}
		}},
		{"ok/slack-user-scope", "SlackOauth2", nil, func(t *testing.T, q url.Values) {
			if q.Get("user_scope") != "openid,read" || q.Has("scope") {
				t.Errorf("query = %v", q)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := provider(tc.vendor, "https://idp.test/token", "")
			raw, err := AuthCodeURL(p, Endpoints{AuthorizationEndpoint: p.Endpoints.AuthorizationEndpoint},
				AuthRequest{State: "st", Verifier: verifier, RedirectURI: "http://cb", Scopes: []string{"read", "openid", "read"}, CustomParameters: tc.custom})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(raw)
			tc.check(t, u.Query())
		})
	}
	if _, err := AuthCodeURL(provider("CustomOauth2", "", ""), Endpoints{}, AuthRequest{}); err == nil {
		t.Error("fail/no-endpoint: want an error")
	}
}
