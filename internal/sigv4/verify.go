package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero values of Verifier's limits.
const (
	DefaultMaxSkew          = 5 * time.Minute
	DefaultMaxPresignExpiry = 7 * 24 * time.Hour
	// maxPresignExpirySeconds is SigV4's own ceiling on X-Amz-Expires.
	maxPresignExpirySeconds = 604800
)

// Messages AWS uses for the common failures, so SDK users see familiar text.
const (
	msgMissing    = "Missing Authentication Token"
	msgUnknownKey = "The security token included in the request is invalid."
	msgSignature  = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgContentSHA = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// Verifier checks SigV4-signed requests. The zero values of Now, MaxSkew
// and MaxPresignExpiry mean time.Now, DefaultMaxSkew and
// DefaultMaxPresignExpiry. A Verifier is safe for concurrent use.
//
// Verify authenticates the signature and returns the credential scope; it
// does not decide whether the region and service are the ones this endpoint
// serves — the caller checks the returned Scope.
type Verifier struct {
	Credentials      CredentialSource
	Now              func() time.Time
	MaxSkew          time.Duration
	MaxPresignExpiry time.Duration

	signers signerCache
}

// parsedRequest is everything taken from the request before any secret is
// looked up.
type parsedRequest struct {
	presigned     bool
	scope         credentialScope
	credential    string // as received
	signedHeaders string // as received
	signedNames   []string
	signature     string
	amzDate       string
	signingTime   time.Time
	expires       time.Duration // presigned only
	token         string
	contentSHA    string
	hasContentSHA bool
	contentLength int64 // when content-length is signed
	query         url.Values
	headers       map[string][]string // lowercase name -> values
}

// Verify authenticates r, whose body the caller has already read into body
// (and restores on r itself). It returns an *Error for every authentication
// failure; any other error (a CredentialSource outage) is operational and
// has FailureOf(err) == 0.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (Scope, error) {
	if v.Credentials == nil {
		return Scope{}, errors.New("sigv4: Verifier.Credentials is nil")
	}
	if r == nil || r.URL == nil {
		return Scope{}, errors.New("sigv4: request has no URL")
	}
	p, ferr := v.parse(r)
	if ferr != nil {
		return Scope{}, ferr
	}
	if ferr := v.checkTime(p); ferr != nil {
		return Scope{}, ferr
	}

	cred, err := v.Credentials.Lookup(ctx, p.scope.AccessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return Scope{}, &Error{Kind: FailUnknownKey, Message: msgUnknownKey}
		}
		return Scope{}, fmt.Errorf("sigv4: look up access key: %w", err)
	}
	// Compared in constant time: the token is a bearer secret too.
	if p.token != "" || cred.SessionToken != "" {
		if subtle.ConstantTimeCompare([]byte(p.token), []byte(cred.SessionToken)) != 1 {
			return Scope{}, &Error{Kind: FailUnknownKey, Message: msgUnknownKey}
		}
	}

	payloadHash, ferr := p.payloadHash(body)
	if ferr != nil {
		return Scope{}, ferr
	}
	got, err := v.recompute(ctx, r, p, cred.SecretAccessKey, payloadHash)
	if err != nil {
		return Scope{}, err
	}
	// A differing SignedHeaders list means the client signed something the
	// SDK signer cannot reproduce (e.g. a zero Content-Length); that can only
	// end in a mismatch, so report it as one.
	if got.signedHeaders != p.signedHeaders ||
		subtle.ConstantTimeCompare([]byte(got.signature), []byte(p.signature)) != 1 {
		return Scope{}, &Error{Kind: FailSignature, Message: msgSignature}
	}
	return Scope{
		AccessKeyID: p.scope.AccessKeyID,
		Date:        p.scope.Date,
		Region:      p.scope.Region,
		Service:     p.scope.Service,
	}, nil
}

