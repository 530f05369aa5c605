package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/seal"
)

// SigningKey is a pool's RSA key with its kid; its methods make it the
// OpenID provider library's SigningKey.
type SigningKey struct {
	kid  string
	priv crypto.Signer
}

func (k *SigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *SigningKey) Key() any                                    { return k.priv }
func (k *SigningKey) ID() string                                  { return k.kid }

// Public is the key published in the pool's JWKS.
func (k *SigningKey) Public() crypto.PublicKey { return k.priv.Public() }

func keyAAD(poolID string) []byte { return seal.AAD(kindPool, storeAccount, poolID, "privateKey") }

// newPoolKey generates a pool's signing key and seals its private half.
// RS256, like Cognito, because every relying party supports it.
func (s *Service) newPoolKey(ctx context.Context, poolID string) (kid string, sealed []byte, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, s.rsaBits)
	if err != nil {
		return "", nil, fmt.Errorf("devidp: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", nil, fmt.Errorf("devidp: marshal key: %w", err)
	}
	sealed, err = s.sealer.Seal(ctx, der, keyAAD(poolID))
	if err != nil {
		return "", nil, fmt.Errorf("devidp: seal key: %w", err)
	}
	return randomString(alnum, 20), sealed, nil
}

// SigningKey opens a pool's signing key.
func (s *Service) SigningKey(ctx context.Context, p *Pool) (*SigningKey, error) {
	der, err := s.sealer.Open(ctx, p.PrivateKey, keyAAD(p.ID))
	if err != nil {
		return nil, fmt.Errorf("devidp: open key of pool %s: %w", p.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("devidp: parse key of pool %s: %w", p.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("devidp: key of pool %s is %T", p.ID, priv)
	}
	return &SigningKey{kid: p.KeyID, priv: signer}, nil
}

// signJWT signs claims with the pool's key as a compact JWS.
func signJWT(key *SigningKey, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256,
		Key: jose.JSONWebKey{Key: key.priv, KeyID: key.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("devidp: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devidp: sign: %w", err)
	}
	return jws.CompactSerialize()
}
