// Package signer holds the JWT signing keys of each account: one ES384
// (P-384) and one RS256 key in use at a time, private halves sealed in the
// store, public halves published as a JWKS. Keys rotate on a schedule
// (checked when a key is used) and on demand; rotation is a compare-and-swap
// on the account's key record, so concurrent replicas rotate exactly once.
//
// Each algorithm has an active key (signs), a next key (published ahead of
// use, so relying parties that cache the JWKS already know it when it
// activates) and retired keys (published until every token they signed has
// expired, then dropped).
package signer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Kind is the store kind of key sets: one record per (account, set).
const Kind = "signing-keys"

// Defaults for Options.
const (
	DefaultRotateEvery      = 24 * time.Hour
	DefaultMaxTokenLifetime = time.Hour // GetWebIdentityToken's longest DurationSeconds
	DefaultLeeway           = 5 * time.Minute
	// DefaultRSABits is 2048: what major OIDC issuers use for RS256, NIST
	// approved through 2030, and generated several times faster than 3072
	// bits, which matters because generation runs inline on first use and
	// at rotation.
	DefaultRSABits = 2048
)

// Options configure a Service. Store and Sealer are required.
type Options struct {
	Store  store.Store
	Sealer seal.Sealer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Set names the key set inside an account (the record key), so that
	// different issuers never share keys.
	Set string
	// RotateEvery is how long a key stays active; <= 0 means 24h.
	RotateEvery time.Duration
	// MaxTokenLifetime bounds the lifetime of any token signed; a retired
	// key is published for MaxTokenLifetime + Leeway after it retires.
	MaxTokenLifetime time.Duration
	// Leeway covers clock skew and tokens signed just as a key retired.
	Leeway time.Duration
	// RSABits is the RSA modulus size; 0 means 2048.
	RSABits int
}

// Service signs tokens with, and publishes, the keys of every account.
type Service struct {
	store       store.Store
	sealer      seal.Sealer
	now         func() time.Time
	log         *slog.Logger
	set         string
	rotateEvery time.Duration
	retention   time.Duration
	rsaBits     int

	mu sync.Mutex
	// sets caches the decoded key set per account; it is rebuilt only
	// when the stored record's version changes.
	sets map[string]*keySet
	// rotating marks accounts with a scheduled rotation in flight in this
	// process, so concurrent requests keep signing instead of queueing.
	rotating map[string]bool
}

// keySet is the decoded key set of one account at one record version.
// It is never modified after it is built.
type keySet struct {
	version int64
	doc     setDoc
	public  []jose.JSONWebKey
	dropAt  []time.Time // parallel to public; zero for keys not retired
	active  map[Algorithm]*activeKey
}

// activeKey unseals its private key on first use only: a key set may be
// rebuilt without the key changing, and requests must not pay an unseal.
type activeKey struct {
	doc         keyDoc
	activatedAt time.Time
	mu          sync.Mutex
	signer      jose.Signer
}

// ErrNoKeys reports an account whose key set does not exist yet.
var ErrNoKeys = errors.New("signer: no keys for account")

// errRaced aborts a rotation whose compare-and-swap lost to another
// rotation; the winner's keys are as good as ours.
var errRaced = errors.New("signer: key set changed concurrently")

// New builds a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Sealer == nil {
		return nil, errors.New("signer: Store and Sealer are required")
	}
	if opts.Set == "" {
		return nil, errors.New("signer: Set must name the key set")
	}
	s := &Service{store: opts.Store, sealer: opts.Sealer, now: opts.Now, log: opts.Log, set: opts.Set,
		rotateEvery: opts.RotateEvery, rsaBits: opts.RSABits,
		sets: map[string]*keySet{}, rotating: map[string]bool{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rotateEvery <= 0 {
		s.rotateEvery = DefaultRotateEvery
	}
	if s.rsaBits == 0 {
		s.rsaBits = DefaultRSABits
	}
	lifetime, leeway := opts.MaxTokenLifetime, opts.Leeway
	if lifetime <= 0 {
		lifetime = DefaultMaxTokenLifetime
	}
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	s.retention = lifetime + leeway
	return s, nil
}

// Ensure creates the account's keys if they do not exist yet.
func (s *Service) Ensure(ctx context.Context, account string) error {
	_, err := s.load(ctx, account, true)
	return err
}

// Sign signs payload (the JWT claims, as JSON) with the account's active
// key for alg and returns the compact JWS. It creates the keys on first use
// and performs a scheduled rotation when one is due.
func (s *Service) Sign(ctx context.Context, account string, alg Algorithm, payload []byte) (string, error) {
	if !alg.Valid() {
		return "", fmt.Errorf("signer: unsupported algorithm %q", alg)
	}
	ks, err := s.load(ctx, account, true)
	if err != nil {
		return "", err
	}
	if ks, err = s.rotateIfDue(ctx, account, ks); err != nil {
		return "", err
	}
	k := ks.active[alg]
	if k == nil {
		return "", fmt.Errorf("signer: account %s has no active %s key", account, alg)
	}
	js, err := s.signerOf(ctx, account, k)
	if err != nil {
		return "", err
	}
	jws, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.doc.KID, err)
	}
	return jws.CompactSerialize()
}

