package hosted

import (
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/devidp"
)

func TestTokenCrypto(t *testing.T) {
	var c tokenCrypto
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJKVEkxIiwic3ViIjoic3ViMSJ9.c2ln"
	if got, _ := c.Encrypt(jwt + ":sub1"); got != jwt {
		t.Errorf("Encrypt(token id) = %q, want the JWT itself", got)
	}
	a, _ := c.Encrypt("auth-request-id")
	b, _ := c.Encrypt("auth-request-id")
	if a == b || strings.Contains(a, "auth-request-id") {
		t.Errorf("codes %q, %q must be random and not reveal the request id", a, b)
	}
	got, err := c.Decrypt(jwt)
	if err != nil || got != "JTI1."+devidp.HashToken(jwt)+":sub1" {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
	if _, err := c.Decrypt("opaque"); err == nil {
		t.Error("Decrypt of a non-JWT succeeded")
	}
}
