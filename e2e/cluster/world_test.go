package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

const (
	idpUser     = "alice"
	idpPassword = "correct horse battery staple"
	idpSecret   = "cluster-idp-secret-5b1e"
	workload    = "agent-3lo"
	// flowProvider's tokens live an hour: 3LO flows never refresh.
	flowProvider = "flow-idp"
	// stormProvider's tokens live stormTokenLifetime: they expire between
	// refresh storms.
	stormProvider      = "storm-idp"
	stormTokenLifetime = 2 * time.Second
	stsAudience        = "https://rp.example.com"
)

// world is what the load runs against: SDK clients through the balancer
// and straight to each replica, two OpenID providers registered as
// credential providers, an application return URL, and a relying party
// for web identity tokens.
type world struct {
	t        *testing.T
	c        *cluster
	ctrl     *cp.Client   // through the balancer
	data     *dp.Client   // through the balancer
	stsc     *sts.Client  // through the balancer
	direct   []*dp.Client // replica i, bypassing the balancer
	ctrlOf   []*cp.Client // replica i, bypassing the balancer
	flowIdP  *oidctest.Provider
	stormIdP *oidctest.Provider
	returnTo string
	rp       *oidc.IDTokenVerifier
	agentWAT *string // workload access token of workload without a user
}

func newWorld(ctx context.Context, t *testing.T, c *cluster) *world {
	t.Helper()
	w := &world{t: t, c: c}
	w.ctrl, w.data = w.controlAt(c.lb.url()), w.dataAt(c.lb.url())
	w.stsc = sts.New(sts.Options{BaseEndpoint: aws.String(c.lb.url()), Region: region, Credentials: c.creds, HTTPClient: c.hc})
	for _, r := range c.replicas {
		w.direct = append(w.direct, w.dataAt(r.url()))
		w.ctrlOf = append(w.ctrlOf, w.controlAt(r.url()))
	}
	users := []oidctest.User{{Username: idpUser, Password: idpPassword}}
	w.flowIdP = oidctest.Start(t, oidctest.Options{Users: users})
	w.stormIdP = oidctest.Start(t, oidctest.Options{Users: users, AccessTokenLifetime: stormTokenLifetime})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "signed in")
	}))
	t.Cleanup(app.Close)
	w.returnTo = app.URL + "/oauth/return"

	for name, idp := range map[string]*oidctest.Provider{flowProvider: w.flowIdP, stormProvider: w.stormIdP} {
		out, err := w.ctrl.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
			Name: aws.String(name), CredentialProviderVendor: cptypes.CredentialProviderVendorTypeCustomOauth2,
			Oauth2ProviderConfigInput: &cptypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: cptypes.CustomOauth2ProviderConfigInput{
				OauthDiscovery: &cptypes.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL()},
				ClientId:       aws.String(name + "-client"), ClientSecret: aws.String(idpSecret),
			}},
		})
		if err != nil {
			t.Fatalf("create provider %s: %v", name, err)
		}
		if cb := aws.ToString(out.CallbackUrl); !strings.HasPrefix(cb, c.lb.url()+"/") {
			t.Fatalf("callback URL %s is not under the public URL %s", cb, c.lb.url())
		}
		idp.AddClient(oidctest.Client{ID: name + "-client", Secret: idpSecret, RedirectURIs: []string{aws.ToString(out.CallbackUrl)},
			Scopes: []string{"read"}})
	}
	if _, err := w.ctrl.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{
		Name: aws.String(workload), AllowedResourceOauth2ReturnUrls: []string{w.returnTo}}); err != nil {
		t.Fatalf("create workload: %v", err)
	}
	wat, err := w.data.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String(workload)})
	if err != nil {
		t.Fatal(err)
	}
	w.agentWAT = wat.WorkloadAccessToken

	// Web identity federation, and a relying party that knows only the
	// issuer URL (served through the balancer, so by any replica).
	iamc := iam.New(iam.Options{BaseEndpoint: aws.String(c.lb.url()), Region: region, Credentials: c.creds, HTTPClient: c.hc})
	fed, err := iamc.EnableOutboundWebIdentityFederation(ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	if err != nil {
		t.Fatalf("enable federation: %v", err)
	}
	issuer := aws.ToString(fed.IssuerIdentifier)
	if !strings.HasPrefix(issuer, c.lb.url()+"/") {
		t.Fatalf("issuer %s is not under the public URL %s", issuer, c.lb.url())
	}
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("relying party discovery of %s: %v", issuer, err)
	}
	w.rp = provider.Verifier(&oidc.Config{ClientID: stsAudience, SupportedSigningAlgs: []string{"ES384", "RS256"}})
	return w
}

func (w *world) controlAt(base string) *cp.Client {
	return cp.New(cp.Options{BaseEndpoint: aws.String(base), Region: region, Credentials: w.c.creds, HTTPClient: w.c.hc})
}

func (w *world) dataAt(base string) *dp.Client {
	return dp.New(dp.Options{BaseEndpoint: aws.String(base), Region: region, Credentials: w.c.creds, HTTPClient: w.c.hc})
}

// userWAT is a workload access token of the workload for userID.
func (w *world) userWAT(ctx context.Context, userID string) (*string, error) {
	out, err := w.data.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
		WorkloadName: aws.String(workload), UserId: aws.String(userID)})
	if err != nil {
		return nil, fmt.Errorf("GetWorkloadAccessTokenForUserId: %w", err)
	}
	return out.WorkloadAccessToken, nil
}

