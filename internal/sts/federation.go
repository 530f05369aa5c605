// Package sts is IAM outbound web identity federation and the STS
// operations built on it: the account-wide switch (IAM
// Enable/Disable/GetOutboundWebIdentityFederationInfo), GetWebIdentityToken,
// which vends JWTs signed by the account's issuer, and GetCallerIdentity.
// The domain services live here; query.go maps them to the awsQuery wire.
package sts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Store kinds. The federation record is per account; the issuer record maps
// an issuer id (the path segment of the issuer URL) back to its account for
// the unauthenticated discovery endpoints.
const (
	FederationKind = "web-identity-federation"
	IssuerKind     = "web-identity-issuer"
	federationKey  = "default"
)

// IssuerPath is the path prefix of issuer URLs: <public-url>/sts-issuer/<id>.
// AWS uses a host per issuer (https://<id>.tokens.sts.global.api.aws); a
// path keeps a self-hosted server on one host name and certificate.
const IssuerPath = "/sts-issuer/"

type federationDoc struct {
	IssuerID   string    `json:"issuerId"`
	Enabled    bool      `json:"enabled"`
	EnabledAt  time.Time `json:"enabledAt,omitzero"`
	DisabledAt time.Time `json:"disabledAt,omitzero"`
}

type issuerDoc struct {
	Account string `json:"account"`
}

// KeyEnsurer creates an account's signing keys ahead of first use.
type KeyEnsurer interface {
	Ensure(ctx context.Context, account string) error
}

// Federation is the account-wide outbound web identity federation switch.
type Federation struct {
	store     store.Store
	keys      KeyEnsurer
	publicURL string
	now       func() time.Time
	// publishFor is how long after disabling the issuer keeps serving
	// discovery and keys, so tokens issued before remain verifiable.
	publishFor time.Duration
}

// FederationOptions configure NewFederation.
type FederationOptions struct {
	Store store.Store
	Keys  KeyEnsurer
	// PublicURL is the server's externally reachable base URL; issuer URLs
	// are built from it at read time, so changing it moves every issuer.
	PublicURL string
	Now       func() time.Time
	// PublishFor is the longest token lifetime plus leeway.
	PublishFor time.Duration
}

// NewFederation builds the federation service.
func NewFederation(opts FederationOptions) *Federation {
	f := &Federation{store: opts.Store, keys: opts.Keys, publicURL: strings.TrimRight(opts.PublicURL, "/"),
		now: opts.Now, publishFor: opts.PublishFor}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

// FederationInfo is what GetOutboundWebIdentityFederationInfo reports.
type FederationInfo struct {
	IssuerURL string
	Enabled   bool
}

func featureEnabled() error {
	return awserr.New(CodeFeatureEnabled, http.StatusConflict,
		"Outbound identity federation is already enabled for this account. Use GetOutboundWebIdentityFederationInfo to get its issuer URL.")
}

func featureDisabled() error {
	return awserr.New(CodeFeatureDisabled, http.StatusNotFound,
		"Outbound identity federation is disabled for this account.")
}

func (f *Federation) issuerURL(id string) string { return f.publicURL + IssuerPath + id }

// Enable turns federation on and returns the account's issuer URL. The
// first enable creates the issuer; re-enabling after a disable keeps it, so
// relying parties need no reconfiguration. Enabling an enabled account is
// FeatureEnabled (409), as in AWS.
func (f *Federation) Enable(ctx context.Context, account string) (string, error) {
	// Keys exist before anyone learns the issuer URL, so the first JWKS
	// fetch already has them.
	if err := f.keys.Ensure(ctx, account); err != nil {
		return "", fmt.Errorf("create signing keys: %w", err)
	}
	now := f.now().UTC()
	rec, err := f.store.Update(ctx, FederationKind, account, federationKey, func(cur store.Record) (store.Record, error) {
		var d federationDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode federation state: %w", err)
		}
		if d.Enabled {
			return cur, featureEnabled()
		}
		d.Enabled, d.EnabledAt = true, now
		data, err := json.Marshal(d)
		cur.Data = data
		return cur, err
	})
	if errors.Is(err, store.ErrNotFound) {
		rec, err = f.create(ctx, account, now)
	}
	if err != nil {
		return "", err
	}
	var d federationDoc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return "", fmt.Errorf("decode federation state: %w", err)
	}
	return f.issuerURL(d.IssuerID), nil
}

