package workload_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

const acct = "123456789012"

func service(t *testing.T) *workload.Service {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: sqlite.MemoryPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return workload.NewService(st, tagging.NewService(st), "us-east-1", 0)
}

func TestSetAuthorizer(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	cfg := &inbound.JWTAuthorizerConfig{
		DiscoveryURL:   "https://idp.example/.well-known/openid-configuration",
		AllowedClients: []string{"c1"},
	}

	if _, err := s.SetAuthorizer(ctx, acct, "missing", cfg); !awserr.IsCode(err, awserr.CodeResourceNotFound) {
		t.Fatalf("missing identity: %v", err)
	}
	if _, err := s.Create(ctx, acct, "agent", []string{"https://app.example/cb"}, nil); err != nil {
		t.Fatal(err)
	}
	id, err := s.SetAuthorizer(ctx, acct, "agent", cfg)
	if err != nil || id.Authorizer == nil || id.Authorizer.AllowedClients[0] != "c1" {
		t.Fatalf("set: %+v, %v", id.Authorizer, err)
	}
	got, err := s.Get(ctx, acct, "agent")
	if err != nil || got.Authorizer == nil || got.Authorizer.DiscoveryURL != cfg.DiscoveryURL || got.ReturnURLs[0] != "https://app.example/cb" {
		t.Fatalf("get after set: %+v, %v", got, err)
	}

	// Update without an option keeps the authorizer.
	if got, err = s.Update(ctx, acct, "agent", nil); err != nil || got.Authorizer == nil {
		t.Fatalf("update kept nothing: %+v, %v", got, err)
	}

	bad := &inbound.JWTAuthorizerConfig{DiscoveryURL: "https://idp.example/"}
	_, err = s.SetAuthorizer(ctx, acct, "agent", bad)
	var ae *awserr.Error
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Name != workload.AuthorizerMember+".discoveryUrl" {
		t.Fatalf("invalid config: %v", err)
	}
	if got, _ = s.Get(ctx, acct, "agent"); got.Authorizer == nil || got.Authorizer.DiscoveryURL != cfg.DiscoveryURL {
		t.Fatal("a refused SetAuthorizer changed the identity")
	}

	if got, err = s.SetAuthorizer(ctx, acct, "agent", nil); err != nil || got.Authorizer != nil {
		t.Fatalf("clear: %+v, %v", got.Authorizer, err)
	}
	if got, _ = s.Get(ctx, acct, "agent"); got.Authorizer != nil {
		t.Fatal("authorizer survived clearing")
	}
}

func TestCreateWithAuthorizer(t *testing.T) {
	ctx := context.Background()
	s := service(t)
	cfg := &inbound.JWTAuthorizerConfig{DiscoveryURL: "https://idp.example/.well-known/openid-configuration"}
	id, err := s.Create(ctx, acct, "agent", nil, map[string]string{"team": "a"}, workload.WithAuthorizer(cfg))
	if err != nil || id.Authorizer == nil {
		t.Fatalf("create: %+v, %v", id, err)
	}
	list, _, err := s.List(ctx, acct, 10, "")
	if err != nil || len(list) != 1 || list[0].Authorizer == nil {
		t.Fatalf("list: %+v, %v", list, err)
	}
	_, err = s.Create(ctx, acct, "other", nil, nil, workload.WithAuthorizer(&inbound.JWTAuthorizerConfig{}))
	if !awserr.IsCode(err, awserr.CodeValidation) {
		t.Fatalf("invalid authorizer on create: %v", err)
	}
	if ok, _ := s.Exists(ctx, acct, "other"); ok {
		t.Fatal("identity created despite an invalid authorizer")
	}
}
