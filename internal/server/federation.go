package server

import (
	"context"
	"errors"
	"time"

	"github.com/agentcore-identity/agentcore/internal/oidcissuer"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/signer"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/sts"
)

// WebIdentityKeySet names the signing keys of the STS web identity issuer
// inside each account's key records.
const WebIdentityKeySet = "sts-web-identity"

// mountFederation adds IAM outbound web identity federation, STS and the
// public issuer endpoints.
func mountFederation(_ context.Context, m *mounts) error {
	keys, err := newWebIdentitySigner(m.deps)
	if err != nil {
		return err
	}
	fed := sts.NewFederation(sts.FederationOptions{
		Store: m.store, Keys: keys, PublicURL: m.publicURL, Now: m.now,
		PublishFor: signer.DefaultMaxTokenLifetime + signer.DefaultLeeway,
	})
	h := &sts.Handlers{Federation: fed, Tokens: sts.NewTokens(fed, keys, m.keys, m.now)}
	m.query["sts"] = h.STS(m.log)
	m.query["iam"] = h.IAM(m.log)

	oidcissuer.Mount(m.public, oidcissuer.Options{
		Prefix: sts.IssuerPath,
		Lookup: func(ctx context.Context, id string) (oidcissuer.Issuer, error) {
			iss, err := fed.LookupIssuer(ctx, id)
			if errors.Is(err, sts.ErrUnknownIssuer) {
				return oidcissuer.Issuer{}, oidcissuer.ErrUnknownIssuer
			}
			return oidcissuer.Issuer{URL: iss.URL, Account: iss.Account}, err
		},
		Keys:       keys,
		Algorithms: []string{string(signer.ES384), string(signer.RS256)},
		Claims:     []string{"iss", "aud", "sub", "iat", "exp", "jti", sts.ClaimsNamespace},
		Log:        m.log,
	})
	return nil
}

// newWebIdentitySigner builds the signer of STS web identity tokens. Every
// process that shares the store and key-encryption key builds the same one,
// which is how an admin command rotates keys: see RotateWebIdentityKeys.
func newWebIdentitySigner(d deps) (*signer.Service, error) {
	return signer.New(signer.Options{
		Store: d.store, Sealer: d.sealer, Now: d.now, Log: d.log, Set: WebIdentityKeySet,
		RotateEvery: d.cfg.SigningKeyRotation,
	})
}

// RotateWebIdentityKeys rotates the STS web identity signing keys of
// account now. It needs only the store and the key-encryption key, so an
// admin command (or a test) can run it beside live servers: they notice the
// new record version on their next signature once their read caches let
// go of the old one — at once through the server's own store, on the
// change notification on PostgreSQL (a store from OpenStore announces
// it), and within readcache.DefaultTTL for another process on SQLite.
// now nil means time.Now.
func RotateWebIdentityKeys(ctx context.Context, st store.Store, kek seal.KEKProvider, account string, now func() time.Time) error {
	s, err := signer.New(signer.Options{Store: st, Sealer: seal.New(kek), Now: now, Set: WebIdentityKeySet})
	if err != nil {
		return err
	}
	return s.Rotate(ctx, account)
}
