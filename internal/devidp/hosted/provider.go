// Package hosted serves each user pool of the built-in identity provider
// (internal/devidp) as an OpenID provider, on
// github.com/zitadel/oidc/v3/pkg/op, under /idp/<poolId> and laid out like
// Cognito's: /.well-known/openid-configuration, /.well-known/jwks.json,
// /oauth2/authorize, /oauth2/token, /oauth2/userInfo, /oauth2/revoke, plus
// the hosted /login and /consent pages. It supports the authorization
// code flow with PKCE, refresh with rotation and client credentials.
// Authorization requests, codes and browser sessions are store records
// with an expiry, so any replica can serve any step.
package hosted

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/devidp/docs"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/web"
)

// Store kinds of the flows' state.
const (
	kindAuthReq = "devidp-authreq" // key <pool>/<id>
	kindCode    = "devidp-code"    // key <pool>/<sha256 of code>
	kindSession = "devidp-session" // key <pool>/<sha256 of cookie>
	authReqTTL  = 10 * time.Minute
	sessionTTL  = time.Hour
)

// Paths of the hosted pages below a pool's issuer, and the query
// parameter naming the pending authorization request.
const (
	loginPath   = "/login"
	consentPath = "/consent"
	reqParam    = "authRequestID"
)

// Options configure a Provider.
type Options struct {
	IdP   *devidp.Service
	Store store.Store
	Now   func() time.Time
	Log   *slog.Logger
}

// Provider is the http.Handler of every pool's OpenID provider; mount it
// at devidp.PathPrefix on a public (unauthenticated) route.
type Provider struct {
	idp     *devidp.Service
	st      store.Store
	now     func() time.Time
	log     *slog.Logger
	https   bool
	handler http.Handler
}

// New builds the provider.
func New(opts Options) (*Provider, error) {
	if opts.IdP == nil || opts.Store == nil {
		return nil, errors.New("hosted: IdP and Store are required")
	}
	p := &Provider{idp: opts.IdP, st: opts.Store, now: opts.Now, log: opts.Log,
		https: strings.HasPrefix(opts.IdP.Issuer(""), "https://")}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var cryptoKey [32]byte
	_, _ = rand.Read(cryptoKey[:]) // unused: tokenCrypto replaces the library's crypto
	cfg := &op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       append([]string{"offline_access"}, devidp.StandardScopes()...),
		SupportedClaims: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
			"email", "email_verified", "cognito:username", "token_use", "preferred_username"},
	}
	opOpts := []op.Option{
		op.WithCrypto(tokenCrypto{}),
		op.WithCustomEndpoints(op.NewEndpoint("oauth2/authorize"), op.NewEndpoint("oauth2/token"),
			op.NewEndpoint("oauth2/userInfo"), op.NewEndpoint("oauth2/revoke"), op.NewEndpoint("logout"),
			op.NewEndpoint(".well-known/jwks.json")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oauth2/introspect")),
	}
	if !p.https {
		opOpts = append(opOpts, op.WithAllowInsecure())
	}
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string { return p.idp.Issuer(poolFrom(r.Context()).ID) }, nil
	}
	provider, err := op.NewProvider(cfg, &storage{p: p}, issuer, opOpts...)
	if err != nil {
		return nil, fmt.Errorf("hosted: new provider: %w", err)
	}
	pg := &pages{p: p, op: provider}
	withIssuer := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux := http.NewServeMux()
	mux.Handle(loginPath, withIssuer.HandlerFunc(pg.login))
	mux.Handle(consentPath, withIssuer.HandlerFunc(pg.consent))
	mux.Handle("/", provider)
	p.handler = mux
	return p, nil
}

// ServeHTTP resolves the pool in the path and hands the rest of the path
// to the pool's provider.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, devidp.PathPrefix)
	poolID, sub, _ := strings.Cut(rest, "/")
	if !ok || poolID == "" {
		http.NotFound(w, r)
		return
	}
	pool, err := p.idp.LookupPool(r.Context(), poolID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			web.RenderError(w, web.ErrorPage{Status: http.StatusNotFound, Title: "Unknown user pool",
				Message: "There is no user pool with this id."})
			return
		}
		p.log.ErrorContext(r.Context(), "hosted: load pool", "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// The library routes on paths relative to the issuer.
	r2 := r.Clone(withPool(r.Context(), &pool))
	r2.URL = &url.URL{Path: "/" + sub, RawQuery: r.URL.RawQuery}
	p.handler.ServeHTTP(w, r2)
}

func (p *Provider) create(ctx context.Context, kind, key string, v any, ttl time.Duration) error {
	return docs.Create(ctx, p.st, kind, key, v, p.now().Add(ttl))
}

// liveAccess loads the access token named by a tokenCrypto.Decrypt result
// ("<jti>.<sha256>") and checks it is the very token presented.
func (p *Provider) liveAccess(ctx context.Context, tokenID, subject string) (devidp.AccessToken, error) {
	jti, hash, _ := strings.Cut(tokenID, ".")
	rec, err := p.idp.LookupAccess(ctx, poolFrom(ctx).ID, jti)
	if err != nil || rec.Hash != hash || rec.Subject != subject {
		return devidp.AccessToken{}, errors.New("hosted: access token unknown, revoked or expired")
	}
	return rec, nil
}
