package hosted

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/devidp"
)

// tokenCrypto is the library's op.Crypto. The library's own JWT access
// tokens always carry aud, which Cognito's lack; so clients use the
// "bearer" token type, whose value the library gets from
// Encrypt("<token id>:<subject>"). Our token id IS the signed JWT (minted
// by devidp), so Encrypt just returns it, and Decrypt maps a JWT back to
// "<jti>.<sha256>:<sub>" for userinfo and introspection, where liveAccess
// checks it against the stored record. Authorization codes (Encrypt of an
// auth request id) become random strings: codes are looked up, never
// decrypted, so no key has to be shared by replicas.
type tokenCrypto struct{}

func (tokenCrypto) Encrypt(s string) (string, error) {
	if tok, _, ok := strings.Cut(s, ":"); ok && strings.Count(tok, ".") == 2 {
		return tok, nil
	}
	return rand.Text() + rand.Text(), nil
}

func (tokenCrypto) Decrypt(s string) (string, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return "", errors.New("hosted: not an access token")
	}
	var c struct {
		JTI string `json:"jti"`
		Sub string `json:"sub"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil || c.JTI == "" || strings.Contains(c.Sub, ":") {
		return "", errors.New("hosted: not an access token")
	}
	// The library wants exactly "<id>:<subject>".
	return c.JTI + "." + devidp.HashToken(s) + ":" + c.Sub, nil
}
