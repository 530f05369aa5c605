package devidp

import (
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	h := HashPassword("Corr3ct horse!")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id with our parameters", h)
	}
	if strings.Contains(h, "Corr3ct") {
		t.Fatal("hash contains the password")
	}
	for pw, want := range map[string]bool{"Corr3ct horse!": true, "corr3ct horse!": false, "": false, "Corr3ct horse! ": false} {
		ok, err := VerifyPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if a, b := HashPassword("same"), HashPassword("same"); a == b {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	good := HashPassword("pw")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"version":       strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":   strings.Join(append(append([]string{}, parts[:3]...), "m=4194304,t=2,p=1", parts[4], parts[5]), "$"),
		"zero passes":   strings.Join(append(append([]string{}, parts[:3]...), "m=19456,t=0,p=1", parts[4], parts[5]), "$"),
		"bad salt":      strings.Join(append(append([]string{}, parts[:4]...), "!!!", parts[5]), "$"),
		"missing field": strings.Join(parts[:5], "$"),
	} {
		if ok, err := VerifyPassword(h, "pw"); ok || err == nil {
			t.Errorf("%s: VerifyPassword = %v, %v; want an error", name, ok, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{
		"Xy7!pQ2#mN5$kL8@": true, "Abcdef1!": true,
		"Abcde1!": false, "abcdefg1!": false, "ABCDEFG1!": false, "Abcdefgh!": false, "Abcdefgh1": false,
	} {
		err := checkPasswordPolicy(pw)
		if (err == nil) != ok {
			t.Errorf("policy(%q) = %v, want ok=%v", pw, err, ok)
		}
		if err != nil && !awserr.IsCode(err, CodeInvalidPassword) {
			t.Errorf("policy(%q) error code = %v", pw, err)
		}
	}
}

func TestSecretHash(t *testing.T) {
	// base64(HMAC-SHA256("secret", "alice"+"client")), computed with Python's hmac.
	if got := SecretHash("secret", "alice", "client"); got != "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0=" {
		t.Errorf("SecretHash = %s", got)
	}
}
