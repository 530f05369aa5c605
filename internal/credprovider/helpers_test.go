package credprovider_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/tagging"
)

const (
	region   = "us-east-1"
	acct     = "123456789012"
	otherAcc = "210987654321"
	baseURL  = "http://127.0.0.1:8400"
)

// env is a service over a real in-memory SQLite store and a real keyring.
type env struct {
	svc  *credprovider.Service
	st   store.Store
	tags *tagging.Service
}

// tickingClock advances one second per reading so that every write gets a
// distinct, later timestamp.
type tickingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tickingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newEnv(t *testing.T, cfg credprovider.Config) env {
	t.Helper()
	ctx := context.Background()
	clock := &tickingClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.MemoryPath, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	key := make([]byte, seal.KEKSize)
	_, _ = rand.Read(key)
	kek, err := seal.NewLocalKEK(map[string][]byte{"test-kek": key}, "test-kek")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region == "" {
		cfg.Region = region
	}
	if cfg.CallbackBaseURL == "" {
		cfg.CallbackBaseURL = baseURL
	}
	tags := tagging.NewService(st)
	svc := credprovider.NewService(st, seal.New(kek), tags, cfg)
	svc.RegisterTags(tags)
	return env{svc: svc, st: st, tags: tags}
}

func ptr(s string) *string { return &s }

// wantCode fails unless err is an awserr with the code.
func wantCode(t *testing.T, err error, code string) *awserr.Error {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	return e
}

// wantFields fails unless err is a ValidationException naming exactly the
// given members.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e := wantCode(t, err, awserr.CodeValidation)
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Name)
	}
	slices.Sort(got)
	got = slices.Compact(got)
	want := slices.Clone(fields)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("fields = %q, want %q (message: %s)", got, want, e.Message)
	}
}

// assertNoSecret fails if secret (or its base64) appears in any rendering
// of the values: JSON, fmt verbs.
func assertNoSecret(t *testing.T, secret string, vals ...any) {
	t.Helper()
	needles := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	for i, v := range vals {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal value %d: %v", i, err)
		}
		renderings := []string{string(j), fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v)}
		for _, r := range renderings {
			for _, n := range needles {
				if strings.Contains(r, n) {
					t.Fatalf("value %d leaks the secret: %s", i, r)
				}
			}
		}
	}
}

// assertNotStored fails if the raw store document holds secret in clear.
func assertNotStored(t *testing.T, st store.Store, kind, account, name, secret string) {
	t.Helper()
	rec, err := st.Get(context.Background(), kind, account, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(string(rec.Data), n) {
			t.Fatalf("stored document holds the secret in clear: %s", rec.Data)
		}
	}
	if !json.Valid(rec.Data) {
		t.Fatalf("stored document is not JSON: %s", rec.Data)
	}
}
