package tokenvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// userTokenDoc is a user's tokens for one workload, provider and set of
// scopes, resources and audiences. The identity fields repeat what the
// record's address encodes and are checked on every read, so a token is
// never served to anyone but the (workload, user, provider) it was
// granted to.
type userTokenDoc struct {
	Workload string `json:"workload"`
	UserID   string `json:"userId"`
	Provider string `json:"provider"`
	// ProviderGen is the provider's callback id, which is new for every
	// created provider: a re-created provider does not inherit tokens.
	ProviderGen string    `json:"providerGen"`
	Scopes      []string  `json:"scopes"`
	Resources   []string  `json:"resources,omitempty"`
	Audiences   []string  `json:"audiences,omitempty"`
	Granted     []string  `json:"granted"`
	ObtainedAt  time.Time `json:"obtainedAt"`
	Expiry      time.Time `json:"expiry"`
	HasRefresh  bool      `json:"hasRefresh"`
	// Sealed is the sealed tokenSet, bound to the record's address.
	Sealed []byte `json:"tokensSealed"`
	// Lease, while unexpired, gives one replica the sole right to redeem
	// the refresh token.
	Lease *refreshLease `json:"lease,omitempty"`
}

// tokenSet is the secret part of a user's grant.
type tokenSet struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken,omitempty"`
	TokenType    string `json:"tokenType,omitempty"`
}

// errNeedsConsent: no usable token and no way to get one without the user
// (no refresh token, or the server refused it).
var errNeedsConsent = errors.New("tokenvault: user consent needed")

// userScope is the store account of a user's tokens at one provider. The
// user id is hashed: it may contain any character, and need not be
// readable in the database.
func userScope(account, userID, provider string) string {
	return account + "|" + hashHex(userID) + "|" + provider
}

// userKey addresses one token of a user at a provider. Workload names
// cannot contain "|", so workload+"|" is a safe List prefix.
func userKey(workloadName string, scopes, resources, audiences []string) string {
	return workloadName + "|" + setKey(scopes, resources, audiences)
}

func tokensAAD(scope, key string) []byte { return seal.AAD(UserTokenKind, scope, key, "tokens") }

// fresh reports whether the access token may be handed out now. A token
// without a known expiry (GitHub OAuth apps never expire theirs) stays
// fresh until a new consent replaces it.
func (f *Flows) fresh(d userTokenDoc) bool {
	if d.Expiry.IsZero() {
		return true
	}
	return f.cfg.Now().Before(serveUntil(oauthclient.Token{ObtainedAt: d.ObtainedAt, Expiry: d.Expiry}))
}

// recordExpiry makes a token record vanish once it is useless: when the
// access token expired and there is no refresh token to renew it.
func recordExpiry(d userTokenDoc) time.Time {
	if d.HasRefresh {
		return time.Time{}
	}
	return d.Expiry
}

// owns reports whether d was granted to exactly this caller and provider.
func (d userTokenDoc) owns(r Request) bool {
	return d.Workload == r.Caller.Workload && d.UserID == r.Caller.UserID &&
		d.Provider == r.Provider.Name && d.ProviderGen == r.Provider.CallbackID
}

// cachedUserToken returns the caller's token whose granted scopes cover the
// requested ones, refreshing it when it expired. ok is false when the user
// must consent (again).
func (f *Flows) cachedUserToken(ctx context.Context, r Request) (string, bool, error) {
	scope := userScope(r.Caller.Account, r.Caller.UserID, r.Provider.Name)
	page, err := f.cfg.Store.List(ctx, UserTokenKind, scope, store.ListOptions{Prefix: r.Caller.Workload + "|", Limit: 100})
	if err != nil {
		return "", false, awserr.Internal(err)
	}
	resources, audiences := oauthclient.NormalizeScopes(r.Resources), oauthclient.NormalizeScopes(r.Audiences)
	var refreshable []store.Record
	for _, rec := range page.Records {
		var d userTokenDoc
		if json.Unmarshal(rec.Data, &d) != nil || !d.owns(r) || !oauthclient.Covers(d.Granted, r.Scopes) ||
			!slices.Equal(d.Resources, resources) || !slices.Equal(d.Audiences, audiences) {
			continue
		}
		if f.fresh(d) {
			var ts tokenSet
			if err := f.openJSON(ctx, d.Sealed, tokensAAD(scope, rec.Key), &ts); err != nil {
				return "", false, awserr.Internal(fmt.Errorf("open user token: %w", err))
			}
			return ts.AccessToken, true, nil
		}
		if d.HasRefresh {
			refreshable = append(refreshable, rec)
		}
	}
	for _, rec := range refreshable {
		tok, err := f.refresh(ctx, r.Provider, scope, rec.Key)
		if errors.Is(err, errNeedsConsent) {
			continue
		}
		if err != nil {
			return "", false, err
		}
		return tok, true, nil
	}
	return "", false, nil
}

// tokenAt serves the token stored under (scope, key), refreshing it when
// needed; ok is false when there is none the caller may have.
func (f *Flows) tokenAt(ctx context.Context, r Request, scope, key string) (string, bool, error) {
	rec, err := f.cfg.Store.Get(ctx, UserTokenKind, scope, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, awserr.Internal(err)
	}
	var d userTokenDoc
	if json.Unmarshal(rec.Data, &d) != nil || !d.owns(r) {
		return "", false, nil
	}
	if f.fresh(d) {
		var ts tokenSet
		if err := f.openJSON(ctx, d.Sealed, tokensAAD(scope, key), &ts); err != nil {
			return "", false, awserr.Internal(fmt.Errorf("open user token: %w", err))
		}
		return ts.AccessToken, true, nil
	}
	tok, err := f.refresh(ctx, r.Provider, scope, key)
	if errors.Is(err, errNeedsConsent) {
		return "", false, nil
	}
	return tok, err == nil, err
}

// makeRoom checks, before a user is sent to consent, that the token the
// flow will store fits the per-user quota. Tokens of a deleted and
// re-created provider are dropped first: they can never be served.
// CompleteResourceTokenAuth enforces the quota atomically; this only
// spares the user a consent that could not be stored.
func (f *Flows) makeRoom(ctx context.Context, r Request, scope, key string) error {
	if _, err := f.cfg.Store.Get(ctx, UserTokenKind, scope, key); err == nil {
		return nil // replacing a token takes no room
	}
	n, err := f.cfg.Store.Count(ctx, UserTokenKind, scope)
	if err != nil {
		return awserr.Internal(err)
	}
	if n < f.cfg.MaxUserTokens {
		return nil
	}
	page, err := f.cfg.Store.List(ctx, UserTokenKind, scope, store.ListOptions{Limit: 100})
	if err != nil {
		return awserr.Internal(err)
	}
	for _, rec := range page.Records {
		var d userTokenDoc
		if json.Unmarshal(rec.Data, &d) == nil && d.ProviderGen != r.Provider.CallbackID {
			if err := f.cfg.Store.Delete(ctx, UserTokenKind, scope, rec.Key); err == nil {
				n--
			}
		}
	}
	if n >= f.cfg.MaxUserTokens {
		return f.quotaErr(r.Provider.Name)
	}
	return nil
}

func (f *Flows) quotaErr(provider string) error {
	return awserr.QuotaExceeded("The number of OAuth2 tokens stored for this user with credential provider %q has reached its limit of %d.",
		provider, f.cfg.MaxUserTokens)
}
