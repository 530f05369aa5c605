package signer_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/signer"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

const acct = "123456789012"

// countingSealer counts Open calls, to prove signing does not unseal per
// request.
type countingSealer struct {
	seal.Sealer
	opens atomic.Int64
}

func (c *countingSealer) Open(ctx context.Context, env, aad []byte) ([]byte, error) {
	c.opens.Add(1)
	return c.Sealer.Open(ctx, env, aad)
}

func newSealer(t *testing.T) *countingSealer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	kek, err := seal.NewLocalKEK(map[string][]byte{"k1": key}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	return &countingSealer{Sealer: seal.New(kek)}
}

// backends runs fn on SQLite and, when configured, PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, open func(now func() time.Time) store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(now func() time.Time) store.Store {
			st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		fn(t, func(now func() time.Time) store.Store {
			st, err := postgres.Open(context.Background(), postgres.Options{URL: url, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
	})
}

func newService(t *testing.T, st store.Store, sealer seal.Sealer, clock *storetest.Clock) *signer.Service {
	t.Helper()
	s, err := signer.New(signer.Options{Store: st, Sealer: sealer, Now: clock.Now, Set: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// verify checks token against the published keys and returns its kid.
func verify(t *testing.T, s *signer.Service, token string, alg signer.Algorithm) (string, error) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(alg) {
		t.Fatalf("alg header = %q, want %s", h.Algorithm, alg)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "JWT" {
		t.Fatalf("typ header = %q, want JWT", typ)
	}
	set, err := s.PublicKeys(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return h.KeyID, errors.New("kid not published")
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		return h.KeyID, err
	}
	return h.KeyID, nil
}

func TestSign(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	st, _ := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	s := newService(t, st, newSealer(t), clock)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		alg  signer.Algorithm
	}{{"ok/ES384", signer.ES384}, {"ok/RS256", signer.RS256}} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := s.Sign(ctx, acct, tc.alg, []byte(`{"sub":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			kid, err := verify(t, s, tok, tc.alg)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			set, _ := s.PublicKeys(ctx, acct)
			jwk := set.Key(kid)[0]
			thumb, _ := jwk.Thumbprint(crypto.SHA256)
			if kid != base64.RawURLEncoding.EncodeToString(thumb) {
				t.Errorf("kid %q is not the RFC 7638 thumbprint", kid)
			}
			if !jwk.IsPublic() || jwk.Algorithm != string(tc.alg) || jwk.Use != "sig" {
				t.Errorf("published key: public=%v alg=%q use=%q", jwk.IsPublic(), jwk.Algorithm, jwk.Use)
			}
		})
	}
	t.Run("fail/unknown-alg", func(t *testing.T) {
		if _, err := s.Sign(ctx, acct, "HS256", []byte(`{}`)); err == nil {
			t.Fatal("HS256 signed")
		}
	})
	t.Run("ok/jwks-has-active-and-next", func(t *testing.T) {
		set, _ := s.PublicKeys(ctx, acct)
		if len(set.Keys) != 4 {
			t.Fatalf("published %d keys, want 4 (active + next per algorithm)", len(set.Keys))
		}
		b, _ := json.Marshal(set)
		if bytes.Contains(b, []byte(`"d"`)) || bytes.Contains(b, []byte(`"p"`)) {
			t.Fatal("JWKS contains private key parameters")
		}
	})
}

func TestPrivateKeysSealedAndBound(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	st, _ := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	sealer := newSealer(t)
	s := newService(t, st, sealer, clock)
	ctx := context.Background()
	if err := s.Ensure(ctx, acct); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Get(ctx, signer.Kind, acct, "test")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec.Data, []byte("PRIVATE")) || bytes.Contains(rec.Data, []byte(`"d":`)) {
		t.Fatal("stored record holds a private key in the clear")
	}
	// The same sealed keys copied to another account must not open there.
	other := "210987654321"
	if _, err := st.Create(ctx, store.Record{Kind: signer.Kind, Account: other, Key: "test", Data: rec.Data}, store.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Sign(ctx, other, signer.ES384, []byte(`{}`))
	if !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("signing with keys copied from another account: err = %v, want seal.ErrOpen", err)
	}
}

func TestSignDoesNotUnsealPerRequest(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	st, _ := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	sealer := newSealer(t)
	s := newService(t, st, sealer, clock)
	ctx := context.Background()
	for range 20 {
		if _, err := s.Sign(ctx, acct, signer.ES384, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if n := sealer.opens.Load(); n != 1 {
		t.Fatalf("20 signatures unsealed %d times, want 1", n)
	}
	if _, err := s.PublicKeys(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(ctx, acct); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.Sign(ctx, acct, signer.ES384, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if n := sealer.opens.Load(); n != 2 {
		t.Fatalf("after a rotation: %d unseals, want 2 (one per active key used)", n)
	}
}

func TestRotateKeepsRetiredKeyUntilTokensExpire(t *testing.T) {
	backends(t, func(t *testing.T, open func(func() time.Time) store.Store) {
		clock := storetest.NewClock(time.Now())
		s := newService(t, open(clock.Now), newSealer(t), clock)
		ctx := context.Background()
		old, err := s.Sign(ctx, acct, signer.ES384, []byte(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		oldKID, _ := verify(t, s, old, signer.ES384)
		before, _ := s.PublicKeys(ctx, acct)

		if err := s.Rotate(ctx, acct); err != nil {
			t.Fatal(err)
		}
		fresh, err := s.Sign(ctx, acct, signer.ES384, []byte(`{"n":2}`))
		if err != nil {
			t.Fatal(err)
		}
		newKID, err := verify(t, s, fresh, signer.ES384)
		if err != nil {
			t.Fatalf("new token: %v", err)
		}
		if newKID == oldKID {
			t.Fatal("rotation kept the same active key")
		}
		if len(before.Key(newKID)) != 1 {
			t.Error("the new active key was not published before it activated")
		}
		if _, err := verify(t, s, old, signer.ES384); err != nil {
			t.Fatalf("old token right after rotation: %v", err)
		}

		clock.Advance(signer.DefaultMaxTokenLifetime + signer.DefaultLeeway - time.Second)
		if _, err := verify(t, s, old, signer.ES384); err != nil {
			t.Fatalf("old token within the grace period: %v", err)
		}
		clock.Advance(2 * time.Second)
		if _, err := verify(t, s, old, signer.ES384); err == nil {
			t.Fatal("old token still verifies after its key's grace period")
		}
		if _, err := verify(t, s, fresh, signer.ES384); err != nil {
			t.Fatalf("new token after the old key dropped: %v", err)
		}
	})
}

func TestScheduledRotationHappensOnceAcrossReplicas(t *testing.T) {
	backends(t, func(t *testing.T, open func(func() time.Time) store.Store) {
		clock := storetest.NewClock(time.Now())
		st := open(clock.Now)
		sealer := newSealer(t)
		ctx := context.Background()
		replicas := make([]*signer.Service, 4)
		for i := range replicas {
			replicas[i] = newService(t, st, sealer, clock)
		}
		// Replicas starting together create exactly one key set.
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(replicas))
		for _, r := range replicas {
			wg.Go(func() { errs <- r.Ensure(ctx, acct) })
		}
		wg.Wait()
		first, err := st.Get(ctx, signer.Kind, acct, "test")
		if err != nil {
			t.Fatal(err)
		}
		if first.Version != 1 {
			t.Fatalf("concurrent first use wrote version %d, want 1", first.Version)
		}

		clock.Advance(signer.DefaultRotateEvery + time.Minute)
		for _, r := range replicas {
			wg.Go(func() {
				_, err := r.Sign(ctx, acct, signer.RS256, []byte(`{}`))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		rec, err := st.Get(ctx, signer.Kind, acct, "test")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Version != first.Version+1 {
			t.Fatalf("record version %d after a due rotation on %d replicas, want %d", rec.Version, len(replicas), first.Version+1)
		}
		set, _ := replicas[0].PublicKeys(ctx, acct)
		if len(set.Keys) != 6 {
			t.Fatalf("published %d keys after one rotation, want 6 (retired + active + next per algorithm)", len(set.Keys))
		}
		// Not due any more: signing again must not rotate.
		if _, err := replicas[1].Sign(ctx, acct, signer.ES384, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if again, _ := st.Get(ctx, signer.Kind, acct, "test"); again.Version != rec.Version {
			t.Fatalf("a second rotation happened: version %d", again.Version)
		}
	})
}

func TestPublicKeysDoesNotCreate(t *testing.T) {
	clock := storetest.NewClock(time.Now())
	st, _ := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: clock.Now})
	t.Cleanup(func() { _ = st.Close() })
	s := newService(t, st, newSealer(t), clock)
	ctx := context.Background()
	set, err := s.PublicKeys(ctx, acct)
	if err != nil || len(set.Keys) != 0 {
		t.Fatalf("PublicKeys of a fresh account = %d keys, %v; want 0, nil", len(set.Keys), err)
	}
	if _, err := st.Get(ctx, signer.Kind, acct, "test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PublicKeys created a key set (err = %v)", err)
	}
	b, _ := json.Marshal(set)
	if !strings.Contains(string(b), `"keys":[]`) {
		t.Fatalf("empty JWKS renders as %s, want an empty keys array", b)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts signer.Options
	}{
		{"fail/no-store", signer.Options{Sealer: newSealer(t), Set: "x"}},
		{"fail/no-set", signer.Options{Store: &sqlite.Store{}, Sealer: newSealer(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := signer.New(tc.opts); err == nil {
				t.Fatal("New accepted invalid options")
			}
		})
	}
}
