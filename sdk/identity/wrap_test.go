package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/sdk/internal/reqctx"
)

const testSession = "urn:ietf:params:oauth:request_uri:sess-1"

// consentAfter answers the first oauth2 request with an authorization URL
// and the polls with IN_PROGRESS, until poll number n, which gets a token.
// Each poll is answered by step (nil: default behaviour).
func consentAfter(n int32, step func(poll int32) *wireReply) func(wireCall) wireReply {
	var polls atomic.Int32
	return func(c wireCall) wireReply {
		if c.Body["sessionUri"] == nil {
			return ok(map[string]any{"authorizationUrl": "https://consent.example/x", "sessionUri": testSession, "sessionStatus": "IN_PROGRESS"})
		}
		p := polls.Add(1)
		if step != nil {
			if r := step(p); r != nil {
				return *r
			}
		}
		if p >= n {
			return ok(map[string]any{"accessToken": "user-token"})
		}
		return ok(map[string]any{"sessionUri": testSession, "sessionStatus": "IN_PROGRESS"})
	}
}

func TestRequiresAccessTokenM2MInjectsTheToken(t *testing.T) {
	f := newWireFake(t, func(wireCall) wireReply { return ok(map[string]any{"accessToken": "cc-token"}) })
	tool := RequiresAccessTokenArg(f.client(nil), AccessTokenOptions{Provider: "svc", Scopes: []string{"read"}, Flow: FlowM2M},
		func(ctx context.Context, token string, city string) (string, error) {
			return city + " via " + token, nil
		})
	got, err := tool(WithWorkloadAccessToken(context.Background(), "wat"), "Paris")
	if err != nil || got != "Paris via cc-token" {
		t.Fatalf("tool = %q, %v", got, err)
	}
}

func TestRequiresAccessToken3LOWaitsForConsent(t *testing.T) {
	f := newWireFake(t, consentAfter(3, nil))
	var shown []string
	tool := RequiresAccessToken(f.client(nil), AccessTokenOptions{
		Provider: "github", Scopes: []string{"repo"}, Flow: FlowUserFederation, ForceAuthentication: true,
		PollInterval: 5 * time.Millisecond,
		OnAuthURL: func(ctx context.Context, url string) error {
			if runtimeWAT(ctx) != "wat-u" {
				t.Error("OnAuthURL did not get the call's context")
			}
			shown = append(shown, url)
			return nil
		},
	}, func(ctx context.Context, token string) (string, error) { return token, nil })

	// The callback URL comes from the invocation context, as the runtime's
	// OAuth2CallbackUrl header.
	ctx := reqctx.With(context.Background(), reqctx.Values{WorkloadAccessToken: "wat-u", CallbackURL: "http://localhost:8081/cb"})
	got, err := tool(ctx)
	if err != nil || got != "user-token" {
		t.Fatalf("tool = %q, %v", got, err)
	}
	if len(shown) != 1 || shown[0] != "https://consent.example/x" {
		t.Errorf("OnAuthURL calls = %v, want exactly one", shown)
	}
	calls := f.Calls()
	if len(calls) != 4 {
		t.Fatalf("want 1 request + 3 polls, got %d", len(calls))
	}
	if calls[0].Body["forceAuthentication"] != true || calls[0].Body["sessionUri"] != nil {
		t.Errorf("first request = %v", calls[0].Body)
	}
	for i, c := range calls {
		if c.Body["resourceOauth2ReturnUrl"] != "http://localhost:8081/cb" || c.Body["workloadIdentityToken"] != "wat-u" {
			t.Errorf("request %d lost the return URL or token: %v", i, c.Body)
		}
		if i > 0 && (c.Body["sessionUri"] != testSession || c.Body["forceAuthentication"] != nil) {
			t.Errorf("poll %d must carry the session and not force: %v", i, c.Body)
		}
	}
}

