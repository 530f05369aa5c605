package tokenvault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/wat"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// Store kinds of the OAuth2 vending flows.
const (
	// UserTokenKind records hold a user's tokens for one workload, provider
	// and scope set. Their store account is userScope(...), so that
	// CreateOptions.MaxCount caps the tokens of one user at one provider.
	UserTokenKind = "oauth2-user-token"
	// M2MTokenKind records cache client-credentials tokens until shortly
	// before they expire.
	M2MTokenKind = "oauth2-m2m-token"
	// SessionKind records are 3LO sessions. The browser legs only know the
	// session id, so they live under sessionScope and carry their account.
	SessionKind = "oauth2-session"
)

// Defaults of FlowsConfig.
const (
	DefaultSessionTTL     = 10 * time.Minute
	DefaultMaxUserTokens  = 10
	DefaultRefreshTimeout = 30 * time.Second
	// maxSkew is the most a token's lifetime is cut short so that a caller
	// never receives a token about to expire; short-lived tokens lose a
	// tenth of their lifetime instead.
	maxSkew = time.Minute
	// unknownLifetime is how long a token whose server gave no lifetime is
	// served from the cache (M2M) or considered fresh (user tokens without
	// a refresh token are then served until replaced).
	unknownLifetime = 5 * time.Minute
)

// Session statuses as the wire reports them.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusFailed     = "FAILED"
)

// ProviderResolver finds a credential provider with its client secret.
type ProviderResolver interface {
	ResolveOAuth2(ctx context.Context, account, name string) (credprovider.OAuth2Provider, error)
}

// FlowsConfig are the dependencies and settings of Flows.
type FlowsConfig struct {
	Store     store.Store
	Sealer    seal.Sealer
	Providers ProviderResolver
	Client    *oauthclient.Client
	// PublicURL is this server's externally reachable base URL; the
	// authorization URLs handed to agents point at it.
	PublicURL string
	Now       func() time.Time
	Logger    *slog.Logger
	// SessionTTL bounds how long a user has to consent.
	SessionTTL time.Duration
	// MaxUserTokens caps stored tokens per user per provider.
	MaxUserTokens int
	// RefreshTimeout bounds one refresh or client-credentials grant.
	RefreshTimeout time.Duration
	// OnRefresh, if set, is told the outcome of every refresh grant:
	// "success", "rejected" (the provider refused the refresh token) or
	// "error" (metrics).
	OnRefresh func(outcome string)
}

// Flows vends resource OAuth2 tokens: client credentials (M2M) and user
// federation (3LO with session binding, the token vault and refresh).
type Flows struct {
	cfg FlowsConfig
	log *slog.Logger
	// grants collapses concurrent identical grants (refreshes of one user
	// token, client-credentials fetches of one cache key) in this process;
	// a refresh lease in the store does the same across processes (refresh.go).
	grants singleflight.Group
}

