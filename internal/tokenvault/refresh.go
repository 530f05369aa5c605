package tokenvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// A refresh happens in three steps so that no database lock is held
// across the call to the provider (on SQLite a held write transaction
// would stall every write of the server, audit records included):
//
//  1. claim: under the record's row lock, find it still stale and take a
//     lease on it, or find it fresh (someone refreshed) and use it, or find
//     another replica's unexpired lease and wait;
//  2. redeem the refresh token, outside any transaction;
//  3. settle: under the row lock again, store the new access token and the
//     rotated refresh token together and release the lease.
//
// In one process, callers share one attempt (singleflight); across
// processes the lease admits one. The lease outlives the grant's timeout,
// so it cannot lapse while its holder may still redeem the token.

// refreshLease is the right of one replica to redeem a refresh token.
type refreshLease struct {
	ID    string    `json:"id"`
	Until time.Time `json:"until"`
}

var (
	// errAlreadyFresh ends a claim whose token someone else refreshed.
	errAlreadyFresh = errors.New("tokenvault: already refreshed")
	// errLeased ends a claim while another replica holds the lease.
	errLeased = errors.New("tokenvault: refresh in progress elsewhere")
	// errLeaseLost ends a settle whose lease was taken over.
	errLeaseLost = errors.New("tokenvault: refresh lease lost")
)

// leaseTTL exceeds the longest grant a lease holder may still be waiting on.
func (f *Flows) leaseTTL() time.Duration { return f.cfg.RefreshTimeout + 15*time.Second }

// refresh renews the token under (scope, key) and returns its access token;
// errNeedsConsent when only the user can get a new one.
func (f *Flows) refresh(ctx context.Context, p credprovider.OAuth2Provider, scope, key string) (string, error) {
	return f.shared(ctx, UserTokenKind+"\x00"+scope+"\x00"+key, func(ctx context.Context) (string, error) {
		ep, err := f.cfg.Client.Endpoints(ctx, p)
		if err != nil {
			return "", f.providerErr(p.Name, err)
		}
		for wait := 20 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
			tok, c, err := f.claim(ctx, p, scope, key)
			switch {
			case errors.Is(err, errAlreadyFresh):
				return tok, nil
			case errors.Is(err, errLeased):
				select {
				case <-ctx.Done():
					return "", awserr.Internal(fmt.Errorf("waiting for another replica's refresh: %w", ctx.Err()))
				case <-time.After(wait + rand.N(wait/2)):
				}
				continue
			case err != nil:
				return "", err
			}
			t, grantErr := f.cfg.Client.Refresh(ctx, p, ep, c.refreshToken, c.granted)
			if f.cfg.OnRefresh != nil {
				switch {
				case grantErr == nil:
					f.cfg.OnRefresh("success")
				case oauthclient.InvalidGrant(grantErr):
					f.cfg.OnRefresh("rejected")
				default:
					f.cfg.OnRefresh("error")
				}
			}
			return f.settle(ctx, p, scope, key, c.leaseID, t, grantErr)
		}
	})
}

// claimed is what a successful claim hands to the grant.
type claimed struct {
	leaseID      string
	refreshToken string
	granted      []string
}

func (f *Flows) claim(ctx context.Context, p credprovider.OAuth2Provider, scope, key string) (string, claimed, error) {
	c := claimed{leaseID: randomID(16)}
	var current string
	_, err := f.cfg.Store.Update(ctx, UserTokenKind, scope, key, func(cur store.Record) (store.Record, error) {
		var d userTokenDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode user token: %w", err)
		}
		if d.ProviderGen != p.CallbackID || !(d.HasRefresh || f.fresh(d)) {
			return cur, errNeedsConsent
		}
		var ts tokenSet
		if err := f.openJSON(ctx, d.Sealed, tokensAAD(scope, key), &ts); err != nil {
			return cur, fmt.Errorf("open user token: %w", err)
		}
		now := f.cfg.Now()
		switch {
		case f.fresh(d):
			current = ts.AccessToken
			return cur, errAlreadyFresh
		case d.Lease != nil && now.Before(d.Lease.Until):
			return cur, errLeased
		}
		c.refreshToken, c.granted = ts.RefreshToken, d.Granted
		d.Lease = &refreshLease{ID: c.leaseID, Until: now.Add(f.leaseTTL())}
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	switch {
	case errors.Is(err, errAlreadyFresh), errors.Is(err, errLeased), errors.Is(err, errNeedsConsent):
		return current, c, err
	case errors.Is(err, store.ErrNotFound):
		return "", c, errNeedsConsent
	case err != nil:
		return "", c, awserr.As(err)
	}
	return "", c, nil
}

// settle records the outcome of a grant made under lease leaseID.
func (f *Flows) settle(ctx context.Context, p credprovider.OAuth2Provider, scope, key, leaseID string, t oauthclient.Token, grantErr error) (string, error) {
	rejected := oauthclient.InvalidGrant(grantErr)
	var sealed []byte
	if grantErr == nil {
		var err error
		next := tokenSet{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType}
		if sealed, err = f.seal(ctx, next, tokensAAD(scope, key)); err != nil {
			return "", awserr.Internal(fmt.Errorf("seal user token: %w", err))
		}
	}
	_, err := f.cfg.Store.Update(ctx, UserTokenKind, scope, key, func(cur store.Record) (store.Record, error) {
		var d userTokenDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode user token: %w", err)
		}
		if d.Lease == nil || d.Lease.ID != leaseID {
			return cur, errLeaseLost
		}
		d.Lease = nil
		switch {
		case rejected:
			// The refresh token is dead: retire the record so no one
			// tries it again, and let the user consent anew.
			cur.ExpiresAt = f.cfg.Now()
		case grantErr == nil:
			d.Granted, d.ObtainedAt, d.Expiry = t.Scopes, t.ObtainedAt, t.Expiry
			d.HasRefresh, d.Sealed = t.RefreshToken != "", sealed
			cur.ExpiresAt = recordExpiry(d)
		}
		// On other failures only the lease is released, so the next
		// caller can try again at once.
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data = data
		return cur, nil
	})
	switch {
	case rejected:
		f.log.InfoContext(ctx, "refresh token refused; the user must consent again", slog.String("provider", p.Name))
		return "", errNeedsConsent
	case grantErr != nil:
		return "", f.providerErr(p.Name, grantErr)
	case errors.Is(err, errLeaseLost), errors.Is(err, store.ErrNotFound):
		// The token is good, but the record moved on without us (a new
		// consent replaced it, or the lease lapsed): hand it out unsaved.
		f.log.WarnContext(ctx, "refreshed token could not be stored", slog.String("provider", p.Name))
		return t.AccessToken, nil
	case err != nil:
		return "", awserr.As(err)
	}
	return t.AccessToken, nil
}
