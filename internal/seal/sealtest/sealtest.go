// Package sealtest holds conformance suites that every seal.KEKProvider and
// seal.Sealer implementation must pass, so a KMS-backed provider is held to
// the same properties as the local one.
package sealtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/seal"
)

// RunKEK checks a KEK provider. newProvider is called once per subtest.
// Cryptographic failures (wrong aad, tampering, unknown key id) must wrap
// seal.ErrOpen, because the keyring passes provider errors through and
// callers use ErrOpen to tell corrupt data from an outage.
func RunKEK(t *testing.T, newProvider func(t *testing.T) seal.KEKProvider) {
	t.Helper()
	ctx := context.Background()
	aad := seal.AAD("credential", "123456789012", "key-1", "secret")

	t.Run("key-id", func(t *testing.T) {
		p := newProvider(t)
		id := p.KeyID()
		if id == "" || len(id) > 255 {
			t.Fatalf("KeyID() = %q; want 1..255 bytes", id)
		}
		if again := p.KeyID(); again != id {
			t.Fatalf("KeyID() not stable: %q then %q", id, again)
		}
	})

	t.Run("round-trip", func(t *testing.T) {
		p := newProvider(t)
		dk := randomBytes(t, 32)
		orig := bytes.Clone(dk)
		w := mustWrap(t, p, dk, aad)
		if !bytes.Equal(dk, orig) {
			t.Fatal("Wrap modified its dataKey argument")
		}
		if bytes.Contains(w, dk) {
			t.Fatal("wrapped key contains the data key in the clear")
		}
		got, err := p.Unwrap(ctx, p.KeyID(), w, aad)
		if err != nil {
			t.Fatalf("Unwrap: %v", err)
		}
		if !bytes.Equal(got, dk) {
			t.Fatal("Unwrap returned a different data key")
		}
	})

	t.Run("wrong-aad", func(t *testing.T) {
		p := newProvider(t)
		w := mustWrap(t, p, randomBytes(t, 32), aad)
		for name, other := range map[string][]byte{
			"other-field": seal.AAD("credential", "123456789012", "key-1", "other"),
			"empty":       nil,
			"extended":    append(bytes.Clone(aad), 0),
		} {
			_, err := p.Unwrap(ctx, p.KeyID(), w, other)
			wantOpenErr(t, name, err)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		p := newProvider(t)
		w := mustWrap(t, p, randomBytes(t, 32), aad)
		for i := range w {
			bad := bytes.Clone(w)
			bad[i] ^= 0x01
			_, err := p.Unwrap(ctx, p.KeyID(), bad, aad)
			wantOpenErr(t, "flipped byte", err)
		}
		for n := 0; n < len(w); n++ {
			_, err := p.Unwrap(ctx, p.KeyID(), w[:n], aad)
			wantOpenErr(t, "truncated", err)
		}
		_, err := p.Unwrap(ctx, p.KeyID(), append(bytes.Clone(w), 0), aad)
		wantOpenErr(t, "extended", err)
	})

	t.Run("unknown-key-id", func(t *testing.T) {
		p := newProvider(t)
		w := mustWrap(t, p, randomBytes(t, 32), aad)
		_, err := p.Unwrap(ctx, p.KeyID()+"-nope", w, aad)
		wantOpenErr(t, "unknown key id", err)
		_, err = p.Unwrap(ctx, "", w, aad)
		wantOpenErr(t, "empty key id", err)
	})

	t.Run("concurrent", func(t *testing.T) {
		p := newProvider(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dk := make([]byte, 32)
				_, _ = rand.Read(dk)
				id, w, err := p.Wrap(ctx, dk, aad)
				if err == nil {
					var got []byte
					got, err = p.Unwrap(ctx, id, w, aad)
					if err == nil && !bytes.Equal(got, dk) {
						err = errors.New("concurrent round trip returned a different key")
					}
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// RunSealer checks a Sealer's confidentiality and integrity properties.
func RunSealer(t *testing.T, s seal.Sealer) {
	t.Helper()
	ctx := context.Background()
	aad := seal.AAD("credential", "123456789012", "key-1", "secret")

	t.Run("round-trip", func(t *testing.T) {
		for name, pt := range map[string][]byte{
			"short": []byte("hunter2"),
			"empty": {},
			"nil":   nil,
			"large": randomBytes(t, 1<<20+7),
		} {
			env := mustSeal(t, s, pt, aad)
			if len(pt) >= 8 && bytes.Contains(env, pt) {
				t.Fatalf("%s: envelope contains the plaintext", name)
			}
			got, err := s.Open(ctx, env, aad)
			if err != nil {
				t.Fatalf("%s: Open: %v", name, err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatalf("%s: Open returned %d bytes, want %d", name, len(got), len(pt))
			}
		}
	})

	t.Run("randomized", func(t *testing.T) {
		a := mustSeal(t, s, []byte("same"), aad)
		b := mustSeal(t, s, []byte("same"), aad)
		if bytes.Equal(a, b) {
			t.Fatal("two seals of the same plaintext are identical")
		}
	})

	t.Run("wrong-aad", func(t *testing.T) {
		env := mustSeal(t, s, []byte("secret"), aad)
		_, err := s.Open(ctx, env, seal.AAD("credential", "123456789012", "key-1", "secreT"))
		wantOpenErr(t, "wrong aad", err)
		_, err = s.Open(ctx, env, nil)
		wantOpenErr(t, "nil aad", err)
	})

	t.Run("moved-to-another-row", func(t *testing.T) {
		env := mustSeal(t, s, []byte("secret"), aad)
		for name, other := range map[string][]byte{
			"other-key":     seal.AAD("credential", "123456789012", "key-2", "secret"),
			"other-field":   seal.AAD("credential", "123456789012", "key-1", "clientSecret"),
			"other-account": seal.AAD("credential", "210987654321", "key-1", "secret"),
			"other-kind":    seal.AAD("oauth2", "123456789012", "key-1", "secret"),
		} {
			_, err := s.Open(ctx, env, other)
			wantOpenErr(t, name, err)
		}
	})

	t.Run("flipped-byte", func(t *testing.T) {
		env := mustSeal(t, s, []byte("a secret value"), aad)
		for i := range env {
			for _, mask := range []byte{0x01, 0x80} {
				bad := bytes.Clone(env)
				bad[i] ^= mask
				_, err := s.Open(ctx, bad, aad)
				if err == nil {
					t.Fatalf("envelope with byte %d ^ %#x opened", i, mask)
				}
				wantOpenErr(t, "flipped byte", err)
			}
		}
	})

	t.Run("truncated-and-extended", func(t *testing.T) {
		env := mustSeal(t, s, []byte("a secret value"), aad)
		for n := 0; n < len(env); n++ {
			_, err := s.Open(ctx, env[:n], aad)
			wantOpenErr(t, "truncated", err)
		}
		_, err := s.Open(ctx, append(bytes.Clone(env), 0), aad)
		wantOpenErr(t, "extended", err)
	})

	t.Run("garbage", func(t *testing.T) {
		for _, b := range [][]byte{nil, {}, randomBytes(t, 1), randomBytes(t, 64), randomBytes(t, 4096)} {
			_, err := s.Open(ctx, b, aad)
			wantOpenErr(t, "garbage", err)
		}
	})
}

func mustWrap(t *testing.T, p seal.KEKProvider, dk, aad []byte) []byte {
	t.Helper()
	id, w, err := p.Wrap(context.Background(), dk, aad)
	if err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	if id != p.KeyID() {
		t.Fatalf("Wrap used key %q, but KeyID() is %q", id, p.KeyID())
	}
	return w
}

func mustSeal(t *testing.T, s seal.Sealer, pt, aad []byte) []byte {
	t.Helper()
	env, err := s.Seal(context.Background(), pt, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return env
}

func wantOpenErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded; want an error wrapping seal.ErrOpen", what)
	}
	if !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("%s: error %v does not wrap seal.ErrOpen", what, err)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
