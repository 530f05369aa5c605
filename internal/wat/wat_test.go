package wat

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/seal"
)

func newService(t *testing.T, now func() time.Time) *Service {
	t.Helper()
	key := make([]byte, seal.KEKSize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	kek, err := seal.NewLocalKEK(map[string][]byte{"k": key}, "k")
	if err != nil {
		t.Fatal(err)
	}
	return NewService(seal.New(kek), now, time.Hour)
}

func TestMintVerify(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := newService(t, clock)
	tok, minted, err := s.Mint(ctx, Claims{Account: "111122223333", Workload: "agent", UserID: "alice",
		Source: SourceUserID, ArtifactHash: HashArtifact("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, Prefix) || strings.Contains(tok, "alice") || strings.Contains(tok, "agent") {
		t.Fatalf("token is not opaque: %q", tok)
	}
	if !minted.ExpiresAt.Equal(now.Add(time.Hour)) || minted.ID == "" {
		t.Fatalf("minted claims = %+v", minted)
	}

	got, err := s.Verify(ctx, "111122223333", tok)
	if err != nil {
		t.Fatalf("ok/verify: %v", err)
	}
	if got.Workload != "agent" || got.UserID != "alice" || !got.MatchesArtifact("alice") || got.MatchesArtifact("bob") {
		t.Fatalf("claims = %+v", got)
	}

	other := newService(t, clock) // another key-encryption key
	cases := []struct {
		name    string
		svc     *Service
		account string
		token   string
	}{
		{"fail/other-account", s, "999988887777", tok},
		{"fail/other-service-key", other, "111122223333", tok},
		{"fail/tampered", s, "111122223333", tok[:len(tok)-2] + "AA"},
		{"fail/no-prefix", s, "111122223333", strings.TrimPrefix(tok, Prefix)},
		{"fail/jwt-shaped", s, "111122223333", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		{"fail/oversized", s, "111122223333", Prefix + strings.Repeat("A", MaxLen)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.svc.Verify(ctx, tc.account, tc.token); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}

	now = now.Add(time.Hour)
	if _, err := s.Verify(ctx, "111122223333", tok); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fail/expired: Verify = %v, want ErrInvalid", err)
	}
}
