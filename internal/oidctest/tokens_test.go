package oidctest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
)

func TestClientCredentials(t *testing.T) {
	for _, tc := range []struct {
		style oidctest.ClaimStyle
		want  map[string]any
		noAud bool
	}{
		{oidctest.StyleCognito, map[string]any{"client_id": "web", "sub": "web", "token_use": "access", "scope": "api/read api/write", "tenant": "acme"}, true},
		{oidctest.StyleAuth0, map[string]any{"azp": "web", "sub": "web@clients", "aud": oidctest.DefaultAudience, "gty": "client-credentials", "scope": "api/read api/write"}, false},
	} {
		p := start(t, tc.style, nil)
		cc := clientcredentials.Config{ClientID: "web", ClientSecret: "web-secret", TokenURL: p.Endpoint().TokenURL}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatalf("style %d: %v", tc.style, err)
		}
		claims := verifyAccess(t, p, tok.AccessToken)
		for k, v := range tc.want {
			if claims[k] != v {
				t.Errorf("style %d: claim %s = %v, want %v", tc.style, k, claims[k], v)
			}
		}
		if _, has := claims["aud"]; has == tc.noAud {
			t.Errorf("style %d: aud present = %v", tc.style, has)
		}
		if _, has := claims["username"]; has {
			t.Errorf("style %d: client token has username", tc.style)
		}

		cc.Scopes = []string{"api/admin"}
		if _, err := cc.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
			t.Errorf("style %d: disallowed scope: %v", tc.style, err)
		}
		cc.Scopes, cc.ClientSecret = nil, "wrong"
		if _, err := cc.Token(context.Background()); err == nil {
			t.Errorf("style %d: wrong secret accepted", tc.style)
		}
		if n := p.TokenCalls(oidctest.GrantClientCredentials); n != 3 {
			t.Errorf("style %d: client_credentials calls = %d, want 3", tc.style, n)
		}
	}
}

func TestRotateKeysAndDown(t *testing.T) {
	p := start(t, oidctest.StyleCognito, func(o *oidctest.Options) { o.Algorithm = "ES256" })
	first := p.KeyID()
	second := p.RotateKeys(true)
	if ids := p.KeyIDs(); !slices.Equal(ids, []string{first, second}) {
		t.Errorf("after keep-rotation: %v", ids)
	}
	third := p.RotateKeys(false)
	if ids := p.KeyIDs(); !slices.Equal(ids, []string{third}) || p.KeyID() != third {
		t.Errorf("after drop-rotation: %v", ids)
	}
	tok, err := (&clientcredentials.Config{ClientID: "web", ClientSecret: "web-secret", TokenURL: p.Endpoint().TokenURL}).Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hdr := header(t, tok.AccessToken); hdr["kid"] != third || hdr["alg"] != "ES256" {
		t.Errorf("token header %v, want kid %s ES256", hdr, third)
	}
	verifyAccess(t, p, tok.AccessToken)

	p.SetDown(true)
	resp, err := http.Get(p.DiscoveryURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("down: status %d", resp.StatusCode)
	}
	p.SetDown(false)
	getJSON(t, p.JWKSURL(), &map[string]any{})
}

func TestSignRaw(t *testing.T) {
	p := start(t, oidctest.StyleAuth0, nil)
	claims := p.AccessTokenClaims("web", "alice", "api/read")
	if claims["sub"] != "sub-alice" || claims["aud"] != oidctest.DefaultAudience || claims["azp"] != "web" {
		t.Errorf("AccessTokenClaims = %v", claims)
	}
	verifyAccess(t, p, p.SignRaw(claims, oidctest.SignOptions{}))

	none := p.SignRaw(claims, oidctest.SignOptions{Alg: "none"})
	if hdr := header(t, none); hdr["alg"] != "none" || !strings.HasSuffix(none, ".") {
		t.Errorf("alg none token %q", none)
	}
	noKid := ""
	tok := p.SignRaw(claims, oidctest.SignOptions{Alg: "HS256", HMACKey: p.PublicKeyPEM(), KID: &noKid,
		Header: map[string]any{"jku": "http://evil.example/keys", "typ": nil}})
	hdr := header(t, tok)
	if hdr["alg"] != "HS256" || hdr["jku"] != "http://evil.example/keys" || hdr["kid"] != nil || hdr["typ"] != nil {
		t.Errorf("header %v", hdr)
	}
	old := p.KeyID()
	p.RotateKeys(true)
	crossed := p.SignRaw(claims, oidctest.SignOptions{KID: &old}) // signed by the new key, labelled old
	if header(t, crossed)["kid"] != old {
		t.Error("KID override ignored")
	}
}

func header(t *testing.T, jwt string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}