func runtimeWAT(ctx context.Context) string { return reqctx.From(ctx).WorkloadAccessToken }

func TestRequiresAccessTokenWithoutOnAuthURLReturnsTheURL(t *testing.T) {
	f := newWireFake(t, consentAfter(1, nil))
	called := false
	tool := RequiresAccessToken(f.client(nil), AccessTokenOptions{Provider: "github", Flow: FlowUserFederation},
		func(ctx context.Context, token string) (int, error) { called = true; return 1, nil })
	n, err := tool(WithWorkloadAccessToken(context.Background(), "wat"))
	var ar *AuthorizationRequiredError
	if !errors.As(err, &ar) || ar.URL != "https://consent.example/x" || ar.SessionURI != testSession {
		t.Fatalf("want *AuthorizationRequiredError, got %d, %v", n, err)
	}
	if called || n != 0 || len(f.Calls()) != 1 {
		t.Errorf("tool ran=%v result=%d calls=%d: want no run, zero, one request", called, n, len(f.Calls()))
	}
}

func TestRequiresAccessTokenTimesOut(t *testing.T) {
	f := newWireFake(t, consentAfter(1<<30, nil))
	tool := RequiresAccessToken(f.client(nil), AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, PollInterval: 5 * time.Millisecond, PollTimeout: 60 * time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return nil },
	}, func(ctx context.Context, token string) (string, error) { t.Error("tool ran"); return "", nil })
	start := time.Now()
	_, err := tool(WithWorkloadAccessToken(context.Background(), "wat"))
	var te *AuthorizationTimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrAuthorizationTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want *AuthorizationTimeoutError, got %v", err)
	}
	if !strings.Contains(err.Error(), "did not complete authorization") || te.URL != "https://consent.example/x" {
		t.Errorf("error = %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s", el)
	}

	// A deadline on the caller's context bounds the wait too.
	ctx, cancel := context.WithTimeout(WithWorkloadAccessToken(context.Background(), "wat"), 40*time.Millisecond)
	defer cancel()
	tool2 := RequiresAccessToken(f.client(nil), AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, PollInterval: 5 * time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return nil },
	}, func(ctx context.Context, token string) (string, error) { return token, nil })
	if _, err := tool2(ctx); !errors.Is(err, ErrAuthorizationTimeout) {
		t.Fatalf("caller deadline: %v", err)
	}
}

func TestRequiresAccessTokenBacksOffWhenThrottled(t *testing.T) {
	var mu sync.Mutex
	var stamps []time.Time
	f := newWireFake(t, consentAfter(4, func(p int32) *wireReply {
		mu.Lock()
		stamps = append(stamps, time.Now())
		mu.Unlock()
		if p == 2 || p == 3 {
			r := awsError(429, "ThrottlingException", "slow down")
			return &r
		}
		return nil
	}))
	tool := RequiresAccessToken(f.client(nil), AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, PollInterval: 20 * time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return nil },
	}, func(ctx context.Context, token string) (string, error) { return token, nil })
	if got, err := tool(WithWorkloadAccessToken(context.Background(), "wat")); err != nil || got != "user-token" {
		t.Fatalf("tool = %q, %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stamps) != 4 {
		t.Fatalf("polls = %d", len(stamps))
	}
	// After two throttles the wait doubled twice: 40ms then 80ms.
	if gap := stamps[3].Sub(stamps[2]); gap < 70*time.Millisecond {
		t.Errorf("no backoff after throttling: gap %s", gap)
	}
}

