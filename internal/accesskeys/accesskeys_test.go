package accesskeys

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/sigv4"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// Two services over one store stand for two replicas: a change made on one
// is seen at once there and, on the other, once its cached entry is older
// than revalidateAfter.
func TestChangesReachOtherReplicas(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.MemoryPath})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw := make([]byte, seal.KEKSize)
	_, _ = rand.Read(raw)
	kek, err := seal.NewLocalKEK(map[string][]byte{"k": raw}, "k")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, b := NewService(st, seal.New(kek)), NewService(st, seal.New(kek))
	a.now, b.now = clock, clock

	k, err := a.Create(ctx, Key{AccountID: "123456789012", ARN: "arn:aws:iam::123456789012:role/r", AllowedAudiences: []string{"https://a"}})
	if err != nil {
		t.Fatal(err)
	}
	audiences := func(s *Service) []string {
		t.Helper()
		got, err := s.Resolve(ctx, k.AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SecretAccessKey != k.SecretAccessKey {
			t.Fatal("resolved secret differs from the created one")
		}
		return got.AllowedAudiences
	}
	if got := audiences(b); !slices.Equal(got, []string{"https://a"}) {
		t.Fatalf("b sees %v", got)
	}

	if err := a.SetAllowedAudiencesIn(ctx, st, k.AccessKeyID, []string{"https://b"}); err != nil {
		t.Fatal(err)
	}
	if got := audiences(a); !slices.Equal(got, []string{"https://b"}) {
		t.Fatalf("the replica that changed the key sees %v", got)
	}
	if got := audiences(b); !slices.Equal(got, []string{"https://a"}) {
		t.Fatalf("within revalidateAfter the other replica may still serve its entry, saw %v", got)
	}
	now = now.Add(revalidateAfter)
	if got := audiences(b); !slices.Equal(got, []string{"https://b"}) {
		t.Fatalf("after revalidateAfter the other replica sees %v", got)
	}

	if err := a.DeleteIn(ctx, st, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resolve(ctx, k.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownKey) {
		t.Fatalf("deleting replica: Resolve = %v, want ErrUnknownKey", err)
	}
	now = now.Add(revalidateAfter)
	if _, err := b.Resolve(ctx, k.AccessKeyID); !errors.Is(err, sigv4.ErrUnknownKey) {
		t.Fatalf("other replica after revalidateAfter: Resolve = %v, want ErrUnknownKey", err)
	}
	if err := a.DeleteIn(ctx, st, k.AccessKeyID); err != nil {
		t.Fatalf("deleting a deleted key: %v", err)
	}
}