func (w *world) userFed(wat *string, provider string, session *string) *dp.GetResourceOauth2TokenInput {
	return &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: wat, ResourceCredentialProviderName: aws.String(provider),
		Scopes: []string{"openid", "offline_access", "read"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(w.returnTo), SessionUri: session,
	}
}

// browserError is a browser step that failed: its connection broke
// (err), or it got an unexpected status (code).
type browserError struct {
	step string
	code int
	err  error
}

func (e *browserError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s: %v", e.step, e.err)
	}
	return fmt.Sprintf("%s: HTTP %d", e.step, e.code)
}

// retryable tells whether err is of a kind a client retries: what the
// SDK's standard retryer classifies as retryable (connection errors,
// 5xx, throttling), or a browser step whose connection broke or that was
// answered 502, 503 or 504 (a user reloads the page or signs in again).
func retryable(err error) bool {
	var be *browserError
	if errors.As(err, &be) {
		return be.err != nil || be.code == http.StatusBadGateway || be.code == http.StatusServiceUnavailable ||
			be.code == http.StatusGatewayTimeout
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// noFollow is a browser that stops at each redirect.
var noFollow = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// redirectVia opens target on replica (the host swapped for its address,
// as if the balancer had sent the browser there) and returns where it
// redirects.
func redirectVia(ctx context.Context, step, target, addr string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	u.Host = addr
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, &browserError{step: step, err: err}
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, &browserError{step: step, code: resp.StatusCode}
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, fmt.Errorf("%s: location: %w", step, err)
	}
	return loc, nil
}

// flowReplicas names the replicas the steps of one 3LO flow use.
type flowReplicas struct{ start, browser, complete int }

// distinct reports whether the three steps used three replicas.
func (f flowReplicas) distinct() bool {
	return f.start != f.browser && f.browser != f.complete && f.start != f.complete
}

// consent runs a 3LO flow for userID whose steps hit different replicas:
// GetResourceOauth2Token straight to one, the browser's authorization URL
// and the provider's callback through a second, CompleteResourceTokenAuth
// on a third; the token is then fetched through the balancer (any
// replica). It returns the access token.
func (w *world) consent(ctx context.Context, provider string, idp *oidctest.Provider, wat *string, userID string, on flowReplicas) (string, error) {
	start, err := w.direct[on.start].GetResourceOauth2Token(ctx, w.userFed(wat, provider, nil))
	if err != nil {
		return "", fmt.Errorf("start on %d: %w", on.start, err)
	}
	if start.AuthorizationUrl == nil || start.SessionUri == nil || start.AccessToken != nil {
		return "", fmt.Errorf("start on %d: want a new session, got %+v", on.start, start)
	}
	browserAddr := w.c.replicas[on.browser].addr
	toIdP, err := redirectVia(ctx, "authorize", aws.ToString(start.AuthorizationUrl), browserAddr)
	if err != nil {
		return "", err
	}
	callback, err := idp.Authorize(ctx, toIdP.String(), idpUser, idpPassword)
	if err != nil {
		return "", fmt.Errorf("sign in at the provider: %w", err)
	}
	if !strings.HasPrefix(callback.String(), w.c.lb.url()+"/") {
		return "", fmt.Errorf("the provider redirected to %s, not to the public URL", callback.Redacted())
	}
	back, err := redirectVia(ctx, "callback", callback.String(), browserAddr)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(back.String(), w.returnTo+"?") || back.Query().Get("session_id") != aws.ToString(start.SessionUri) {
		return "", fmt.Errorf("callback returned the browser to %s, want %s with session %s", back.Redacted(), w.returnTo, aws.ToString(start.SessionUri))
	}
	if _, err := w.direct[on.complete].CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
		SessionUri: start.SessionUri, UserIdentifier: &dptypes.UserIdentifierMemberUserId{Value: userID}}); err != nil {
		return "", fmt.Errorf("complete on %d: %w", on.complete, err)
	}
	out, err := w.data.GetResourceOauth2Token(ctx, w.userFed(wat, provider, start.SessionUri))
	if err != nil {
		return "", fmt.Errorf("token after consent: %w", err)
	}
	if out.AccessToken == nil {
		return "", fmt.Errorf("token after consent: none, session status %s", out.SessionStatus)
	}
	if err := checkToken(ctx, idp, aws.ToString(out.AccessToken)); err != nil {
		return "", err
	}
	return aws.ToString(out.AccessToken), nil
}

// checkToken verifies that token is the provider's access token for the
// user who signed in.
func checkToken(ctx context.Context, idp *oidctest.Provider, token string) error {
	payload, err := oidc.NewRemoteKeySet(ctx, idp.JWKSURL()).VerifySignature(ctx, token)
	if err != nil {
		return fmt.Errorf("vended token does not verify at the provider: %w", err)
	}
	var claims struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return fmt.Errorf("vended token: %w", err)
	}
	if claims.Iss != idp.Issuer() || claims.Sub != "sub-"+idpUser {
		return fmt.Errorf("vended token is for iss %q sub %q", claims.Iss, claims.Sub)
	}
	return nil
}
