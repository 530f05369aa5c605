// Package seal encrypts secrets at rest with envelope encryption: each
// secret gets a fresh AES-256-GCM data key, which is wrapped by a
// key-encryption key (KEK) from a KEKProvider. The envelope carries a format
// version and the KEK id, and every seal is bound to associated data naming
// the record and field it belongs to, so a ciphertext copied to another row
// does not open.
package seal

import (
	"context"
	"errors"
)

// ErrOpen is returned (wrapped) for any envelope that does not decrypt:
// wrong associated data, tampering, unknown key id, bad format.
var ErrOpen = errors.New("seal: cannot open envelope")

// Sealer seals and opens secrets.
type Sealer interface {
	Seal(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, envelope, aad []byte) ([]byte, error)
}

// KEKProvider wraps and unwraps data keys. The local file provider is the
// default; a cloud KMS is the other intended implementation. Every provider
// must pass sealtest.RunKEK.
type KEKProvider interface {
	// KeyID names the key that Wrap uses now.
	KeyID() string
	// Wrap encrypts a data key under the current KEK, bound to aad, and
	// names the key it used: a provider that rotates between a KeyID call
	// and a Wrap call must not make the envelope name the wrong key.
	Wrap(ctx context.Context, dataKey, aad []byte) (keyID string, wrapped []byte, err error)
	// Unwrap decrypts a data key wrapped under keyID (current or retired).
	// Cryptographic failures wrap ErrOpen; outages of a remote provider
	// must not, so callers can tell corrupt data from "try again".
	Unwrap(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// AAD builds the associated data that binds a sealed value to its record
// and field. Parts are length-prefixed so ("ab","c") != ("a","bc").
func AAD(kind, account, key, field string) []byte {
	var out []byte
	for _, p := range []string{kind, account, key, field} {
		n := len(p)
		out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		out = append(out, p...)
	}
	return out
}
