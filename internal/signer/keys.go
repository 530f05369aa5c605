package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/seal"
)

// Algorithm is a JWS signing algorithm this package issues keys for.
type Algorithm string

// Supported algorithms: the two GetWebIdentityToken accepts.
const (
	ES384 Algorithm = "ES384" // ECDSA P-384 with SHA-384
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// Algorithms lists every supported algorithm; each account holds keys for
// all of them.
func Algorithms() []Algorithm { return []Algorithm{ES384, RS256} }

// Valid reports whether a is a supported algorithm.
func (a Algorithm) Valid() bool { return a == ES384 || a == RS256 }

// Key states. A key is published while next, active or retired (until
// DropAt); only the active key of an algorithm signs.
const (
	stateNext    = "next"
	stateActive  = "active"
	stateRetired = "retired"
)

// keyDoc is one key as stored. Private is the sealed PKCS#8 private key;
// it is erased when the key retires, since a retired key never signs again.
type keyDoc struct {
	KID         string          `json:"kid"`
	Alg         Algorithm       `json:"alg"`
	State       string          `json:"state"`
	Public      json.RawMessage `json:"public"`
	Private     []byte          `json:"private,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	ActivatedAt time.Time       `json:"activatedAt,omitzero"`
	RetiredAt   time.Time       `json:"retiredAt,omitzero"`
	DropAt      time.Time       `json:"dropAt,omitzero"`
}

// setDoc is the stored key set of one account.
type setDoc struct {
	Keys []keyDoc `json:"keys"`
}

// generate makes a fresh key for alg, seals its private half bound to
// (kind, account, kid) and returns it in state next.
func (s *Service) generate(ctx context.Context, account string, alg Algorithm) (keyDoc, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, s.rsaBits)
	default:
		return keyDoc{}, fmt.Errorf("signer: unsupported algorithm %q", alg)
	}
	if err != nil {
		return keyDoc{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(alg), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return keyDoc{}, fmt.Errorf("thumbprint %s key: %w", alg, err)
	}
	// RFC 7638 thumbprint: stable, derived from the key alone, so every
	// replica and every relying party agrees on it.
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return keyDoc{}, fmt.Errorf("encode %s public key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return keyDoc{}, fmt.Errorf("encode %s private key: %w", alg, err)
	}
	sealed, err := s.sealer.Seal(ctx, der, privateAAD(account, pub.KeyID))
	clear(der)
	if err != nil {
		return keyDoc{}, fmt.Errorf("seal %s private key: %w", alg, err)
	}
	return keyDoc{KID: pub.KeyID, Alg: alg, State: stateNext, Public: pubJSON, Private: sealed, CreatedAt: s.now().UTC()}, nil
}

// privateAAD binds a sealed private key to its account and key id, so a
// ciphertext moved to another account or key does not open.
func privateAAD(account, kid string) []byte {
	return seal.AAD(Kind, account, kid, "privateKey")
}

// openSigner unseals k's private key and builds a JWS signer that stamps
// the kid and typ headers.
func (s *Service) openSigner(ctx context.Context, account string, k keyDoc) (jose.Signer, error) {
	der, err := s.sealer.Open(ctx, k.Private, privateAAD(account, k.KID))
	if err != nil {
		return nil, fmt.Errorf("open private key %s: %w", k.KID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key %s: %w", k.KID, err)
	}
	js, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: jose.JSONWebKey{Key: priv, KeyID: k.KID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", k.KID, err)
	}
	return js, nil
}

// rotate returns doc after one rotation at now: each algorithm's active key
// retires (kept public until dropAt), its next key activates, and fresh
// becomes the new next. Retired keys past their drop time are removed.
// fresh must hold one next-state key per algorithm.
func rotate(doc setDoc, fresh []keyDoc, now, dropAt time.Time) setDoc {
	var out setDoc
	for _, k := range doc.Keys {
		switch k.State {
		case stateActive:
			k.State, k.RetiredAt, k.DropAt, k.Private = stateRetired, now, dropAt, nil
		case stateNext:
			k.State, k.ActivatedAt = stateActive, now
		case stateRetired:
			if !now.Before(k.DropAt) {
				continue
			}
		}
		out.Keys = append(out.Keys, k)
	}
	// An algorithm without a next key (a set created before that algorithm
	// existed) activates its fresh key directly.
	for _, f := range fresh {
		if !hasState(out, f.Alg, stateActive) {
			f.State, f.ActivatedAt = stateActive, now
		}
		out.Keys = append(out.Keys, f)
	}
	return out
}

func hasState(doc setDoc, alg Algorithm, state string) bool {
	for _, k := range doc.Keys {
		if k.Alg == alg && k.State == state {
			return true
		}
	}
	return false
}
