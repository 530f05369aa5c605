package oidcissuer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentcore-identity/agentcore/internal/oidcissuer"
)

const issuerID = "7d3c2f4e-1b2a-4c5d-8e9f-0a1b2c3d4e5f"

type keySource struct {
	set jose.JSONWebKeySet
	err error
}

func (k *keySource) PublicKeys(_ context.Context, account string) (jose.JSONWebKeySet, error) {
	if account != "123456789012" {
		return jose.JSONWebKeySet{}, errors.New("wrong account")
	}
	return k.set, k.err
}

func newServer(t *testing.T, keys *keySource, lookupErr error) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	oidcissuer.Mount(mux, oidcissuer.Options{
		Prefix: "/sts-issuer/",
		Lookup: func(_ context.Context, id string) (oidcissuer.Issuer, error) {
			if lookupErr != nil {
				return oidcissuer.Issuer{}, lookupErr
			}
			if id != issuerID {
				return oidcissuer.Issuer{}, oidcissuer.ErrUnknownIssuer
			}
			return oidcissuer.Issuer{URL: srv.URL + "/sts-issuer/" + id, Account: "123456789012"}, nil
		},
		Keys:       keys,
		Algorithms: []string{"ES384", "RS256"},
		Claims:     []string{"iss", "sub"},
	})
	return srv
}

func publicKey(t *testing.T) jose.JSONWebKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k.Public(), KeyID: "kid-1", Algorithm: "ES384", Use: "sig"}
}

func get(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestEndpoints(t *testing.T) {
	keys := &keySource{set: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicKey(t)}}}
	srv := newServer(t, keys, nil)
	issuer := srv.URL + "/sts-issuer/" + issuerID
	cases := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantCache  string
		check      func(t *testing.T, body string)
	}{
		{name: "ok/discovery", method: "GET", path: "/sts-issuer/" + issuerID + "/.well-known/openid-configuration",
			wantStatus: 200, wantCache: "public, max-age=3600", check: func(t *testing.T, body string) {
				var d map[string]any
				if err := json.Unmarshal([]byte(body), &d); err != nil {
					t.Fatal(err)
				}
				if d["issuer"] != issuer || d["jwks_uri"] != issuer+"/.well-known/jwks.json" {
					t.Errorf("issuer/jwks_uri = %v / %v", d["issuer"], d["jwks_uri"])
				}
				for field, want := range map[string]string{
					"id_token_signing_alg_values_supported": `["ES384","RS256"]`,
					"response_types_supported":              `["id_token"]`,
					"subject_types_supported":               `["public"]`,
					"claims_supported":                      `["iss","sub"]`,
				} {
					if got, _ := json.Marshal(d[field]); string(got) != want {
						t.Errorf("%s = %s, want %s", field, got, want)
					}
				}
			}},
		{name: "ok/jwks", method: "GET", path: "/sts-issuer/" + issuerID + "/.well-known/jwks.json",
			wantStatus: 200, wantCache: "public, max-age=300", check: func(t *testing.T, body string) {
				var set jose.JSONWebKeySet
				if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "kid-1" {
					t.Fatalf("jwks = %s (%v)", body, err)
				}
			}},
		{name: "ok/head", method: "HEAD", path: "/sts-issuer/" + issuerID + "/.well-known/jwks.json",
			wantStatus: 200, wantCache: "public, max-age=300", check: func(t *testing.T, body string) {
				if body != "" {
					t.Errorf("HEAD returned a body: %q", body)
				}
			}},
		{name: "fail/unknown-issuer", method: "GET", path: "/sts-issuer/00000000-0000-4000-8000-000000000000/.well-known/jwks.json",
			wantStatus: 404, wantCache: "no-store", check: func(t *testing.T, body string) {
				if !strings.Contains(body, `"error":"not_found"`) {
					t.Errorf("404 body = %s", body)
				}
			}},
		{name: "fail/post", method: "POST", path: "/sts-issuer/" + issuerID + "/.well-known/jwks.json", wantStatus: 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.method, srv.URL+tc.path, nil)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantCache != "" && resp.Header.Get("Cache-Control") != tc.wantCache {
				t.Errorf("Cache-Control = %q, want %q", resp.Header.Get("Cache-Control"), tc.wantCache)
			}
			if tc.wantStatus < 300 && resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", resp.Header.Get("Content-Type"))
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestJWKSETag(t *testing.T) {
	keys := &keySource{set: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicKey(t)}}}
	srv := newServer(t, keys, nil)
	url := srv.URL + "/sts-issuer/" + issuerID + "/.well-known/jwks.json"
	first, _ := get(t, "GET", url, nil)
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag = %q, want a strong entity tag", etag)
	}
	for _, tc := range []struct {
		name        string
		ifNoneMatch string
		want        int
	}{
		{"ok/same", etag, http.StatusNotModified},
		{"ok/weak-form", "W/" + etag, http.StatusNotModified},
		{"ok/in-list", `"other", ` + etag, http.StatusNotModified},
		{"ok/star", "*", http.StatusNotModified},
		{"fail/other", `"other"`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, "GET", url, map[string]string{"If-None-Match": tc.ifNoneMatch})
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusNotModified && body != "" {
				t.Errorf("304 with a body")
			}
		})
	}
	// A rotation changes the document, so the old tag no longer matches.
	keys.set.Keys = append(keys.set.Keys, publicKey(t))
	keys.set.Keys[1].KeyID = "kid-2"
	if resp, _ := get(t, "GET", url, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Fatalf("after a key change: status %d, ETag %q (old %q)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
}

func TestInternalErrorsAreNotLeaked(t *testing.T) {
	for _, tc := range []struct {
		name      string
		keys      *keySource
		lookupErr error
		path      string
	}{
		{"fail/lookup", &keySource{}, errors.New("db password=hunter2 unreachable"), "/.well-known/openid-configuration"},
		{"fail/keys", &keySource{err: errors.New("db password=hunter2 unreachable")}, nil, "/.well-known/jwks.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.keys, tc.lookupErr)
			resp, body := get(t, "GET", srv.URL+"/sts-issuer/"+issuerID+tc.path, nil)
			if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "hunter2") {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
		})
	}
}
