// Package devidp is the built-in identity provider for local development:
// Cognito-like user pools (app clients, resource servers, domains, users
// with hashed passwords) served by the same server, so the quickstarts run
// offline.
//
// This package is the directory and token issuer: pools and their
// contents, password checks, signing keys, and Cognito-shaped tokens
// (access tokens carry client_id, token_use=access, scope, username and
// no aud). Each pool's issuer is <publicURL>/idp/<poolId>. Package hosted
// serves each pool as an OpenID provider with hosted login and consent
// pages; package cognitoapi serves the Cognito admin API. Everything lives
// in the store, so several replicas share pools, codes, sessions and
// tokens; private keys and client secrets are sealed.
package devidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/devidp/docs"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Store kinds (see package docs for the one store account).
const (
	storeAccount   = docs.Account
	kindPool       = "devidp-pool"
	kindClient     = "devidp-client"
	kindUser       = "devidp-user"    // key <pool>/<lower-case username>
	kindResource   = "devidp-rs"      // key <pool>/<identifier>
	kindDomain     = "devidp-domain"  // key <domain>
	kindRefresh    = "devidp-refresh" // key <pool>/<sha256 of token>
	kindAccess     = "devidp-access"  // key <pool>/<jti>
	defaultRegion  = "us-east-1"
	defaultAccess  = time.Hour
	defaultRefresh = 30 * 24 * time.Hour
)

// Options configure a Service.
type Options struct {
	Store  store.Store
	Sealer seal.Sealer
	// PublicURL is the server's base URL; pool issuers live under it.
	PublicURL string
	Region    string
	Now       func() time.Time
	Log       *slog.Logger
	// AccessTokenLifetime and RefreshTokenLifetime default to 1 h and 30 d.
	AccessTokenLifetime  time.Duration
	RefreshTokenLifetime time.Duration
	// RSABits of new pool signing keys; default 2048.
	RSABits int
}

// Service manages pools and serves their OpenID providers.
type Service struct {
	st        store.Store
	sealer    seal.Sealer
	publicURL string
	region    string
	now       func() time.Time
	log       *slog.Logger
	accessTTL time.Duration
	refTTL    time.Duration
	rsaBits   int
}

// New builds the service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Sealer == nil || opts.PublicURL == "" {
		return nil, errors.New("devidp: Store, Sealer and PublicURL are required")
	}
	s := &Service{
		st: opts.Store, sealer: opts.Sealer, publicURL: strings.TrimSuffix(opts.PublicURL, "/"),
		region: opts.Region, now: opts.Now, log: opts.Log, accessTTL: opts.AccessTokenLifetime,
		refTTL: opts.RefreshTokenLifetime, rsaBits: opts.RSABits,
	}
	if s.region == "" {
		s.region = defaultRegion
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.accessTTL <= 0 {
		s.accessTTL = defaultAccess
	}
	if s.refTTL <= 0 {
		s.refTTL = defaultRefresh
	}
	if s.rsaBits == 0 {
		s.rsaBits = 2048
	}
	return s, nil
}

// PathPrefix is where pools' OpenID providers live: /idp/<poolId>/….
const PathPrefix = "/idp/"

// Issuer is the issuer identifier of a pool.
func (s *Service) Issuer(poolID string) string { return s.publicURL + PathPrefix + poolID }

// Cognito error codes. Cognito answers every client error with 400.
const (
	CodeNotFound         = "ResourceNotFoundException"
	CodeInvalidParameter = "InvalidParameterException"
	CodeNotAuthorized    = "NotAuthorizedException"
	CodeUsernameExists   = "UsernameExistsException"
	CodeUserNotFound     = "UserNotFoundException"
	CodeInvalidPassword  = "InvalidPasswordException"
	CodeScopeNotExist    = "ScopeDoesNotExistException"
	CodeLimitExceeded    = "LimitExceededException"
)

func cognitoErr(code, format string, args ...any) *awserr.Error {
	return awserr.New(code, http.StatusBadRequest, format, args...)
}

// InvalidParameter reports bad input the Cognito way.
func InvalidParameter(format string, args ...any) *awserr.Error {
	return cognitoErr(CodeInvalidParameter, format, args...)
}

// ids are drawn from these alphabets so they look like Cognito's.
const (
	alnum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString draws n characters uniformly from alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	limit := byte(256 - 256%len(alphabet)) // reject to avoid modulo bias
	buf := make([]byte, 1)
	for i := 0; i < n; {
		_, _ = rand.Read(buf) // never fails (crypto/rand, Go 1.24+)
		if buf[0] < limit {
			b[i] = alphabet[int(buf[0])%len(alphabet)]
			i++
		}
	}
	return string(b)
}

func (s *Service) get(ctx context.Context, kind, key string, v any) (store.Record, error) {
	return docs.Get(ctx, s.st, kind, key, v)
}

// create stores v as a new record; ttl > 0 makes it expire.
func (s *Service) create(ctx context.Context, kind, key string, v any, ttl time.Duration) error {
	var exp time.Time
	if ttl > 0 {
		exp = s.now().Add(ttl)
	}
	return docs.Create(ctx, s.st, kind, key, v, exp)
}

func update[T any](ctx context.Context, s *Service, kind, key string, fn func(*T) error) (T, error) {
	return docs.Update(ctx, s.st, kind, key, fn)
}

func (s *Service) listAll(ctx context.Context, kind, prefix string, fn func(store.Record) error) error {
	return docs.Walk(ctx, s.st, kind, prefix, fn)
}

func decodeInto(r store.Record, v any) error { return docs.Decode(r, v) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
