package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// signingKey is a private key with its kid; it is the library's
// op.SigningKey.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.kid }

// publicKey is the JWKS entry (op.Key) of a signing key.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.kid }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.priv.Public() }

func newSigningKey(alg string) (*signingKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "RS256", "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported algorithm %q (want RS256, PS256, ES256 or EdDSA)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return &signingKey{kid: randomID()[:16], alg: jose.SignatureAlgorithm(alg), priv: priv}, nil
}

// RotateKeys makes a new signing key current and returns its kid. With
// keepOld the previous keys stay in the JWKS (tokens they signed still
// verify); without, the JWKS holds only the new key, so earlier tokens carry
// a kid that is no longer published.
func (p *Provider) RotateKeys(keepOld bool) string {
	k, err := newSigningKey(p.opts.Algorithm)
	if err != nil {
		p.t.Fatalf("oidctest: rotate keys: %v", err)
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if keepOld {
		p.st.keys = append(p.st.keys, k)
	} else {
		p.st.keys = []*signingKey{k}
	}
	return k.kid
}

// KeyID is the kid of the current signing key.
func (p *Provider) KeyID() string {
	return p.currentKey().kid
}

// KeyIDs lists the kids published in the JWKS, oldest first.
func (p *Provider) KeyIDs() []string {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	out := make([]string, len(p.st.keys))
	for i, k := range p.st.keys {
		out[i] = k.kid
	}
	return out
}

func (p *Provider) currentKey() *signingKey {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.keys[len(p.st.keys)-1]
}

// PublicKeyPEM is the current public key as a PEM "PUBLIC KEY" block: the
// bytes an algorithm-confusion attacker uses as an HS256 secret.
func (p *Provider) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(p.currentKey().priv.Public())
	if err != nil {
		p.t.Fatalf("oidctest: marshal public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SignOptions shape a token minted by SignRaw.
type SignOptions struct {
	// Alg is the algorithm the signature is computed with: empty for the
	// provider's algorithm, "none" for an unsigned token, HS256/384/512 to
	// MAC with HMACKey, or any RS*/PS*/ES256/EdDSA matching the key type.
	Alg string
	// HMACKey is the secret for HS* (e.g. PublicKeyPEM()).
	HMACKey []byte
	// SignWith is the kid of the (published) key that signs; empty means
	// the current key.
	SignWith string
	// KID is the kid header: nil means the signing key's kid, a pointer to
	// "" omits the header.
	KID *string
	// Header entries are set last and override alg, kid and typ; a nil
	// value removes the entry. Use it for jku, x5u, jwk, cty, crit, ….
	Header map[string]any
}

// SignRaw mints a compact JWS over claims with the provider's real keys,
// shaped by opts, for hostile-token tests. It fails the test on misuse, so
// call it from the test goroutine.
func (p *Provider) SignRaw(claims map[string]any, opts SignOptions) string {
	p.t.Helper()
	key := p.currentKey()
	if opts.SignWith != "" {
		key = p.keyByID(opts.SignWith)
	}
	alg := opts.Alg
	if alg == "" {
		alg = string(key.alg)
	}
	header := map[string]any{"alg": alg, "typ": "JWT", "kid": key.kid}
	if opts.KID != nil {
		header["kid"] = *opts.KID
		if *opts.KID == "" {
			delete(header, "kid")
		}
	}
	for k, v := range opts.Header {
		if v == nil {
			delete(header, k)
		} else {
			header[k] = v
		}
	}
	h, err := json.Marshal(header)
	if err != nil {
		p.t.Fatalf("oidctest: marshal header: %v", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		p.t.Fatalf("oidctest: marshal claims: %v", err)
	}
	input := b64(h) + "." + b64(c)
	sig, err := rawSign(alg, key.priv, opts.HMACKey, []byte(input))
	if err != nil {
		p.t.Fatalf("oidctest: sign %s: %v", alg, err)
	}
	return input + "." + b64(sig)
}

func (p *Provider) keyByID(kid string) *signingKey {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	i := slices.IndexFunc(p.st.keys, func(k *signingKey) bool { return k.kid == kid })
	if i < 0 {
		p.t.Fatalf("oidctest: no published key with kid %q", kid)
	}
	return p.st.keys[i]
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawSign computes a JWS signature by hand, because go-jose (rightly)
// refuses to produce some of the tokens tests need, such as alg=none.
func rawSign(alg string, priv crypto.Signer, hmacKey, input []byte) ([]byte, error) {
	if alg == "none" {
		return nil, nil
	}
	if k, ok := priv.(ed25519.PrivateKey); ok && alg == "EdDSA" {
		return ed25519.Sign(k, input), nil
	}
	h, ok := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[min(2, len(alg)):]]
	if !ok || len(alg) != 5 {
		return nil, fmt.Errorf("unknown alg %q or wrong key type %T", alg, priv)
	}
	if alg[:2] == "HS" {
		m := hmac.New(h.New, hmacKey)
		m.Write(input)
		return m.Sum(nil), nil
	}
	d := h.New()
	d.Write(input)
	digest := d.Sum(nil)
	rk, isRSA := priv.(*rsa.PrivateKey)
	ek, isEC := priv.(*ecdsa.PrivateKey)
	switch {
	case alg[:2] == "RS" && isRSA:
		return rsa.SignPKCS1v15(rand.Reader, rk, h, digest)
	case alg[:2] == "PS" && isRSA:
		return rsa.SignPSS(rand.Reader, rk, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case alg[:2] == "ES" && isEC:
		r, s, err := ecdsa.Sign(rand.Reader, ek, digest)
		if err != nil {
			return nil, err
		}
		size := (ek.Curve.Params().BitSize + 7) / 8 // JWS wants fixed-size r || s
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	}
	return nil, fmt.Errorf("alg %q does not fit a %T key", alg, priv)
}
