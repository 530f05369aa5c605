package jwtauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

// FuzzValidate feeds arbitrary tokens to the validator of a real provider:
// it must never panic, every refusal must be an ErrRejected, and nothing but
// the provider's own signed bytes may be accepted.
func FuzzValidate(f *testing.F) {
	p := oidctest.Start(f, oidctest.Options{})
	cfg := inbound.JWTAuthorizerConfig{DiscoveryURL: p.DiscoveryURL(), AllowedClients: []string{"fuzz-client"}}
	valid := p.SignRaw(p.AccessTokenClaims("fuzz-client", "", "openid"), oidctest.SignOptions{})
	v := New(Options{})
	if _, err := v.Validate(context.Background(), cfg, valid); err != nil {
		f.Fatalf("seed token rejected: %v", err)
	}
	for _, s := range []string{
		valid,
		p.SignRaw(p.AccessTokenClaims("fuzz-client", "", "openid"), oidctest.SignOptions{Alg: "none"}),
		p.SignRaw(p.AccessTokenClaims("fuzz-client", "", "openid"), oidctest.SignOptions{Alg: "HS256", HMACKey: p.PublicKeyPEM()}),
		"a.b.c", "", "....", strings.Repeat("A", 40) + "." + strings.Repeat("B", 40) + ".",
	} {
		f.Add(s)
	}
	segments := func(tok string) [][]byte {
		var out [][]byte
		for _, part := range strings.Split(tok, ".") {
			b, err := base64.RawURLEncoding.DecodeString(part)
			if err != nil {
				return nil
			}
			out = append(out, b)
		}
		return out
	}
	want := segments(valid)
	f.Fuzz(func(t *testing.T, token string) {
		_, err := v.Validate(context.Background(), cfg, token)
		if err != nil {
			if !errors.Is(err, inbound.ErrRejected) {
				t.Fatalf("refusal is not ErrRejected: %v", err)
			}
			return
		}
		got := segments(token)
		if len(got) != 3 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) || !bytes.Equal(got[2], want[2]) {
			t.Fatalf("accepted a token that is not the provider's: %q", token)
		}
	})
}
