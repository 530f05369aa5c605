package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// The floors are what a request cannot do without, run in a tight loop in
// this process with the same harness: the ratio of our throughput to a
// floor says how much of a request's cost is something else.

// sealFloor seals the claims of a ForUserId token with a fresh local
// key-encryption key, as wat.Service.Mint does after encoding them.
func sealFloor(account, workload, user string) (loadgen.Op, error) {
	key := make([]byte, seal.KEKSize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	kek, err := seal.NewLocalKEK(map[string][]byte{"floor": key}, "floor")
	if err != nil {
		return nil, err
	}
	sealer := seal.New(kek)
	if account == "" {
		account = "123456789012" // an external server's account is not known
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	now := time.Now().UTC().Truncate(time.Second)
	claims, err := json.Marshal(wat.Claims{ID: hex.EncodeToString(id), Account: account, Workload: workload, UserID: user,
		Source: wat.SourceUserID, ArtifactHash: wat.HashArtifact(user), IssuedAt: now, ExpiresAt: now.Add(wat.DefaultTTL)})
	if err != nil {
		return nil, err
	}
	aad := seal.AAD("workload-access-token", "", "", "v1")
	return func(ctx context.Context, _ int) error {
		_, err := sealer.Seal(ctx, claims, aad)
		return err
	}, nil
}

// verifyFloor checks the user token the way an authorizer must at least:
// parse, verify the signature with the issuer's published key, and check
// issuer and time claims.
func verifyFloor(ctx context.Context, token, issuer, jwksURL string) (loadgen.Op, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwksURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA}
	parsed, err := jwt.ParseSigned(token, algs)
	if err != nil {
		return nil, fmt.Errorf("parse user token: %w", err)
	}
	keys := jwks.Key(parsed.Headers[0].KeyID)
	if len(keys) == 0 {
		return nil, fmt.Errorf("no published key %q", parsed.Headers[0].KeyID)
	}
	pub := keys[0].Key
	verify := func(context.Context, int) error {
		t, err := jwt.ParseSigned(token, algs)
		if err != nil {
			return err
		}
		var c jwt.Claims
		if err := t.Claims(pub, &c); err != nil {
			return err
		}
		return c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, Time: time.Now()}, 30*time.Second)
	}
	if err := verify(ctx, 0); err != nil {
		return nil, fmt.Errorf("user token does not verify: %w", err)
	}
	return verify, nil
}

// es384Floor signs the claims of a real web identity token with a fresh
// P-384 key: the signature alone, with its JOSE encoding.
func es384Floor(claims []byte) (loadgen.Op, error) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: jose.JSONWebKey{Key: key, KeyID: "floor"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return func(context.Context, int) error {
		jws, err := signer.Sign(claims)
		if err != nil {
			return err
		}
		_, err = jws.CompactSerialize()
		return err
	}, nil
}

// auditFloor appends audit events like a vend's to the server's own store
// and chain: the one write every vend waits for.
func auditFloor(st store.Store, account, workload, provider string) loadgen.Op {
	trail := audit.NewTrail(st, nil)
	return func(ctx context.Context, _ int) error {
		_, err := trail.Append(ctx, audit.Event{
			Account: account, Principal: "arn:aws:iam::" + account + ":user/bench", AccessKeyID: "AKIDBENCH",
			Service: "bedrock-agentcore", Operation: "GetResourceApiKey", Outcome: audit.OutcomeSuccess,
			Workload: workload, Provider: provider, RequestID: "00000000-0000-4000-8000-000000000000", SourceIP: "127.0.0.1",
		})
		return err
	}
}
