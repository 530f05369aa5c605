package servertest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// JWTClaims decodes a JWT's payload without verifying it, for tests that
// inspect what was minted (verification is tested separately).
func JWTClaims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