// parse extracts and validates the authentication parameters of either
// form, in the order: missing, malformed, scope date.
func (v *Verifier) parse(r *http.Request) (*parsedRequest, *Error) {
	headers := lowerHeaders(r.Header)
	authz := headers["authorization"]
	// ParseQuery returns what it could parse alongside its error, which is
	// enough to tell which form the client meant.
	query, qerr := url.ParseQuery(r.URL.RawQuery)
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	switch {
	case len(authz) == 0 && !presigned:
		return nil, &Error{Kind: FailMissing, Message: msgMissing}
	case len(authz) > 0 && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case qerr != nil:
		// Go's handlers would silently drop the malformed pairs, so the
		// signed query and the one the handler sees could differ.
		return nil, incomplete("The query string is malformed.")
	}

	p := &parsedRequest{presigned: presigned, query: query, headers: headers}
	var ferr *Error
	if presigned {
		ferr = v.parsePresigned(p)
	} else {
		ferr = parseHeaderForm(p, authz)
	}
	if ferr != nil {
		return nil, ferr
	}

	var cerr *Error
	if p.scope, cerr = parseCredential(p.credential); cerr != nil {
		return nil, cerr
	}
	if p.signedNames, cerr = parseSignedHeaders(p.signedHeaders); cerr != nil {
		return nil, cerr
	}
	if p.signingTime, cerr = parseAmzDate(p.amzDate); cerr != nil {
		return nil, cerr
	}
	if cerr := p.checkSignedHeadersPresent(r); cerr != nil {
		return nil, cerr
	}
	if p.scope.Date != p.amzDate[:8] {
		return nil, incomplete("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", p.scope.Date, p.amzDate[:8], p.amzDate)
	}
	return p, nil
}

func parseHeaderForm(p *parsedRequest, authz []string) *Error {
	if len(authz) > 1 {
		return incomplete("Only one Authorization header is allowed.")
	}
	a, ferr := parseAuthorization(authz[0])
	if ferr != nil {
		return ferr
	}
	p.credential, p.signedHeaders, p.signature = a.Credential, a.SignedHeaders, a.Signature

	var ok bool
	if p.amzDate, ok = single(p.headers["x-amz-date"]); !ok || p.amzDate == "" {
		return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	// The SDK signer always signs X-Amz-Date; a client that did not cannot
	// be verified, and an unsigned date could be replayed with a new value.
	if !containsName(a.SignedHeaders, "x-amz-date") {
		return incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if p.token, ok = single(p.headers["x-amz-security-token"]); !ok {
		return incomplete("Only one X-Amz-Security-Token header is allowed.")
	}
	if vals := p.headers["x-amz-content-sha256"]; len(vals) > 0 {
		if p.contentSHA, ok = single(vals); !ok {
			return incomplete("Only one X-Amz-Content-Sha256 header is allowed.")
		}
		p.hasContentSHA = true
	}
	return nil
}

func (v *Verifier) parsePresigned(p *parsedRequest) *Error {
	q := p.query
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		// The signer Set()s several of these, so a duplicate would be
		// collapsed in the recomputation while the handler still saw both.
		if len(q[k]) > 1 {
			return incomplete("Query-string parameter %s must appear only once.", k)
		}
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			return incomplete("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters.")
		}
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return incomplete("X-Amz-Algorithm only supports %q, got %q.", algorithm, clip(alg))
	}
	p.credential = q.Get("X-Amz-Credential")
	p.signedHeaders = q.Get("X-Amz-SignedHeaders")
	p.signature = q.Get("X-Amz-Signature")
	p.amzDate = q.Get("X-Amz-Date")
	p.token = q.Get("X-Amz-Security-Token")
	p.contentSHA, p.hasContentSHA = q.Get("X-Amz-Content-Sha256"), q.Has("X-Amz-Content-Sha256")

	exp := q.Get("X-Amz-Expires")
	n, err := strconv.Atoi(exp)
	if err != nil || n < 1 || strings.TrimLeft(exp, "0123456789") != "" {
		return incomplete("X-Amz-Expires should be a number, got %q.", clip(exp))
	}
	if n > maxPresignExpirySeconds {
		return incomplete("X-Amz-Expires must be less than a week (in seconds) that is; 604800")
	}
	p.expires = time.Duration(n) * time.Second
	if limit := v.maxPresignExpiry(); p.expires > limit {
		return incomplete("X-Amz-Expires must be at most %d seconds on this service.", int64(limit/time.Second))
	}
	return nil
}

