// Package wat mints and verifies workload access tokens: short-lived,
// opaque tokens that bind an account, a workload identity and (optionally)
// the end user the agent acts for. A token is an authenticated-encryption
// envelope (internal/seal) so its content is neither readable nor forgeable
// by the agent holding it, and every replica sharing the key-encryption key
// can verify it.
package wat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/seal"
)

// Prefix marks our tokens so that a JWT or random string passed by mistake
// is told apart cheaply.
const Prefix = "wat1."

// DefaultTTL is how long a token lives.
const DefaultTTL = time.Hour

// MaxLen bounds what Verify will look at (the model allows 131072).
const MaxLen = 131072

// ErrInvalid is wrapped by every verification failure.
var ErrInvalid = errors.New("wat: invalid workload access token")

// Source says how the user was identified when the token was minted.
type Source string

// Sources.
const (
	SourceNone   Source = ""       // the agent as itself
	SourceJWT    Source = "jwt"    // GetWorkloadAccessTokenForJWT
	SourceUserID Source = "userId" // GetWorkloadAccessTokenForUserId
)

// Claims is what a token binds.
type Claims struct {
	ID       string `json:"jti"`
	Account  string `json:"acct"`
	Workload string `json:"wl"`
	UserID   string `json:"uid,omitempty"` // iss|sub for JWT users
	Source   Source `json:"src,omitempty"`
	// ArtifactHash is the SHA-256 (hex) of the exact user token or user id
	// the token was minted from: CompleteResourceTokenAuth must be called
	// with the same artifact.
	ArtifactHash string    `json:"art,omitempty"`
	IssuedAt     time.Time `json:"iat"`
	ExpiresAt    time.Time `json:"exp"`
}

// HasUser reports whether the token acts for an end user.
func (c Claims) HasUser() bool { return c.UserID != "" }

// MatchesArtifact reports, in constant time, whether artifact is the one
// the token was minted from.
func (c Claims) MatchesArtifact(artifact string) bool {
	if c.ArtifactHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashArtifact(artifact)), []byte(c.ArtifactHash)) == 1
}

// HashArtifact is the hash stored for a user token or user id.
func HashArtifact(artifact string) string {
	sum := sha256.Sum256([]byte(artifact))
	return hex.EncodeToString(sum[:])
}

// Service mints and verifies tokens.
type Service struct {
	sealer seal.Sealer
	now    func() time.Time
	ttl    time.Duration
}

// NewService builds a token service; ttl <= 0 means DefaultTTL.
func NewService(sealer seal.Sealer, now func() time.Time, ttl time.Duration) *Service {
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Service{sealer: sealer, now: now, ttl: ttl}
}

// aad binds every token to its purpose, so no other sealed value of the
// service can be passed off as one.
var aad = seal.AAD("workload-access-token", "", "", "v1")

// Mint issues a token for c (ID, IssuedAt and ExpiresAt are set here).
func (s *Service) Mint(ctx context.Context, c Claims) (string, Claims, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", Claims{}, err
	}
	c.ID = hex.EncodeToString(id)
	c.IssuedAt = s.now().UTC().Truncate(time.Second)
	c.ExpiresAt = c.IssuedAt.Add(s.ttl)
	body, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	env, err := s.sealer.Seal(ctx, body, aad)
	if err != nil {
		return "", Claims{}, fmt.Errorf("wat: seal: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(env), c, nil
}

// Verify opens a token and checks that it is unexpired and belongs to
// account. It does not check that the workload still exists.
func (s *Service) Verify(ctx context.Context, account, token string) (Claims, error) {
	if len(token) > MaxLen || !strings.HasPrefix(token, Prefix) {
		return Claims{}, fmt.Errorf("%w: not a workload access token", ErrInvalid)
	}
	env, err := base64.RawURLEncoding.DecodeString(token[len(Prefix):])
	if err != nil {
		return Claims{}, fmt.Errorf("%w: malformed", ErrInvalid)
	}
	body, err := s.sealer.Open(ctx, env, aad)
	if err != nil {
		if errors.Is(err, seal.ErrOpen) {
			return Claims{}, fmt.Errorf("%w: not issued by this service", ErrInvalid)
		}
		return Claims{}, fmt.Errorf("wat: open: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: malformed claims", ErrInvalid)
	}
	if c.Account != account {
		return Claims{}, fmt.Errorf("%w: issued to another account", ErrInvalid)
	}
	if !s.now().Before(c.ExpiresAt) {
		return Claims{}, fmt.Errorf("%w: expired at %s", ErrInvalid, c.ExpiresAt.Format(time.RFC3339))
	}
	return c, nil
}
