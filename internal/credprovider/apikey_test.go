package credprovider_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	cp "github.com/agentcore-identity/agentcore/internal/credprovider"
)

func TestAPIKeyRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, cp.Config{})
	key1, key2 := "sk-FIRST-api-key-value", "sk-SECOND-api-key-value"

	created, err := e.svc.CreateAPIKey(ctx, acct, "weather", cp.APIKeyInput{APIKey: ptr(key1)}, map[string]string{"env": "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if created.Name != "weather" || created.ARN != arn.APIKeyProvider(region, acct, "weather") {
		t.Errorf("created = %+v", created)
	}
	secretRE := regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:bedrock-agentcore-identity!default/apikey/weather-[A-Za-z0-9]{6}$`)
	if !secretRE.MatchString(created.SecretARN) {
		t.Errorf("secret ARN = %q", created.SecretARN)
	}
	assertNotStored(t, e.st, cp.APIKeyKind, acct, "weather", key1)

	got, err := e.svc.GetAPIKey(ctx, acct, "weather")
	if err != nil || got != created {
		t.Fatalf("get = %+v, %v; want %+v", got, err, created)
	}
	if k, err := e.svc.APIKey(ctx, acct, "weather"); err != nil || k != key1 {
		t.Fatalf("APIKey = %v (match %v)", err, k == key1)
	}
	assertNoSecret(t, key1, created, got)

	updated, err := e.svc.UpdateAPIKey(ctx, acct, "weather", cp.APIKeyInput{APIKey: ptr(key2)})
	if err != nil {
		t.Fatal(err)
	}
	if updated.SecretARN != created.SecretARN || !updated.CreatedAt.Equal(created.CreatedAt) || !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("updated = %+v, created %+v", updated, created)
	}
	if k, err := e.svc.APIKey(ctx, acct, "weather"); err != nil || k != key2 {
		t.Fatalf("APIKey after update = %v (match %v)", err, k == key2)
	}
	assertNotStored(t, e.st, cp.APIKeyKind, acct, "weather", key2)

	list, next, err := e.svc.ListAPIKeys(ctx, acct, 10, "")
	if err != nil || len(list) != 1 || list[0] != updated || next != "" {
		t.Fatalf("list = %+v %q %v", list, next, err)
	}
	if tags, err := e.tags.List(ctx, acct, created.ARN); err != nil || tags["env"] != "dev" {
		t.Fatalf("tags = %v, %v", tags, err)
	}

	if err := e.svc.DeleteAPIKey(ctx, acct, "weather"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetAPIKey(ctx, acct, "weather")
	wantCode(t, err, awserr.CodeResourceNotFound)
	_, err = e.svc.APIKey(ctx, acct, "weather")
	wantCode(t, err, awserr.CodeResourceNotFound)
	wantCode(t, e.svc.DeleteAPIKey(ctx, acct, "weather"), awserr.CodeResourceNotFound)
	_, err = e.tags.List(ctx, acct, created.ARN)
	wantCode(t, err, awserr.CodeResourceNotFound)
}

func TestAPIKeyInvalid(t *testing.T) {
	cases := []struct {
		name, provider string
		in             cp.APIKeyInput
		fields         []string
	}{
		{name: "fail/bad-name", provider: "no/slash", in: cp.APIKeyInput{APIKey: ptr("k")}, fields: []string{"name"}},
		{name: "fail/missing-key", provider: "p", in: cp.APIKeyInput{}, fields: []string{"apiKey"}},
		{name: "fail/empty-key", provider: "p", in: cp.APIKeyInput{APIKey: ptr("")}, fields: []string{"apiKey"}},
		{name: "fail/long-key", provider: "p", in: cp.APIKeyInput{APIKey: ptr(strings.Repeat("k", cp.MaxAPIKeyLen+1))}, fields: []string{"apiKey"}},
		{name: "fail/external-source", provider: "p", in: cp.APIKeyInput{APIKey: ptr("k"), APIKeySecretSource: ptr("EXTERNAL")}, fields: []string{"apiKeySecretSource"}},
		{name: "fail/unknown-source", provider: "p", in: cp.APIKeyInput{APIKey: ptr("k"), APIKeySecretSource: ptr("VAULT")}, fields: []string{"apiKeySecretSource"}},
		{name: "fail/secret-config", provider: "p", in: cp.APIKeyInput{APIKey: ptr("k"), APIKeySecretConfig: &cp.SecretReference{}}, fields: []string{"apiKeySecretConfig"}},
		{name: "fail/every-member-named", provider: "a b", in: cp.APIKeyInput{}, fields: []string{"name", "apiKey"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, cp.Config{})
			_, err := e.svc.CreateAPIKey(ctx, acct, tc.provider, tc.in, nil)
			wantFields(t, err, tc.fields...)
			_, err = e.svc.UpdateAPIKey(ctx, acct, tc.provider, tc.in)
			wantFields(t, err, tc.fields...)
			if n, err := e.st.Count(ctx, cp.APIKeyKind, acct); err != nil || n != 0 {
				t.Fatalf("records after a failed create = %d, %v", n, err)
			}
		})
	}
	t.Run("ok/managed-source", func(t *testing.T) {
		e := newEnv(t, cp.Config{})
		if _, err := e.svc.CreateAPIKey(context.Background(), acct, "p", cp.APIKeyInput{APIKey: ptr("k"), APIKeySecretSource: ptr("MANAGED")}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAPIKeyConflictQuotaMissing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, cp.Config{MaxAPIKey: 2})
	in := cp.APIKeyInput{APIKey: ptr("k")}
	for _, n := range []string{"a", "b"} {
		if _, err := e.svc.CreateAPIKey(ctx, acct, n, in, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.CreateAPIKey(ctx, acct, "a", in, nil)
	wantCode(t, err, awserr.CodeConflict)
	_, err = e.svc.CreateAPIKey(ctx, acct, "c", in, nil)
	wantCode(t, err, awserr.CodeServiceQuota)
	_, err = e.svc.UpdateAPIKey(ctx, acct, "zzz", in)
	wantCode(t, err, awserr.CodeResourceNotFound)
	// OAuth2 and API-key providers are separate namespaces and quotas.
	good := client("id", "s")
	if _, err := e.svc.CreateOAuth2(ctx, acct, "a", "GithubOauth2", cp.OAuth2ConfigInput{Github: &good}, nil); err != nil {
		t.Fatal(err)
	}
}
