package sts

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/signer"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/store/storetest"
)

const acct = "123456789012"

type fixture struct {
	clock  *storetest.Clock
	store  store.Store
	keys   *signer.Service
	fed    *Federation
	tokens *Tokens
	access *accesskeys.Service
}

func newFixture(t *testing.T, st store.Store, clock *storetest.Clock) *fixture {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kek, err := seal.NewLocalKEK(map[string][]byte{"k": key}, "k")
	if err != nil {
		t.Fatal(err)
	}
	sealer := seal.New(kek)
	keys, err := signer.New(signer.Options{Store: st, Sealer: sealer, Now: clock.Now, Set: "sts"})
	if err != nil {
		t.Fatal(err)
	}
	fed := NewFederation(FederationOptions{Store: st, Keys: keys, PublicURL: "https://id.example.com/", Now: clock.Now, PublishFor: time.Hour})
	access := accesskeys.NewService(st, sealer)
	return &fixture{clock: clock, store: st, keys: keys, fed: fed, access: access,
		tokens: NewTokens(fed, keys, access, clock.Now)}
}

func sqliteFixture(t *testing.T) *fixture {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: ":memory:", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newFixture(t, st, clock)
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	e := awserr.As(err)
	if err == nil || e.Code != code || e.Status != status {
		t.Fatalf("err = %v, want %s (%d)", err, code, status)
	}
}