// create makes the first federation record and its issuer index together.
// A concurrent first enable that loses the race gets FeatureEnabled.
func (f *Federation) create(ctx context.Context, account string, now time.Time) (store.Record, error) {
	id := uuid.NewString()
	fed, err := json.Marshal(federationDoc{IssuerID: id, Enabled: true, EnabledAt: now})
	if err != nil {
		return store.Record{}, err
	}
	idx, err := json.Marshal(issuerDoc{Account: account})
	if err != nil {
		return store.Record{}, err
	}
	var rec store.Record
	err = f.store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.Create(ctx, store.Record{Kind: FederationKind, Account: account, Key: federationKey, Data: fed}, store.CreateOptions{}); err != nil {
			return err
		}
		_, err = tx.Create(ctx, store.Record{Kind: IssuerKind, Key: id, Data: idx}, store.CreateOptions{})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Record{}, featureEnabled()
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("store federation state: %w", err)
	}
	return rec, nil
}

// Disable turns federation off. Tokens already issued stay valid: the
// issuer keeps publishing its keys until they have expired. Disabling a
// disabled (or never enabled) account is FeatureDisabled (404).
func (f *Federation) Disable(ctx context.Context, account string) error {
	now := f.now().UTC()
	_, err := f.store.Update(ctx, FederationKind, account, federationKey, func(cur store.Record) (store.Record, error) {
		var d federationDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode federation state: %w", err)
		}
		if !d.Enabled {
			return cur, featureDisabled()
		}
		d.Enabled, d.DisabledAt = false, now
		data, err := json.Marshal(d)
		cur.Data = data
		return cur, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return featureDisabled()
	}
	return err
}

// Info reports the issuer URL and whether federation is enabled. An
// account that never enabled federation has no issuer: FeatureDisabled.
// After a disable the issuer still exists and Info reports Enabled false.
func (f *Federation) Info(ctx context.Context, account string) (FederationInfo, error) {
	d, err := f.load(ctx, account)
	if err != nil {
		return FederationInfo{}, err
	}
	return FederationInfo{IssuerURL: f.issuerURL(d.IssuerID), Enabled: d.Enabled}, nil
}

// enabledIssuer returns the issuer URL of an enabled account, or
// OutboundWebIdentityFederationDisabledException.
func (f *Federation) enabledIssuer(ctx context.Context, account string) (string, error) {
	d, err := f.load(ctx, account)
	if awserr.IsCode(err, CodeFeatureDisabled) || (err == nil && !d.Enabled) {
		return "", awserr.New(CodeFederationDisabled, http.StatusForbidden,
			"Outbound web identity federation is disabled for this account. Enable it with IAM EnableOutboundWebIdentityFederation.")
	}
	if err != nil {
		return "", err
	}
	return f.issuerURL(d.IssuerID), nil
}

func (f *Federation) load(ctx context.Context, account string) (federationDoc, error) {
	rec, err := f.store.Get(ctx, FederationKind, account, federationKey)
	if errors.Is(err, store.ErrNotFound) {
		return federationDoc{}, featureDisabled()
	}
	if err != nil {
		return federationDoc{}, fmt.Errorf("load federation state: %w", err)
	}
	var d federationDoc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return federationDoc{}, fmt.Errorf("decode federation state: %w", err)
	}
	return d, nil
}

// Issuer is a published issuer, as the discovery endpoints see it.
type Issuer struct {
	URL     string
	Account string
}

// ErrUnknownIssuer reports an issuer id that does not exist or is no
// longer published.
var ErrUnknownIssuer = errors.New("sts: unknown issuer")

// LookupIssuer resolves an issuer id for the public discovery endpoints.
// An issuer is published while federation is enabled and, after a disable,
// for as long as tokens issued before it can still be valid.
func (f *Federation) LookupIssuer(ctx context.Context, id string) (Issuer, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Issuer{}, ErrUnknownIssuer
	}
	rec, err := f.store.Get(ctx, IssuerKind, "", id)
	if errors.Is(err, store.ErrNotFound) {
		return Issuer{}, ErrUnknownIssuer
	}
	if err != nil {
		return Issuer{}, fmt.Errorf("load issuer: %w", err)
	}
	var idx issuerDoc
	if err := json.Unmarshal(rec.Data, &idx); err != nil {
		return Issuer{}, fmt.Errorf("decode issuer: %w", err)
	}
	d, err := f.load(ctx, idx.Account)
	if awserr.IsCode(err, CodeFeatureDisabled) {
		return Issuer{}, ErrUnknownIssuer
	}
	if err != nil {
		return Issuer{}, err
	}
	if !d.Enabled && !f.now().Before(d.DisabledAt.Add(f.publishFor)) {
		return Issuer{}, ErrUnknownIssuer
	}
	return Issuer{URL: f.issuerURL(d.IssuerID), Account: idx.Account}, nil
}
