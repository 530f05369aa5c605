package devidp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum for argon2id (19 MiB, 2 passes,
// 1 lane). They are written into every hash, so raising them later keeps
// old hashes verifiable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var errBadHash = errors.New("devidp: malformed password hash")

// HashPassword returns a PHC-format argon2id hash with a fresh salt.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// VerifyPassword reports whether password matches hash, in constant time
// with respect to the derived key.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil ||
		mem == 0 || mem > 1<<21 || iters == 0 || iters > 16 || threads == 0 {
		return false, errBadHash // bounds stop a tampered record from pinning the CPU
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// passwordSymbols are the special characters Cognito's policy counts.
const passwordSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

// checkPasswordPolicy applies Cognito's default policy: at least 8
// characters with an upper and lower case letter, a digit and a symbol.
func checkPasswordPolicy(pw string) error {
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		}
	}
	var missing []string
	if len([]rune(pw)) < 8 {
		missing = append(missing, "Password not long enough")
	}
	for _, c := range []struct {
		ok  bool
		msg string
	}{{upper, "Password must have uppercase characters"}, {lower, "Password must have lowercase characters"},
		{digit, "Password must have numeric characters"}, {symbol, "Password must have symbol characters"}} {
		if !c.ok {
			missing = append(missing, c.msg)
		}
	}
	if len(missing) > 0 {
		return cognitoErr(CodeInvalidPassword, "Password did not conform with policy: %s", strings.Join(missing, "; "))
	}
	return nil
}