func TestFederationLifecycle(t *testing.T) {
	f := sqliteFixture(t)
	ctx := context.Background()

	_, err := f.fed.Info(ctx, acct)
	wantCode(t, err, CodeFeatureDisabled, http.StatusNotFound)
	wantCode(t, f.fed.Disable(ctx, acct), CodeFeatureDisabled, http.StatusNotFound)

	iss, err := f.fed.Enable(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := strings.CutPrefix(iss, "https://id.example.com/sts-issuer/")
	if !ok {
		t.Fatalf("issuer %q is not under the public URL", iss)
	}
	if set, _ := f.keys.PublicKeys(ctx, acct); len(set.Keys) == 0 {
		t.Fatal("enable did not create the signing keys")
	}
	_, err = f.fed.Enable(ctx, acct)
	wantCode(t, err, CodeFeatureEnabled, http.StatusConflict)
	if info, err := f.fed.Info(ctx, acct); err != nil || info != (FederationInfo{IssuerURL: iss, Enabled: true}) {
		t.Fatalf("info = %+v, %v", info, err)
	}
	if got, err := f.fed.LookupIssuer(ctx, id); err != nil || got != (Issuer{URL: iss, Account: acct}) {
		t.Fatalf("lookup = %+v, %v", got, err)
	}

	if err := f.fed.Disable(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if info, err := f.fed.Info(ctx, acct); err != nil || info != (FederationInfo{IssuerURL: iss}) {
		t.Fatalf("info after disable = %+v, %v", info, err)
	}
	f.clock.Advance(time.Hour - time.Second)
	if _, err := f.fed.LookupIssuer(ctx, id); err != nil {
		t.Fatalf("issuer unpublished while tokens issued before the disable may be valid: %v", err)
	}
	f.clock.Advance(time.Second)
	if _, err := f.fed.LookupIssuer(ctx, id); !errors.Is(err, ErrUnknownIssuer) {
		t.Fatalf("issuer still published after the grace period: %v", err)
	}

	again, err := f.fed.Enable(ctx, acct)
	if err != nil || again != iss {
		t.Fatalf("re-enable = %q, %v; want the same issuer %q", again, err, iss)
	}
	if _, err := f.fed.LookupIssuer(ctx, id); err != nil {
		t.Fatalf("re-enabled issuer: %v", err)
	}
	for _, bad := range []string{"", "not-a-uuid", "00000000-0000-4000-8000-000000000000"} {
		if _, err := f.fed.LookupIssuer(ctx, bad); !errors.Is(err, ErrUnknownIssuer) {
			t.Errorf("lookup %q = %v, want ErrUnknownIssuer", bad, err)
		}
	}
}

func TestConcurrentEnableCreatesOneIssuer(t *testing.T) {
	run := func(t *testing.T, st store.Store, clock *storetest.Clock) {
		f := newFixture(t, st, clock)
		ctx := context.Background()
		var wg sync.WaitGroup
		results := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := f.fed.Enable(ctx, acct)
				results <- err
			})
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case !awserr.IsCode(err, CodeFeatureEnabled):
				t.Errorf("concurrent enable: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent enables succeeded, want exactly 1", ok)
		}
		if n, err := st.Count(ctx, IssuerKind, ""); err != nil || n != 1 {
			t.Fatalf("%d issuers (%v), want 1", n, err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		f := sqliteFixture(t)
		run(t, f.store, f.clock)
	})
	t.Run("postgres", func(t *testing.T) {
		clock := storetest.NewClock(time.Now())
		st, err := postgres.Open(context.Background(), postgres.Options{URL: pgtest.NewDatabase(t), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		run(t, st, clock)
	})
}

func TestGetWebIdentityTokenClaims(t *testing.T) {
	f := sqliteFixture(t)
	ctx := context.Background()
	admin := principal.Principal{AccountID: acct, ARN: "arn:aws:iam::123456789012:user/admin", Admin: true, Region: "eu-west-1"}
	req := TokenRequest{Audiences: []string{"https://api.example.com"}, SigningAlgorithm: ptr("RS256"),
		DurationSeconds: ptr(int32(900)), Tags: []Tag{{"job-id", "job-1"}}}

	_, err := f.tokens.GetWebIdentityToken(ctx, admin, req)
	wantCode(t, err, CodeFederationDisabled, http.StatusForbidden)

	iss, err := f.fed.Enable(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.tokens.GetWebIdentityToken(ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(900 * time.Second); !tok.Expiration.Equal(want) {
		t.Errorf("Expiration = %s, want %s", tok.Expiration, want)
	}
	jws, err := jose.ParseSignedCompact(tok.JWT, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := f.keys.PublicKeys(ctx, acct)
	keys := set.Key(jws.Signatures[0].Protected.KeyID)
	if len(keys) != 1 {
		t.Fatal("token kid is not published")
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	jti, _ := got["jti"].(string)
	if len(jti) != 36 {
		t.Errorf("jti = %v, want a UUID", got["jti"])
	}
	iat := float64(f.clock.Now().Unix())
	want := map[string]any{
		"iss": iss, "aud": "https://api.example.com", "sub": admin.ARN, "iat": iat, "exp": iat + 900, "jti": jti,
		"https://sts.amazonaws.com/": map[string]any{
			"aws_account": acct, "source_region": "eu-west-1", "request_tags": map[string]any{"job-id": "job-1"},
		},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("claims\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// No tags, no request_tags object.
	req.Tags = nil
	tok, err = f.tokens.GetWebIdentityToken(ctx, admin, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(jws.UnsafePayloadWithoutVerification()), "request_tags") {
		t.Fatal("first token lost its request tags")
	}
	plain, _ := jose.ParseSignedCompact(tok.JWT, []jose.SignatureAlgorithm{jose.RS256})
	if strings.Contains(string(plain.UnsafePayloadWithoutVerification()), "request_tags") {
		t.Error("a token without tags carries request_tags")
	}
}

func TestGetWebIdentityTokenAuthorization(t *testing.T) {
	f := sqliteFixture(t)
	ctx := context.Background()
	if _, err := f.fed.Enable(ctx, acct); err != nil {
		t.Fatal(err)
	}
	scoped, err := f.access.Create(ctx, accesskeys.Key{AccountID: acct, ARN: "arn:aws:iam::123456789012:role/agent",
		AllowedAudiences: []string{"https://a.example.com", "https://b.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := f.access.Create(ctx, accesskeys.Key{AccountID: acct, ARN: "arn:aws:iam::123456789012:role/none"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(k accesskeys.Key) principal.Principal {
		return principal.Principal{AccountID: acct, ARN: k.ARN, AccessKeyID: k.AccessKeyID, Region: "us-east-1"}
	}
	cases := []struct {
		name   string
		caller principal.Principal
		auds   []string
		denied bool
	}{
		{"ok/admin-any-audience", principal.Principal{AccountID: acct, ARN: "arn:aws:iam::123456789012:user/admin", Admin: true}, []string{"https://z.example.com"}, false},
		{"ok/scoped-allowed", as(scoped), []string{"https://a.example.com"}, false},
		{"ok/scoped-all-allowed", as(scoped), []string{"https://b.example.com", "https://a.example.com"}, false},
		{"fail/scoped-other", as(scoped), []string{"https://z.example.com"}, true},
		{"fail/scoped-one-of-two", as(scoped), []string{"https://a.example.com", "https://z.example.com"}, true},
		{"fail/scoped-prefix-is-not-a-match", as(scoped), []string{"https://a.example.com/x"}, true},
		{"fail/key-without-audiences", as(bare), []string{"https://a.example.com"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.tokens.GetWebIdentityToken(ctx, tc.caller, TokenRequest{Audiences: tc.auds, SigningAlgorithm: ptr("ES384")})
			if !tc.denied {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, CodeAccessDenied, http.StatusForbidden)
			if !strings.Contains(err.Error(), tc.caller.ARN) {
				t.Errorf("AccessDenied message does not name the caller: %v", err)
			}
		})
	}
}

func TestPayloadSizeLimit(t *testing.T) {
	f := sqliteFixture(t)
	ctx := context.Background()
	if _, err := f.fed.Enable(ctx, acct); err != nil {
		t.Fatal(err)
	}
	admin := principal.Principal{AccountID: acct, ARN: "arn:aws:iam::123456789012:user/admin", Admin: true}
	tags := make([]Tag, 50)
	for i := range tags {
		tags[i] = Tag{Key: strings.Repeat("k", 120) + string(rune('A'+i%26)) + string(rune('A'+i/26)), Value: strings.Repeat("v", 256)}
	}
	_, err := f.tokens.GetWebIdentityToken(ctx, admin, TokenRequest{Audiences: []string{"a"}, SigningAlgorithm: ptr("ES384"), Tags: tags})
	wantCode(t, err, CodePayloadTooLarge, http.StatusBadRequest)
	_, err = f.tokens.GetWebIdentityToken(ctx, admin, TokenRequest{Audiences: []string{"a"}, SigningAlgorithm: ptr("ES384"), Tags: tags[:30]})
	if err != nil {
		t.Fatalf("30 maximal tags should fit in %d bytes: %v", MaxPayloadBytes, err)
	}
}

func ptr[T any](v T) *T { return &v }