// NewFlows builds the service.
func NewFlows(cfg FlowsConfig) *Flows {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxUserTokens <= 0 {
		cfg.MaxUserTokens = DefaultMaxUserTokens
	}
	if cfg.RefreshTimeout <= 0 {
		cfg.RefreshTimeout = DefaultRefreshTimeout
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Flows{cfg: cfg, log: log}
}

// Request is a GetResourceOauth2Token call whose wire input is valid and
// whose token, workload and provider were resolved by the handler.
type Request struct {
	Caller   wat.Claims
	Workload workload.Identity
	Provider credprovider.OAuth2Provider
	Scopes   []string
	// Resources and Audiences are sent as "resource" and "audience"
	// parameters; they are part of what makes two tokens interchangeable.
	Resources           []string
	Audiences           []string
	SessionURI          string
	ReturnURL           string
	ForceAuthentication bool
	CustomState         string
	CustomParameters    map[string]string
}

// Result is the GetResourceOauth2Token answer: a token, or a session.
type Result struct {
	AccessToken      string
	AuthorizationURL string
	SessionURI       string
	SessionStatus    string
}

// M2M returns a client-credentials token, from the cache while it has
// enough life left.
func (f *Flows) M2M(ctx context.Context, r Request) (Result, error) {
	account := r.Caller.Account
	key := strings.Join([]string{r.Caller.Workload, r.Provider.Name, setKey(r.Scopes, r.Resources, r.Audiences)}, "|")
	// forceAuthentication skips the cache: the caller wants a new grant.
	if tok, ok := f.cachedM2M(ctx, account, key, r.Provider); ok && !r.ForceAuthentication {
		return Result{AccessToken: tok}, nil
	}
	v, err := f.shared(ctx, M2MTokenKind+"\x00"+account+"\x00"+key, func(ctx context.Context) (string, error) {
		if tok, ok := f.cachedM2M(ctx, account, key, r.Provider); ok && !r.ForceAuthentication {
			return tok, nil // filled while we queued
		}
		ep, err := f.cfg.Client.Endpoints(ctx, r.Provider)
		if err != nil {
			return "", f.providerErr(r.Provider.Name, err)
		}
		tok, err := f.cfg.Client.ClientCredentials(ctx, r.Provider, ep, r.Scopes, r.Resources, r.Audiences)
		if err != nil {
			return "", f.providerErr(r.Provider.Name, err)
		}
		if err := f.storeM2M(ctx, account, key, r.Provider, tok); err != nil {
			// The token is good; a cache failure only costs a later grant.
			f.log.WarnContext(ctx, "caching M2M token failed", slog.String("provider", r.Provider.Name), slog.String("error", err.Error()))
		}
		return tok.AccessToken, nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{AccessToken: v}, nil
}

// m2mDoc is a cached client-credentials token.
type m2mDoc struct {
	ProviderGen string `json:"providerGen"`
	Sealed      []byte `json:"accessTokenSealed"`
}

func (f *Flows) cachedM2M(ctx context.Context, account, key string, p credprovider.OAuth2Provider) (string, bool) {
	rec, err := f.cfg.Store.Get(ctx, M2MTokenKind, account, key)
	if err != nil {
		return "", false
	}
	var d m2mDoc
	if json.Unmarshal(rec.Data, &d) != nil || d.ProviderGen != p.CallbackID {
		return "", false // a deleted and re-created provider does not inherit tokens
	}
	tok, err := f.open(ctx, d.Sealed, seal.AAD(M2MTokenKind, account, key, "accessToken"))
	if err != nil {
		f.log.WarnContext(ctx, "cached M2M token does not open", slog.String("error", err.Error()))
		return "", false
	}
	return string(tok), true
}

func (f *Flows) storeM2M(ctx context.Context, account, key string, p credprovider.OAuth2Provider, tok oauthclient.Token) error {
	until := serveUntil(tok)
	if !until.After(f.cfg.Now()) {
		return nil // too short-lived to be worth caching
	}
	sealed, err := f.cfg.Sealer.Seal(ctx, []byte(tok.AccessToken), seal.AAD(M2MTokenKind, account, key, "accessToken"))
	if err != nil {
		return err
	}
	data, err := json.Marshal(m2mDoc{ProviderGen: p.CallbackID, Sealed: sealed})
	if err != nil {
		return err
	}
	rec := store.Record{Kind: M2MTokenKind, Account: account, Key: key, Data: data, ExpiresAt: until}
	_, err = f.cfg.Store.Update(ctx, M2MTokenKind, account, key, func(store.Record) (store.Record, error) { return rec, nil })
	if errors.Is(err, store.ErrNotFound) {
		_, err = f.cfg.Store.Create(ctx, rec, store.CreateOptions{})
		if errors.Is(err, store.ErrConflict) {
			return nil // another replica cached one at the same moment
		}
	}
	return err
}

// serveUntil is when a token stops being handed out: its expiry less a
// skew, or a short while when its lifetime is unknown.
func serveUntil(t oauthclient.Token) time.Time {
	if t.Expiry.IsZero() {
		return t.ObtainedAt.Add(unknownLifetime)
	}
	skew := min(maxSkew, t.Expiry.Sub(t.ObtainedAt)/10)
	return t.Expiry.Add(-skew)
}

// shared runs fn once per key among concurrent callers in this process.
// fn runs detached from the first caller's cancellation (bounded by
// RefreshTimeout), so one impatient caller cannot fail the others; each
// caller stops waiting when its own ctx ends.
func (f *Flows) shared(ctx context.Context, key string, fn func(context.Context) (string, error)) (string, error) {
	ch := f.grants.DoChan(key, func() (any, error) {
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.cfg.RefreshTimeout)
		defer cancel()
		return fn(gctx)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

// providerErr maps a failed request to a provider's authorization server.
// The message names the provider and the OAuth error code only.
func (f *Flows) providerErr(provider string, err error) error {
	var oe *oauthclient.Error
	if errors.As(err, &oe) && oe.Rejected() {
		msg := oe.Code
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", oe.Status)
		}
		if oe.Description != "" {
			msg += ": " + oe.Description
		}
		return &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, Cause: err,
			Message: fmt.Sprintf("The authorization server of credential provider %q refused the %s request (%s).", provider, oe.Op, msg)}
	}
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &awserr.Error{Code: awserr.CodeInternal, Status: http.StatusInternalServerError, Cause: err,
		Message: fmt.Sprintf("The authorization server of credential provider %q could not be reached or failed. Try again later.", provider)}
}

// setKey names a set of scopes, resources and audiences independently of
// order and duplicates.
func setKey(scopes, resources, audiences []string) string {
	h := sha256.New()
	for _, part := range [][]string{scopes, resources, audiences} {
		for _, s := range oauthclient.NormalizeScopes(part) {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomID returns n random bytes, base64url-encoded (no padding).
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f *Flows) seal(ctx context.Context, v any, aad []byte) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return f.cfg.Sealer.Seal(ctx, b, aad)
}

func (f *Flows) open(ctx context.Context, env, aad []byte) ([]byte, error) {
	return f.cfg.Sealer.Open(ctx, env, aad)
}

func (f *Flows) openJSON(ctx context.Context, env, aad []byte, v any) error {
	b, err := f.open(ctx, env, aad)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
