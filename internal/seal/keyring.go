package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Envelope format, version 1 (all integers big-endian):
//
//	offset  size  field
//	0       1     magic 0x53 ('S')
//	1       1     version 0x01
//	2       1     key id length n (1..255)
//	3       n     key id (the KEK that wrapped the data key)
//	3+n     2     wrapped data key length m (1..65535)
//	5+n     m     wrapped data key (opaque to the keyring; provider format)
//	5+n+m   12    AES-GCM nonce
//	17+n+m  rest  AES-256-GCM ciphertext || 16-byte tag
//
// The data key is wrapped with associated data {magic, version, 'K'} || aad
// and the plaintext is encrypted with {magic, version, 'D'} || aad, so both
// layers are bound to the caller's record/field and to the format version,
// and neither layer's ciphertext can be substituted for the other.
const (
	envMagic      byte = 'S'
	envVersion1   byte = 0x01
	dataKeySize        = 32
	gcmNonceSize       = 12
	gcmTagSize         = 16
	maxKeyIDLen        = 255
	maxWrappedLen      = 1<<16 - 1

	domainData byte = 'D'
	domainWrap byte = 'K'

	// minEnvelope is the smallest length a v1 envelope can have: a one-byte
	// key id, a one-byte wrapped key, a nonce and a bare tag.
	minEnvelope = 3 + 1 + 2 + 1 + gcmNonceSize + gcmTagSize
)

// Keyring is the envelope-encryption Sealer: a fresh AES-256-GCM data key
// per Seal, wrapped by a KEKProvider. It is safe for concurrent use if the
// provider is.
type Keyring struct {
	kek KEKProvider
}

// New returns a Keyring that wraps data keys with kek, which must not be nil.
func New(kek KEKProvider) *Keyring {
	return &Keyring{kek: kek}
}

// Seal encrypts plaintext bound to aad (normally built with AAD) and returns
// a self-describing envelope.
func (k *Keyring) Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	dataKey := make([]byte, dataKeySize)
	defer clear(dataKey)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("seal: generate data key: %w", err)
	}

	keyID, wrapped, err := k.kek.Wrap(ctx, dataKey, domainAAD(domainWrap, aad))
	if err != nil {
		return nil, fmt.Errorf("seal: wrap data key: %w", err)
	}
	if len(keyID) == 0 || len(keyID) > maxKeyIDLen {
		return nil, fmt.Errorf("seal: KEK id must be 1..%d bytes, got %d", maxKeyIDLen, len(keyID))
	}
	if len(wrapped) == 0 || len(wrapped) > maxWrappedLen {
		return nil, fmt.Errorf("seal: wrapped data key must be 1..%d bytes, got %d", maxWrappedLen, len(wrapped))
	}

	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: generate nonce: %w", err)
	}

	size := 3 + len(keyID) + 2 + len(wrapped) + gcmNonceSize + len(plaintext) + gcmTagSize
	out := make([]byte, 0, size)
	out = append(out, envMagic, envVersion1, byte(len(keyID)))
	out = append(out, keyID...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(wrapped)))
	out = append(out, wrapped...)
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plaintext, domainAAD(domainData, aad))
	return out, nil
}

// Open decrypts an envelope produced by Seal with the same aad. Every
// failure caused by the envelope or aad wraps ErrOpen; an error from the KEK
// provider that does not wrap ErrOpen (a KMS outage, say) is passed through
// without it so callers can tell "corrupt" from "try again".
func (k *Keyring) Open(ctx context.Context, envelope, aad []byte) ([]byte, error) {
	env, err := parseEnvelope(envelope)
	if err != nil {
		return nil, err
	}

	dataKey, err := k.kek.Unwrap(ctx, env.keyID, env.wrapped, domainAAD(domainWrap, aad))
	if err != nil {
		return nil, fmt.Errorf("seal: unwrap data key under %q: %w", env.keyID, err)
	}
	defer clear(dataKey)
	if len(dataKey) != dataKeySize {
		return nil, fmt.Errorf("%w: unwrapped data key has %d bytes", ErrOpen, len(dataKey))
	}

	aead, err := newGCM(dataKey)
	if err != nil {
		return nil, err
	}
	plaintext, err := aead.Open(nil, env.nonce, env.ciphertext, domainAAD(domainData, aad))
	if err != nil {
		// Deliberately vague: GCM cannot say whether aad or bytes were wrong.
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

// NeedsRewrap reports whether envelope should be re-sealed: it was wrapped
// under a KEK other than the provider's current one, uses an older format,
// or cannot be parsed at all (so a rewrap job surfaces it via Open's error
// rather than silently skipping it).
func (k *Keyring) NeedsRewrap(envelope []byte) bool {
	env, err := parseEnvelope(envelope)
	if err != nil {
		return true
	}
	return env.keyID != k.kek.KeyID()
}

// KeyID returns the id of the envelope's KEK without decrypting anything,
// for rewrap jobs and diagnostics.
func KeyID(envelope []byte) (string, error) {
	env, err := parseEnvelope(envelope)
	if err != nil {
		return "", err
	}
	return env.keyID, nil
}

type envelope struct {
	keyID      string
	wrapped    []byte
	nonce      []byte
	ciphertext []byte
}

// parseEnvelope splits a v1 envelope, checking every length against what
// is left so that no input can index out of range.
func parseEnvelope(b []byte) (envelope, error) {
	if len(b) < minEnvelope {
		return envelope{}, fmt.Errorf("%w: envelope too short (%d bytes)", ErrOpen, len(b))
	}
	if b[0] != envMagic {
		return envelope{}, fmt.Errorf("%w: not a sealed envelope", ErrOpen)
	}
	if b[1] != envVersion1 {
		return envelope{}, fmt.Errorf("%w: unsupported envelope version %d", ErrOpen, b[1])
	}
	rest := b[2:]

	idLen := int(rest[0])
	rest = rest[1:]
	if idLen == 0 || idLen > len(rest) {
		return envelope{}, fmt.Errorf("%w: bad key id length", ErrOpen)
	}
	keyID := string(rest[:idLen])
	rest = rest[idLen:]

	if len(rest) < 2 {
		return envelope{}, fmt.Errorf("%w: truncated wrapped key length", ErrOpen)
	}
	wLen := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if wLen == 0 || wLen > len(rest) {
		return envelope{}, fmt.Errorf("%w: bad wrapped key length", ErrOpen)
	}
	wrapped := rest[:wLen]
	rest = rest[wLen:]

	if len(rest) < gcmNonceSize+gcmTagSize {
		return envelope{}, fmt.Errorf("%w: truncated ciphertext", ErrOpen)
	}
	return envelope{
		keyID:      keyID,
		wrapped:    wrapped,
		nonce:      rest[:gcmNonceSize],
		ciphertext: rest[gcmNonceSize:],
	}, nil
}

// domainAAD prefixes aad with the format version and a layer tag.
func domainAAD(domain byte, aad []byte) []byte {
	out := make([]byte, 0, 3+len(aad))
	out = append(out, envMagic, envVersion1, domain)
	return append(out, aad...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead, nil
}
