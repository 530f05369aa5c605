// Package jwtauth validates bearer JWTs the way an AgentCore
// customJWTAuthorizer does: keys and issuer come from the configured OpenID
// discovery URL, then the token's time claims, audience, client, scopes and
// custom claims are checked against the configuration.
//
// Only asymmetric signatures are accepted (RS*, PS*, ES*, EdDSA), and only
// with a key from the issuer's JWKS: alg none, HMAC algorithms (the
// "public key as HMAC secret" confusion), nested JWTs and key hints in the
// token (jku, x5u, jwk, x5c) are refused or ignored. Discovery documents and
// key sets are cached; an unknown kid triggers a rate-limited refetch, and
// cached keys keep being served while the identity provider is briefly
// down.
//
// A configuration with none of allowedAudience, allowedClients,
// allowedScopes and customClaims accepts every token the issuer signed
// that is within its validity period (AWS's CLI insists on at least one;
// our control plane does not, so this is the documented meaning).
package jwtauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentcore-identity/agentcore/internal/inbound"
)

// Defaults for Options fields left zero.
const (
	DefaultLeeway          = 30 * time.Second
	DefaultRefetchInterval = 30 * time.Second
	DefaultCacheTTL        = time.Hour
	DefaultMaxStale        = 24 * time.Hour
	DefaultFetchTimeout    = 10 * time.Second
	DefaultMaxTokenBytes   = 16 << 10
)

// Options configure a Validator. The zero value is usable.
type Options struct {
	// HTTPClient fetches discovery documents and key sets; it is copied,
	// and the copy applies AllowURL to redirects too. Default: a client
	// with a FetchTimeout timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Leeway tolerates clock skew on exp, nbf and iat. Zero means
	// DefaultLeeway; a negative value means none.
	Leeway time.Duration
	// RefetchInterval is the least time between two fetches of one
	// document (an unknown kid, an expired cache entry or a failed
	// attempt), so tokens with made-up kids cannot make us hammer an IdP.
	RefetchInterval time.Duration
	// CacheTTL is how long a discovery document or key set is used before
	// it is fetched again.
	CacheTTL time.Duration
	// MaxStale is how long past CacheTTL a cached document is still served
	// when refetching it fails.
	MaxStale time.Duration
	// FetchTimeout bounds one fetch.
	FetchTimeout time.Duration
	// MaxTokenBytes refuses larger tokens before parsing them.
	MaxTokenBytes int
	// AllowURL, when set, vets every URL before it is fetched (discovery,
	// jwks_uri, redirects); an error refuses the fetch. nil allows all.
	AllowURL func(*url.URL) error
	// Logger; default slog.Default().
	Logger *slog.Logger
	// OnJWKSFetch, if set, is told the outcome of every key-set fetch
	// (metrics).
	OnJWKSFetch func(ok bool)
}

// Validator is an inbound.JWTValidator. It is safe for concurrent use and
// keeps its caches for its lifetime.
type Validator struct {
	client       *http.Client
	now          func() time.Time
	leeway       time.Duration
	refetch      time.Duration
	ttl          time.Duration
	maxStale     time.Duration
	fetchTimeout time.Duration
	maxToken     int
	allowURL     func(*url.URL) error
	log          *slog.Logger
	onJWKSFetch  func(ok bool)

	mu          sync.Mutex
	discoveries map[string]*slot[discovery]
	keySets     map[string]*slot[keySet]
}

var _ inbound.JWTValidator = (*Validator)(nil)