func TestRequiresAccessTokenStopsOnFailureAndCallbackErrors(t *testing.T) {
	failed := wireReply{Status: 200, Body: map[string]any{"sessionUri": testSession, "sessionStatus": "FAILED"}}
	f := newWireFake(t, consentAfter(10, func(int32) *wireReply { return &failed }))
	c := f.client(nil)
	ctx := WithWorkloadAccessToken(context.Background(), "wat")
	_, err := c.AccessToken(ctx, AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, PollInterval: time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return nil },
	})
	if !errors.Is(err, ErrAuthorizationFailed) {
		t.Fatalf("FAILED session: %v", err)
	}

	before := len(f.Calls())
	boom := errors.New("cannot show URL")
	_, err = c.AccessToken(ctx, AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, PollInterval: time.Millisecond,
		OnAuthURL: func(context.Context, string) error { return boom },
	})
	if !errors.Is(err, boom) || len(f.Calls()) != before+1 {
		t.Fatalf("OnAuthURL error: %v after %d calls", err, len(f.Calls())-before)
	}
}

func TestCustomPollerReplacesTheLoop(t *testing.T) {
	f := newWireFake(t, consentAfter(2, nil))
	var attempts int
	poller := PollerFunc(func(ctx context.Context, attempt Attempt) (string, error) {
		for {
			attempts++
			tok, err := attempt(ctx)
			if err != nil || tok != "" {
				return tok, err
			}
		}
	})
	tok, err := f.client(nil).AccessToken(WithWorkloadAccessToken(context.Background(), "wat"), AccessTokenOptions{
		Provider: "github", Flow: FlowUserFederation, Poller: poller,
		OnAuthURL: func(context.Context, string) error { return nil },
	})
	if err != nil || tok != "user-token" || attempts != 2 {
		t.Fatalf("token %q, err %v, attempts %d", tok, err, attempts)
	}
}

func TestRequiresAPIKeyInjectsTheKey(t *testing.T) {
	f := newWireFake(t, func(c wireCall) wireReply {
		if c.Body["resourceCredentialProviderName"] == "missing" {
			return awsError(404, "ResourceNotFoundException", "no provider")
		}
		return ok(map[string]any{"apiKey": "key-for-" + c.Body["workloadIdentityToken"].(string)})
	})
	c := f.client(nil)
	tool := RequiresAPIKey(c, "weather", func(ctx context.Context, key string) (string, error) { return key, nil })
	got, err := tool(WithWorkloadAccessToken(context.Background(), "wat-7"))
	if err != nil || got != "key-for-wat-7" {
		t.Fatalf("tool = %q, %v", got, err)
	}
	ran := false
	bad := RequiresAPIKey(c, "missing", func(ctx context.Context, key string) (string, error) { ran = true; return "", nil })
	if _, err := bad(WithWorkloadAccessToken(context.Background(), "wat")); !errors.Is(err, ErrNotFound) || ran {
		t.Fatalf("missing provider: err %v, tool ran %v", err, ran)
	}
}

func TestRequiresWorkloadAccessToken(t *testing.T) {
	tool := RequiresWorkloadAccessToken(func(ctx context.Context, wat string) (string, error) { return wat, nil })
	if got, err := tool(WithWorkloadAccessToken(context.Background(), "w")); err != nil || got != "w" {
		t.Fatalf("= %q, %v", got, err)
	}
	if _, err := tool(context.Background()); !errors.Is(err, ErrNoWorkloadAccessToken) {
		t.Fatalf("no token: %v", err)
	}
}

func TestWrappersRejectBadOptionsAtWrapTime(t *testing.T) {
	c := &Client{}
	fn := func(context.Context, string) (string, error) { return "", nil }
	cases := map[string]func(){
		"no-provider": func() { RequiresAccessToken(c, AccessTokenOptions{Flow: FlowM2M}, fn) },
		"bad-flow":    func() { RequiresAccessToken(c, AccessTokenOptions{Provider: "p", Flow: "AUTH_CODE"}, fn) },
		"nil-client":  func() { RequiresAccessToken(nil, AccessTokenOptions{Provider: "p", Flow: FlowM2M}, fn) },
		"api-key":     func() { RequiresAPIKey(c, "", fn) },
	}
	for name, wrap := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			wrap()
		})
	}
}