// checkSignedHeadersPresent rejects a signed header the request does not
// carry. Host lives in r.Host; Content-Length is in r.Header on Go's
// server but only in r.ContentLength on client-built requests.
func (p *parsedRequest) checkSignedHeadersPresent(r *http.Request) *Error {
	for _, n := range p.signedNames {
		present := len(p.headers[n]) > 0
		switch n {
		case "host":
			present = requestHost(r) != ""
		case "content-length":
			p.contentLength, present = r.ContentLength, r.ContentLength > 0
			if vals := p.headers[n]; len(vals) > 0 {
				cl, err := strconv.ParseInt(vals[0], 10, 64)
				if len(vals) > 1 || err != nil || cl < 0 {
					return incomplete("The Content-Length header is malformed.")
				}
				p.contentLength, present = cl, true
			}
		}
		if !present {
			return incomplete("Signed header %q is not present in the request.", clip(n))
		}
	}
	return nil
}

// checkTime enforces the clock-skew window, or a presigned URL's validity.
func (v *Verifier) checkTime(p *parsedRequest) *Error {
	now := v.now().UTC()
	skew := v.maxSkew()
	t := p.signingTime
	if p.presigned {
		if t.After(now.Add(skew)) {
			return &Error{Kind: FailExpired, Message: "Request is not valid yet"}
		}
		if now.After(t.Add(p.expires)) {
			return &Error{Kind: FailExpired, Message: "Request has expired"}
		}
		return nil
	}
	if t.Before(now.Add(-skew)) {
		return &Error{Kind: FailExpired, Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			p.amzDate, now.Add(-skew).Format(amzDateFormat), now.Format(amzDateFormat), skewText(skew))}
	}
	if t.After(now.Add(skew)) {
		return &Error{Kind: FailExpired, Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			p.amzDate, now.Add(skew).Format(amzDateFormat), now.Format(amzDateFormat), skewText(skew))}
	}
	return nil
}

// payloadHash picks the hash the client put in its canonical request. The
// AWS SDK does not send X-Amz-Content-Sha256 for JSON/query services, so
// the received body is hashed here.
func (p *parsedRequest) payloadHash(body []byte) (string, *Error) {
	if !p.hasContentSHA {
		if p.presigned {
			return unsignedPayload, nil
		}
		return hashHex(body), nil
	}
	if p.contentSHA == unsignedPayload {
		return unsignedPayload, nil
	}
	if p.contentSHA != hashHex(body) {
		return "", &Error{Kind: FailSignature, Message: msgContentSHA}
	}
	return p.contentSHA, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) maxPresignExpiry() time.Duration {
	if v.MaxPresignExpiry > 0 {
		return v.MaxPresignExpiry
	}
	return DefaultMaxPresignExpiry
}

// skewText renders the skew the way AWS does ("5 min").
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", int64(d/time.Minute))
	}
	return d.String()
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// lowerHeaders indexes r.Header by lowercase name. Keys differing only in
// case (possible on hand-built requests) are merged in sorted key order so
// the result does not depend on map iteration.
func lowerHeaders(h http.Header) map[string][]string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string][]string, len(h))
	for _, k := range keys {
		lk := strings.ToLower(k)
		out[lk] = append(out[lk], h[k]...)
	}
	return out
}

// single returns the only value, "" for none, and false for several.
func single(vals []string) (string, bool) {
	switch len(vals) {
	case 0:
		return "", true
	case 1:
		return vals[0], true
	}
	return "", false
}

func containsName(list, name string) bool {
	for n := range strings.SplitSeq(list, ";") {
		if n == name {
			return true
		}
	}
	return false
}

func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	if r.URL != nil {
		return r.URL.Host
	}
	return ""
}