func (s *Service) signerOf(ctx context.Context, account string, k *activeKey) (jose.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.signer == nil {
		js, err := s.openSigner(ctx, account, k.doc)
		if err != nil {
			return nil, err
		}
		k.signer = js
	}
	return k.signer, nil
}

// PublicKeys returns the account's published keys: active, next and
// retired keys not yet past their drop time. An account without keys has
// an empty set. It never creates keys and never unseals anything.
func (s *Service) PublicKeys(ctx context.Context, account string) (jose.JSONWebKeySet, error) {
	ks, err := s.load(ctx, account, false)
	if errors.Is(err, ErrNoKeys) {
		return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}, nil
	}
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	now := s.now()
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(ks.public))}
	for i, k := range ks.public {
		if d := ks.dropAt[i]; !d.IsZero() && !now.Before(d) {
			continue
		}
		out.Keys = append(out.Keys, k)
	}
	return out, nil
}

// load returns the account's key set, reading the record (one point read)
// and rebuilding the cached set only if its version changed. With create,
// a missing set is generated; without, it is ErrNoKeys.
func (s *Service) load(ctx context.Context, account string, create bool) (*keySet, error) {
	rec, err := s.store.Get(ctx, Kind, account, s.set)
	if errors.Is(err, store.ErrNotFound) {
		if !create {
			return nil, ErrNoKeys
		}
		if rec, err = s.create(ctx, account); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	s.mu.Lock()
	prev := s.sets[account]
	s.mu.Unlock()
	if prev != nil && prev.version == rec.Version {
		return prev, nil
	}
	ks, err := build(rec, prev)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if cur := s.sets[account]; cur == nil || cur.version < ks.version {
		s.sets[account] = ks
	}
	s.mu.Unlock()
	return ks, nil
}

// create generates an active and a next key per algorithm and stores
// them. A replica that loses the race reads the winner's set.
func (s *Service) create(ctx context.Context, account string) (store.Record, error) {
	var doc setDoc
	now := s.now().UTC()
	for _, alg := range Algorithms() {
		for i := range 2 {
			k, err := s.generate(ctx, account, alg)
			if err != nil {
				return store.Record{}, err
			}
			if i == 0 {
				k.State, k.ActivatedAt = stateActive, now
			}
			doc.Keys = append(doc.Keys, k)
		}
	}
	data, err := marshalDoc(doc)
	if err != nil {
		return store.Record{}, err
	}
	rec, err := s.store.Create(ctx, store.Record{Kind: Kind, Account: account, Key: s.set, Data: data}, store.CreateOptions{})
	if errors.Is(err, store.ErrConflict) {
		rec, err = s.store.Get(ctx, Kind, account, s.set)
	}
	if err != nil {
		return store.Record{}, fmt.Errorf("store signing keys: %w", err)
	}
	s.log.Info("created signing keys", slog.String("account", account), slog.String("set", s.set))
	return rec, nil
}

// build decodes a record into a keySet, carrying over the unsealed signers
// of keys that are still active.
func build(rec store.Record, prev *keySet) (*keySet, error) {
	doc, err := unmarshalDoc(rec.Data)
	if err != nil {
		return nil, err
	}
	ks := &keySet{version: rec.Version, doc: doc, active: map[Algorithm]*activeKey{}}
	for _, k := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.Public); err != nil {
			return nil, fmt.Errorf("decode public key %s: %w", k.KID, err)
		}
		ks.public = append(ks.public, jwk)
		ks.dropAt = append(ks.dropAt, k.DropAt)
		if k.State != stateActive {
			continue
		}
		if p := prev.activeByKID(k.KID); p != nil {
			ks.active[k.Alg] = p
			continue
		}
		ks.active[k.Alg] = &activeKey{doc: k, activatedAt: k.ActivatedAt}
	}
	return ks, nil
}

func (ks *keySet) activeByKID(kid string) *activeKey {
	if ks == nil {
		return nil
	}
	for _, k := range ks.active {
		if k.doc.KID == kid {
			return k
		}
	}
	return nil
}