// New builds a Validator.
func New(opts Options) *Validator {
	v := &Validator{
		now: opts.Now, leeway: opts.Leeway, refetch: opts.RefetchInterval, ttl: opts.CacheTTL,
		maxStale: opts.MaxStale, fetchTimeout: opts.FetchTimeout, maxToken: opts.MaxTokenBytes,
		allowURL: opts.AllowURL, log: opts.Logger, onJWKSFetch: opts.OnJWKSFetch,
		discoveries: map[string]*slot[discovery]{}, keySets: map[string]*slot[keySet]{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	}
	if v.refetch <= 0 {
		v.refetch = DefaultRefetchInterval
	}
	if v.ttl <= 0 {
		v.ttl = DefaultCacheTTL
	}
	if v.maxStale <= 0 {
		v.maxStale = DefaultMaxStale
	}
	if v.fetchTimeout <= 0 {
		v.fetchTimeout = DefaultFetchTimeout
	}
	if v.maxToken <= 0 {
		v.maxToken = DefaultMaxTokenBytes
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	base := opts.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: v.fetchTimeout}
	}
	v.client = httpClient(base, v.allowURL)
	return v
}

// asymmetric are the only algorithms a token may use.
var asymmetric = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// header is the part of the JOSE header we decide on before any network
// access, so junk tokens cost nothing.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Cty  string          `json:"cty"`
	Crit json.RawMessage `json:"crit"`
}

// Validate checks token against cfg and returns its caller. Every refusal
// wraps inbound.ErrRejected (and inbound.ErrUnavailable when the IdP could
// not be reached); messages never contain the token.
func (v *Validator) Validate(ctx context.Context, cfg inbound.JWTAuthorizerConfig, token string) (inbound.Caller, error) {
	hdr, err := v.checkShape(token)
	if err != nil {
		return inbound.Caller{}, err
	}
	alg := jose.SignatureAlgorithm(hdr.Alg)

	disc, err := v.discover(ctx, cfg.DiscoveryURL)
	if err != nil {
		return inbound.Caller{}, err
	}
	key, err := v.signingKey(ctx, disc, hdr.Kid, alg)
	if err != nil {
		return inbound.Caller{}, err
	}

	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{alg})
	if err != nil || len(parsed.Headers) != 1 {
		return inbound.Caller{}, reject("malformed token")
	}
	// Verify first, then decode: a payload is only read once its
	// signature holds, and the two failures get their own messages.
	if err := parsed.Claims(key.Key); err != nil {
		return inbound.Caller{}, reject("signature verification failed (key %q)", key.KeyID)
	}
	var (
		reg    jwt.Claims
		claims map[string]any
	)
	if err := parsed.UnsafeClaimsWithoutVerification(&reg, &claims); err != nil {
		return inbound.Caller{}, reject("malformed claims")
	}
	if err := v.checkTime(reg); err != nil {
		return inbound.Caller{}, err
	}
	if reg.Issuer != disc.Issuer {
		return inbound.Caller{}, reject("issuer %s does not match the discovery issuer %q", quote(reg.Issuer), disc.Issuer)
	}
	if reg.Subject == "" {
		return inbound.Caller{}, reject("token has no sub claim")
	}
	caller := inbound.Caller{
		Issuer: reg.Issuer, Subject: reg.Subject, ClientID: clientID(claims),
		Audience: []string(reg.Audience), Scopes: scopes(claims),
		ExpiresAt: reg.Expiry.Time(), Claims: claims,
	}
	if err := authorize(cfg, caller); err != nil {
		return inbound.Caller{}, err
	}
	return caller, nil
}

// checkShape refuses oversized, non-compact, unsigned, HMAC-signed and
// nested tokens from the header alone.
func (v *Validator) checkShape(token string) (header, error) {
	var hdr header
	if len(token) > v.maxToken {
		return hdr, reject("token is %d bytes, more than the %d allowed", len(token), v.maxToken)
	}
	if strings.Count(token, ".") != 2 {
		return hdr, reject("not a compact JWS (expected three dot-separated parts)")
	}
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil || json.Unmarshal(raw, &hdr) != nil {
		return hdr, reject("malformed token header")
	}
	switch {
	case hdr.Alg == "" || strings.EqualFold(hdr.Alg, "none"):
		return hdr, reject("unsigned token (alg %q) is not allowed", hdr.Alg)
	case strings.HasPrefix(strings.ToUpper(hdr.Alg), "HS"):
		return hdr, reject("symmetric alg %s is not allowed", quote(hdr.Alg))
	case !slices.Contains(asymmetric, jose.SignatureAlgorithm(hdr.Alg)):
		return hdr, reject("alg %s is not supported", quote(hdr.Alg))
	case strings.EqualFold(hdr.Cty, "JWT"):
		return hdr, reject("nested JWTs (cty JWT) are not accepted")
	case len(hdr.Crit) > 0:
		return hdr, reject("critical header extensions (crit) are not supported")
	}
	return hdr, nil
}

