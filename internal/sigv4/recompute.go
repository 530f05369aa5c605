package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

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
func recompute(ctx context.Context, r *http.Request, p *parsedRequest, secret, payloadHash string) (recomputed, error) {
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
	// A fresh signer per request: its derived-key cache is keyed by access
	// key id but not by secret, so a shared one would outlive key rotation.
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		// The token, if signed, is already among the copied headers/query.
		o.DisableSessionToken = true
		// The client already hoisted what it wanted into the query.
		o.DisableHeaderHoisting = true
	})
	region, service := p.scope.Region, p.scope.Service

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
