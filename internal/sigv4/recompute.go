package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// recomputed is what the SDK signer produced for the rebuilt request.
type recomputed struct {
	signature     string
	signedHeaders string
}

// recompute signs a copy of r with the SDK's own signer so that path
// escaping, query canonicalisation and header trimming match the client
// bit for bit. The copy carries only the headers the client listed in
// SignedHeaders, because the signer signs every header it is given.
func (v *Verifier) recompute(ctx context.Context, r *http.Request, p *parsedRequest, secret, payloadHash string) (recomputed, error) {
	rawQuery := r.URL.RawQuery
	if p.presigned {
		q := url.Values{}
		for k, vs := range p.query {
			if k != "X-Amz-Signature" {
				q[k] = vs
			}
		}
		rawQuery = q.Encode()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	req := (&http.Request{
		Method: method,
		// RawPath keeps the client's escaping (an ARN label arrives as
		// arn%3Aaws%3A…); the signer escapes that again, as the SDK does.
		URL: &url.URL{
			Opaque:   r.URL.Opaque,
			Path:     r.URL.Path,
			RawPath:  r.URL.EscapedPath(),
			RawQuery: rawQuery,
		},
		Host:   requestHost(r),
		Header: http.Header{},
	}).WithContext(ctx)

	for _, name := range p.signedNames {
		switch {
		case name == "host":
			// Taken from req.Host by the signer.
		case name == "content-length":
			req.ContentLength = p.contentLength
		case name == "x-amz-date" && !p.presigned:
			// SignHTTP sets it from the signing time, which round-trips.
		default:
			// Lowercase keys on purpose: the signer skips some canonical
			// keys (User-Agent, Expect, …) by exact match, but a client
			// that listed one as signed did sign it.
			req.Header[name] = slices.Clone(p.headers[name])
		}
	}

	creds := aws.Credentials{AccessKeyID: p.scope.AccessKeyID, SecretAccessKey: secret}
	region, service := p.scope.Region, p.scope.Service
	signer := v.signers.get(creds, region, service)

	if p.presigned {
		signed, _, err := signer.PresignHTTP(ctx, creds, req, payloadHash, service, region, p.signingTime)
		if err != nil {
			return recomputed{}, fmt.Errorf("sigv4: recompute presigned signature: %w", err)
		}
		u, err := url.Parse(signed)
		if err != nil {
			return recomputed{}, fmt.Errorf("sigv4: parse presigned URL: %w", err)
		}
		q := u.Query()
		return recomputed{signature: q.Get("X-Amz-Signature"), signedHeaders: q.Get("X-Amz-SignedHeaders")}, nil
	}

	if err := signer.SignHTTP(ctx, creds, req, payloadHash, service, region, p.signingTime); err != nil {
		return recomputed{}, fmt.Errorf("sigv4: recompute signature: %w", err)
	}
	return splitSDKAuthorization(req.Header.Get("Authorization"))
}

// signerCache keeps SDK signers between requests so that each reuses the
// signing key it derived from the secret (four HMACs, once a day). An SDK
// signer caches derived keys by region and service and checks only the
// access key id, so an entry serves one access key, region and service
// (the client picks the last two; this bounds what it can make a signer
// hold) and only the secret it was made with: a key whose secret changes
// gets a new signer, not a stale derived key.
type signerCache struct {
	mu      sync.RWMutex
	signers map[signerKey]cachedSigner
}

type signerKey struct{ accessKeyID, region, service string }

type cachedSigner struct {
	secret string
	signer *v4.Signer
}

// maxCachedSigners bounds the cache. Only keys that the CredentialSource
// knows get an entry; when it is full it is emptied, which costs each
// entry one derivation, what every request cost without the cache.
const maxCachedSigners = 4096

func (c *signerCache) get(creds aws.Credentials, region, service string) *v4.Signer {
	k := signerKey{creds.AccessKeyID, region, service}
	c.mu.RLock()
	e, ok := c.signers[k]
	c.mu.RUnlock()
	// Both secrets are the CredentialSource's, never the client's, so a
	// plain comparison leaks nothing.
	if ok && e.secret == creds.SecretAccessKey {
		return e.signer
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) {
		// The token, if signed, is already among the copied headers/query.
		o.DisableSessionToken = true
		// The client already hoisted what it wanted into the query.
		o.DisableHeaderHoisting = true
	})
	// The key's strings are cut from the request's headers: copy them so
	// that the entry does not keep those alive.
	k = signerKey{strings.Clone(k.accessKeyID), strings.Clone(k.region), strings.Clone(k.service)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.signers == nil || len(c.signers) >= maxCachedSigners {
		c.signers = make(map[signerKey]cachedSigner)
	}
	c.signers[k] = cachedSigner{secret: creds.SecretAccessKey, signer: s}
	return s
}

// splitSDKAuthorization takes the signature and signed headers from the
// SDK's own fixed "…, SignedHeaders=x, Signature=y" layout. It searches from
// the end because the credential part may hold client-chosen characters.
func splitSDKAuthorization(h string) (recomputed, error) {
	const sh, sig = ", SignedHeaders=", ", Signature="
	i := strings.LastIndex(h, sig)
	if i < 0 {
		return recomputed{}, fmt.Errorf("sigv4: recomputed authorization has no signature")
	}
	j := strings.LastIndex(h[:i], sh)
	if j < 0 {
		return recomputed{}, fmt.Errorf("sigv4: recomputed authorization has no signed headers")
	}
	return recomputed{signature: h[i+len(sig):], signedHeaders: h[j+len(sh) : i]}, nil
}
