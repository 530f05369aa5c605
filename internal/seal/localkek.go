package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// KEKSize is the length of a local KEK: AES-256.
const KEKSize = 32

// LocalKEK is a KEKProvider holding AES-256-GCM keys in memory, loaded from
// a key file (LoadLocalKEK) or the environment (ParseKEKEnv). Retired keys
// stay available to Unwrap so envelopes sealed before a rotation still open.
// Wrapped data keys are nonce(12) || AES-GCM(dataKey) || tag(16).
type LocalKEK struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewLocalKEK builds a provider from raw 32-byte keys by id; current names
// the key Wrap uses. The key bytes are not retained (only the expanded
// ciphers), so callers may zero their copies afterwards.
func NewLocalKEK(keys map[string][]byte, current string) (*LocalKEK, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("seal: local KEK: no keys")
	}
	if _, ok := keys[current]; !ok {
		return nil, fmt.Errorf("seal: local KEK: current key id %q is not among the keys", current)
	}
	aeads := make(map[string]cipher.AEAD, len(keys))
	for id, key := range keys {
		if len(id) == 0 || len(id) > maxKeyIDLen {
			return nil, fmt.Errorf("seal: local KEK: key id must be 1..%d bytes, got %d", maxKeyIDLen, len(id))
		}
		if len(key) != KEKSize {
			return nil, fmt.Errorf("seal: local KEK: key %q has %d bytes, want %d", id, len(key), KEKSize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("seal: local KEK: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: local KEK: key %q: %w", id, err)
		}
		aeads[id] = aead
	}
	return &LocalKEK{current: current, aeads: aeads}, nil
}

// KEKID derives a stable key id from key material, so the same key gets the
// same id whether it comes from a key file or the environment. Only a
// truncated, domain-separated SHA-256 is exposed.
func KEKID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("agentcore seal kek id\x00"))
	h.Write(key)
	return "kek-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// KeyID returns the id of the key Wrap uses.
func (k *LocalKEK) KeyID() string { return k.current }

// KeyIDs returns every key id held, current and retired, sorted.
func (k *LocalKEK) KeyIDs() []string {
	ids := make([]string, 0, len(k.aeads))
	for id := range k.aeads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Wrap encrypts dataKey under the current key, bound to aad.
func (k *LocalKEK) Wrap(_ context.Context, dataKey, aad []byte) (string, []byte, error) {
	aead := k.aeads[k.current]
	out := make([]byte, gcmNonceSize, gcmNonceSize+len(dataKey)+gcmTagSize)
	if _, err := rand.Read(out); err != nil {
		return "", nil, fmt.Errorf("seal: local KEK: nonce: %w", err)
	}
	return k.current, aead.Seal(out, out[:gcmNonceSize], dataKey, aad), nil
}

// Unwrap decrypts a data key wrapped under keyID. Failures wrap ErrOpen:
// for a local key every failure is a property of the input.
func (k *LocalKEK) Unwrap(_ context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown KEK id %q", ErrOpen, keyID)
	}
	if len(wrapped) < gcmNonceSize+gcmTagSize {
		return nil, fmt.Errorf("%w: wrapped data key too short", ErrOpen)
	}
	dataKey, err := aead.Open(nil, wrapped[:gcmNonceSize], wrapped[gcmNonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped data key does not authenticate under %q", ErrOpen, keyID)
	}
	return dataKey, nil
}
