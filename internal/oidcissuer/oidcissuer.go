// Package oidcissuer serves the public, unauthenticated half of our token
// issuers: the OpenID Connect discovery document and the JWKS that relying
// parties fetch to verify the tokens we sign. Issuers live under a path
// prefix, <public-url><prefix><id>, and each resolves to the account whose
// keys it publishes.
package oidcissuer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Cache lifetimes. The JWKS lifetime is short so that relying parties pick
// up rotated keys soon; since the signer publishes the next key a full
// rotation period ahead, a cached JWKS already holds any key that can sign.
const (
	JWKSMaxAge      = 300
	DiscoveryMaxAge = 3600
)

// ErrUnknownIssuer is what Options.Lookup returns for an issuer id that
// does not exist or is not published; it renders as 404.
var ErrUnknownIssuer = errors.New("oidcissuer: unknown issuer")

// Issuer is a published issuer.
type Issuer struct {
	// URL is the issuer identifier, the iss claim of its tokens.
	URL string
	// Account owns the keys the issuer publishes.
	Account string
}

// KeySource returns an account's public verification keys.
type KeySource interface {
	PublicKeys(ctx context.Context, account string) (jose.JSONWebKeySet, error)
}

// Options configure Mount.
type Options struct {
	// Prefix is the path before the issuer id, with slashes: "/sts-issuer/".
	Prefix string
	// Lookup resolves an issuer id, or returns ErrUnknownIssuer.
	Lookup func(ctx context.Context, id string) (Issuer, error)
	Keys   KeySource
	// Algorithms are the signing algorithms the issuer uses.
	Algorithms []string
	// Claims lists the claims its tokens carry (claims_supported).
	Claims []string
	Log    *slog.Logger
}

type handlers struct{ Options }

// Mount registers the discovery and JWKS routes of every issuer under
// opts.Prefix on mux.
func Mount(mux *http.ServeMux, opts Options) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	h := &handlers{opts}
	base := "GET " + strings.TrimRight(opts.Prefix, "/") + "/{id}/.well-known/"
	mux.HandleFunc(base+"openid-configuration", h.discovery)
	mux.HandleFunc(base+"jwks.json", h.jwks)
}

// discoveryDoc is the subset of OpenID Connect Discovery 1.0 provider
// metadata that makes sense for an issuer that only signs tokens: no
// authorization or token endpoint, since tokens come from STS.
type discoveryDoc struct {
	Issuer             string   `json:"issuer"`
	JWKSURI            string   `json:"jwks_uri"`
	ResponseTypes      []string `json:"response_types_supported"`
	SubjectTypes       []string `json:"subject_types_supported"`
	IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported    []string `json:"claims_supported,omitempty"`
}

func (h *handlers) discovery(w http.ResponseWriter, r *http.Request) {
	iss, ok := h.lookup(w, r)
	if !ok {
		return
	}
	h.writeJSON(w, r, discoveryDoc{
		Issuer:             iss.URL,
		JWKSURI:            iss.URL + "/.well-known/jwks.json",
		ResponseTypes:      []string{"id_token"},
		SubjectTypes:       []string{"public"},
		IDTokenSigningAlgs: h.Algorithms,
		ClaimsSupported:    h.Claims,
	}, DiscoveryMaxAge)
}

func (h *handlers) jwks(w http.ResponseWriter, r *http.Request) {
	iss, ok := h.lookup(w, r)
	if !ok {
		return
	}
	set, err := h.Keys.PublicKeys(r.Context(), iss.Account)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.writeJSON(w, r, set, JWKSMaxAge)
}

func (h *handlers) lookup(w http.ResponseWriter, r *http.Request) (Issuer, bool) {
	iss, err := h.Lookup(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrUnknownIssuer) {
		writeError(w, http.StatusNotFound, "not_found", "No issuer is published at this URL.")
		return Issuer{}, false
	}
	if err != nil {
		h.internalError(w, r, err)
		return Issuer{}, false
	}
	return iss, true
}

func (h *handlers) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.Log.Error("serving issuer metadata", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	writeError(w, http.StatusInternalServerError, "server_error", "An internal error occurred.")
}

// writeJSON sends a cacheable public document with a strong ETag, and 304
// when the client already holds it.
func (h *handlers) writeJSON(w http.ResponseWriter, r *http.Request, v any, maxAge int) {
	body, err := json.Marshal(v)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	hdr := w.Header()
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
	hdr.Set("ETag", etag)
	// Browser-based relying parties verify tokens too; these documents
	// are public by design.
	hdr.Set("Access-Control-Allow-Origin", "*")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatches implements the If-None-Match comparison (weak, RFC 9110
// §13.1.2): any listed tag equal to ours, or "*".
func etagMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(struct {
		Error   string `json:"error"`
		Message string `json:"error_description"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