// signingKey finds the JWKS key for kid, refetching the key set once
// (rate-limited) when the kid is unknown, as after a key rotation. The
// token's own key hints (jku, x5u, jwk, x5c) are never consulted.
func (v *Validator) signingKey(ctx context.Context, disc discovery, kid string, alg jose.SignatureAlgorithm) (jose.JSONWebKey, error) {
	ks, err := v.keys(ctx, disc.JWKSURI, false)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	key, found, err := ks.find(kid)
	if err == nil && !found {
		if fresh, ferr := v.keys(ctx, disc.JWKSURI, true); ferr == nil {
			key, found, err = fresh.find(kid)
			ks = fresh
		} else {
			v.log.WarnContext(ctx, "jwtauth: refetching keys for an unknown kid failed", "jwks_uri", disc.JWKSURI, "err", ferr)
		}
	}
	switch {
	case err != nil:
		return key, err
	case !found:
		return key, reject("unknown signing key id %s", quote(kid))
	}
	if !advertised(disc, ks, alg) {
		return key, reject("alg %s is not advertised by the identity provider", alg)
	}
	if key.Algorithm != "" && key.Algorithm != string(alg) {
		return key, reject("token alg %s does not match the alg %s of key %q", alg, key.Algorithm, key.KeyID)
	}
	return key, nil
}

// find returns the key with kid; a token without kid may only use a set
// of exactly one key.
func (ks keySet) find(kid string) (jose.JSONWebKey, bool, error) {
	if kid == "" {
		if len(ks.keys) == 1 {
			return ks.keys[0], true, nil
		}
		return jose.JSONWebKey{}, false, reject("token has no kid and the key set holds %d keys", len(ks.keys))
	}
	for _, k := range ks.keys {
		if k.KeyID == kid {
			return k, true, nil
		}
	}
	return jose.JSONWebKey{}, false, nil
}

// advertised reports whether the IdP announces alg: in its discovery
// document or on its keys. An IdP that announces nothing gets the benefit
// of the doubt (the key type still has to fit the alg).
func advertised(disc discovery, ks keySet, alg jose.SignatureAlgorithm) bool {
	var announced bool
	for _, a := range disc.Algs {
		announced = true
		if a == string(alg) {
			return true
		}
	}
	for _, k := range ks.keys {
		if k.Algorithm != "" {
			announced = true
			if k.Algorithm == string(alg) {
				return true
			}
		}
	}
	return !announced
}

func (v *Validator) checkTime(reg jwt.Claims) error {
	now := v.now()
	if reg.Expiry == nil {
		return reject("token has no exp claim")
	}
	if exp := reg.Expiry.Time(); now.After(exp.Add(v.leeway)) {
		return reject("token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if reg.NotBefore != nil {
		if nbf := reg.NotBefore.Time(); now.Add(v.leeway).Before(nbf) {
			return reject("token not valid before %s", nbf.UTC().Format(time.RFC3339))
		}
	}
	if reg.IssuedAt != nil {
		if iat := reg.IssuedAt.Time(); now.Add(v.leeway).Before(iat) {
			return reject("token issued in the future (iat %s)", iat.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// reject builds a refusal wrapping inbound.ErrRejected.
func reject(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{inbound.ErrRejected}, args...)...)
}

// quote renders a value taken from the token for an error message, cut
// short so a hostile token cannot flood logs.
func quote(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		return fmt.Sprintf("%q…", s[:maxLen])
	}
	return fmt.Sprintf("%q", s)
}
