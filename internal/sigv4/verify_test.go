package sigv4

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const jsonBody = `{"payload":"hello","n":1}`

type verifyCase struct {
	name     string
	spec     reqSpec
	verifier func(v *Verifier)
	want     Failure // 0: success
	wantMsg  string  // substring of the message, if set
}

func headerCases() []verifyCase {
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	sigOf := func(a string) string { return a[strings.LastIndex(a, "Signature=")+len("Signature="):] }
	return []verifyCase{
		{name: "ok/post-json", spec: reqSpec{path: "/workload-identities/get", body: jsonBody, headers: jsonHdr}},
		{name: "ok/get-no-body", spec: reqSpec{method: http.MethodGet, path: "/workload-identities"}},
		{name: "ok/arn-path-label", spec: reqSpec{path: arnPath, body: jsonBody, headers: jsonHdr}},
		{name: "ok/query-string", spec: reqSpec{method: http.MethodGet, path: "/identities?maxResults=10&nextToken=a%2Fb%20c&b=2&a=1"}},
		{name: "ok/session-token", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: testToken}}},
		{name: "ok/unsigned-header-changed", spec: reqSpec{path: "/x", body: jsonBody, headers: http.Header{"User-Agent": {"before"}},
			after: func(r *http.Request) {
				r.Header.Set("User-Agent", "after/2.0")
				r.Header.Set("X-Not-Signed", "added later")
			}}},
		{name: "ok/multi-value-and-spaces", spec: reqSpec{path: "/x", body: jsonBody,
			headers: http.Header{"X-Amz-Meta-Tag": {"a", "b  c"}, "X-Custom": {"  spaced   out  "}}}},
		{name: "ok/content-sha256-header", spec: reqSpec{path: "/x", body: jsonBody,
			headers: http.Header{"X-Amz-Content-Sha256": {hashHex([]byte(jsonBody))}}}},
		{name: "ok/unsigned-payload", spec: reqSpec{path: "/x", body: jsonBody, payload: unsignedPayload,
			headers: http.Header{"X-Amz-Content-Sha256": {unsignedPayload}},
			// Unsigned payload means the body is not covered, by design.
			newBody: ptr(strings.Replace(jsonBody, "hello", "HELLO", 1))}},
		{name: "ok/skew-just-inside", spec: reqSpec{path: "/x", body: jsonBody, signTime: baseTime().Add(-5 * time.Minute)}},
		{name: "ok/custom-skew", spec: reqSpec{path: "/x", signTime: baseTime().Add(-9 * time.Minute)},
			verifier: func(v *Verifier) { v.MaxSkew = 10 * time.Minute }},

		{name: "fail/wrong-secret", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "not-the-secret"}},
			want: FailSignature, wantMsg: msgSignature},
		{name: "fail/unknown-key", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: testSecret}},
			want: FailUnknownKey, wantMsg: msgUnknownKey},
		{name: "fail/stale-date", spec: reqSpec{path: "/x", body: jsonBody, signTime: baseTime().Add(-6 * time.Minute)},
			want: FailExpired, wantMsg: "Signature expired: 20251120T100900Z is now earlier than 20251120T101000Z (20251120T101500Z - 5 min.)"},
		{name: "fail/future-date", spec: reqSpec{path: "/x", body: jsonBody, signTime: baseTime().Add(6 * time.Minute)},
			want: FailExpired, wantMsg: "Signature not yet current: 20251120T102100Z is still later than 20251120T102000Z (20251120T101500Z + 5 min.)"},
		{name: "fail/tampered-body", spec: reqSpec{path: "/x", body: jsonBody,
			newBody: ptr(strings.Replace(jsonBody, "hello", "HELLO", 1))}, want: FailSignature},
		{name: "fail/tampered-signed-header", spec: reqSpec{path: "/x", body: jsonBody, headers: jsonHdr,
			after: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }}, want: FailSignature},
		{name: "fail/tampered-path", spec: reqSpec{path: arnPath, body: jsonBody,
			after: func(r *http.Request) {
				r.URL.RawPath = strings.Replace(arnPath, "AbCdEf1234", "AbCdEf1235", 1)
				r.URL.Path = strings.Replace(r.URL.Path, "AbCdEf1234", "AbCdEf1235", 1)
			}}, want: FailSignature},
		{name: "fail/path-escaping-changed", spec: reqSpec{path: arnPath, body: jsonBody,
			// Same decoded path, different escaping: the client signed the
			// escaped form, so this must not verify.
			after: func(r *http.Request) { r.URL.RawPath = "" }}, want: FailSignature},
		{name: "fail/tampered-query", spec: reqSpec{method: http.MethodGet, path: "/identities?maxResults=10",
			after: func(r *http.Request) { r.URL.RawQuery = "maxResults=11" }}, want: FailSignature},
		{name: "fail/added-query", spec: reqSpec{method: http.MethodGet, path: "/identities?maxResults=10",
			after: func(r *http.Request) { r.URL.RawQuery += "&admin=true" }}, want: FailSignature},
		{name: "fail/content-sha256-mismatch", spec: reqSpec{path: "/x", body: jsonBody,
			headers: http.Header{"X-Amz-Content-Sha256": {hashHex([]byte("other"))}}},
			want: FailSignature, wantMsg: msgContentSHA},
		{name: "fail/missing-auth", spec: reqSpec{path: "/x", body: jsonBody,
			after: func(r *http.Request) { r.Header.Del("Authorization") }}, want: FailMissing, wantMsg: msgMissing},
		{name: "fail/malformed-wrong-algorithm", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1)
		})}, want: FailIncomplete},
		{name: "fail/malformed-not-sigv4", spec: reqSpec{path: "/x", after: setAuth(func(string) string { return "Bearer abc" })},
			want: FailIncomplete, wantMsg: "requires 'Credential'"},
		{name: "fail/malformed-no-signature", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return a[:strings.Index(a, ", Signature=")]
		})}, want: FailIncomplete, wantMsg: "requires 'Signature' parameter"},
		{name: "fail/malformed-garbage-component", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return a + ", Oops"
		})}, want: FailIncomplete},
		{name: "fail/malformed-duplicate-component", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return a + ", Signature=" + sigOf(a)
		})}, want: FailIncomplete},
		{name: "fail/malformed-scope-terminator", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "/aws4_request", "/aws5_request", 1)
		})}, want: FailIncomplete, wantMsg: "terminator"},
		{name: "fail/malformed-scope-parts", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "/"+testService+"/", "/", 1)
		})}, want: FailIncomplete},
		{name: "fail/malformed-scope-date", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "/20251120/", "/2025-11-2/", 1)
		})}, want: FailIncomplete},
		{name: "fail/malformed-host-not-signed", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "host;", "", 1)
		})}, want: FailIncomplete, wantMsg: "'Host'"},
		{name: "fail/malformed-signed-header-absent", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "SignedHeaders=", "SignedHeaders=a-absent;", 1)
		})}, want: FailIncomplete, wantMsg: "a-absent"},
		{name: "fail/malformed-uppercase-signed-header", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "host", "Host", 1)
		})}, want: FailIncomplete},
		{name: "fail/malformed-x-amz-date-not-signed", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, ";x-amz-date", "", 1)
		})}, want: FailIncomplete},
		{name: "fail/malformed-missing-x-amz-date", spec: reqSpec{path: "/x",
			after: func(r *http.Request) { r.Header.Del("X-Amz-Date") }}, want: FailIncomplete, wantMsg: "X-Amz-Date"},
		{name: "fail/malformed-x-amz-date-format", spec: reqSpec{path: "/x",
			after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2025-11-20T10:15:00Z") }}, want: FailIncomplete},
		{name: "fail/malformed-two-authorization-headers", spec: reqSpec{path: "/x",
			after: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }}, want: FailIncomplete},
		{name: "fail/both-auth-forms", spec: reqSpec{path: "/x?X-Amz-Algorithm=AWS4-HMAC-SHA256"}, want: FailIncomplete},
		{name: "fail/malformed-query-escape", spec: reqSpec{method: http.MethodGet, path: "/x?a=1",
			// Added after signing: the SDK signer rewrites RawQuery canonically.
			after: func(r *http.Request) { r.URL.RawQuery += "&b=%zz" }}, want: FailIncomplete},
		{name: "fail/scope-date-mismatch", spec: reqSpec{path: "/x", after: setAuth(func(a string) string {
			return strings.Replace(a, "/20251120/", "/20251119/", 1)
		})}, want: FailIncomplete, wantMsg: "Date in Credential scope does not match"},
		{name: "fail/wrong-session-token", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: "some-other-token"}},
			want: FailUnknownKey, wantMsg: msgUnknownKey},
		{name: "fail/missing-session-token", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret}}, want: FailUnknownKey},
		{name: "fail/unexpected-session-token", spec: reqSpec{path: "/x", body: jsonBody,
			creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}}, want: FailUnknownKey},
	}
}

func presignCases() []verifyCase {
	return []verifyCase{
		{name: "ok/presigned-get", spec: reqSpec{presign: true, expires: 300, method: http.MethodGet, path: "/identities?foo=bar"}},
		{name: "ok/presigned-arn-path", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: arnPath}},
		{name: "ok/presigned-session-token", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			creds: aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: testToken}}},
		{name: "ok/presigned-signed-header", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			headers: http.Header{"Content-Type": {"application/json"}}}},
		{name: "ok/presigned-near-expiry", spec: reqSpec{presign: true, expires: 300, method: http.MethodGet, path: "/x",
			signTime: baseTime().Add(-300 * time.Second)}},
		{name: "fail/presigned-expired", spec: reqSpec{presign: true, expires: 300, method: http.MethodGet, path: "/x",
			signTime: baseTime().Add(-301 * time.Second)}, want: FailExpired, wantMsg: "Request has expired"},
		{name: "fail/presigned-not-yet-valid", spec: reqSpec{presign: true, expires: 300, method: http.MethodGet, path: "/x",
			signTime: baseTime().Add(10 * time.Minute)}, want: FailExpired},
		{name: "fail/presigned-expires-over-a-week", spec: reqSpec{presign: true, expires: 604801, method: http.MethodGet, path: "/x"},
			want: FailIncomplete, wantMsg: "604800"},
		{name: "fail/presigned-expires-zero", spec: reqSpec{presign: true, expires: 0, method: http.MethodGet, path: "/x"},
			want: FailIncomplete},
		{name: "fail/presigned-expires-over-verifier-limit", spec: reqSpec{presign: true, expires: 7200, method: http.MethodGet, path: "/x"},
			verifier: func(v *Verifier) { v.MaxPresignExpiry = time.Hour }, want: FailIncomplete},
		{name: "fail/presigned-wrong-secret", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "nope"}}, want: FailSignature},
		{name: "fail/presigned-tampered-query", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x?foo=bar",
			after: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "foo=bar", "foo=baz", 1) }}, want: FailSignature},
		{name: "fail/presigned-extended-expiry", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			after: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=600", 1)
			}},
			want: FailSignature},
		{name: "fail/presigned-duplicate-date", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			after: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Date=20251120T101500Z" }}, want: FailIncomplete},
		{name: "fail/presigned-missing-signed-headers", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			after: func(r *http.Request) {
				q := r.URL.Query()
				q.Del("X-Amz-SignedHeaders")
				r.URL.RawQuery = q.Encode()
			}}, want: FailIncomplete},
		{name: "fail/presigned-wrong-token", spec: reqSpec{presign: true, expires: 60, method: http.MethodGet, path: "/x",
			creds: aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: "wrong"}}, want: FailUnknownKey},
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range append(headerCases(), presignCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(baseTime())
			if tc.verifier != nil {
				tc.verifier(v)
			}
			t.Run("direct", func(t *testing.T) {
				r, body := tc.spec.build(t, "https://bedrock-agentcore.us-west-2.amazonaws.com")
				before := r.Header.Clone()
				scope, err := v.Verify(context.Background(), r, body)
				check(t, tc, scope, err)
				if !maps.EqualFunc(before, r.Header, slices.Equal) {
					t.Error("Verify modified the request headers")
				}
			})
			t.Run("http", func(t *testing.T) {
				scope, err := verifyOverHTTP(t, v, func(base string) *http.Request {
					r, _ := tc.spec.build(t, base)
					return r
				})
				check(t, tc, scope, err)
			})
		})
	}
}

func check(t *testing.T, tc verifyCase, scope Scope, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), tokenSecret)) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	if tc.want == 0 {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		akid := tc.spec.creds.AccessKeyID
		if akid == "" {
			akid = testAKID
		}
		want := Scope{AccessKeyID: akid, Date: "20251120", Region: testRegion, Service: testService}
		st := tc.spec.signTime
		if !st.IsZero() {
			want.Date = st.UTC().Format("20060102")
		}
		if scope != want {
			t.Fatalf("scope = %+v, want %+v", scope, want)
		}
		return
	}
	if got := FailureOf(err); got != tc.want {
		t.Fatalf("FailureOf(%v) = %d, want %d", err, got, tc.want)
	}
	if tc.wantMsg != "" && !strings.Contains(err.Error(), tc.wantMsg) {
		t.Fatalf("message %q does not contain %q", err.Error(), tc.wantMsg)
	}
	if scope != (Scope{}) {
		t.Fatalf("failed verification returned scope %+v", scope)
	}
}

// failingSource is a credential store that is down.
type failingSource struct{}

func (failingSource) Lookup(context.Context, string) (Credential, error) {
	return Credential{}, errors.New("db: connection refused")
}

func TestVerifyCredentialSourceOutage(t *testing.T) {
	r, body := reqSpec{path: "/x", body: jsonBody}.build(t, "https://example.com")
	v := &Verifier{Credentials: failingSource{}, Now: baseTime}
	_, err := v.Verify(context.Background(), r, body)
	if err == nil || FailureOf(err) != 0 || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("outage: err = %v (kind %d); want an operational error", err, FailureOf(err))
	}
}

func TestVerifyNilCredentials(t *testing.T) {
	r, body := reqSpec{path: "/x"}.build(t, "https://example.com")
	if _, err := (&Verifier{}).Verify(context.Background(), r, body); err == nil {
		t.Fatal("Verify without a CredentialSource succeeded")
	}
	if _, err := newVerifier(baseTime()).Verify(context.Background(), &http.Request{}, nil); err == nil {
		t.Fatal("Verify of a request without a URL succeeded")
	}
}

// A client that signs a header the SDK ignores (User-Agent) is still
// verified, because the rebuilt request lists it under a lowercase key.
func TestVerifySignedUserAgent(t *testing.T) {
	r, body := reqSpec{path: "/x", body: jsonBody}.build(t, "https://example.com")
	// Re-sign by hand with user-agent among the signed headers: put it
	// under a lowercase key so the SDK signer includes it.
	r.Header.Del("Authorization")
	r.Header["user-agent"] = []string{"custom-client/1.0"}
	if err := signWith(r, hashHex(body)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Header.Get("Authorization"), "user-agent") {
		t.Fatalf("test setup: user-agent not signed: %s", r.Header.Get("Authorization"))
	}
	v := newVerifier(baseTime())
	if _, err := v.Verify(context.Background(), r, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r.Header["user-agent"] = []string{"other/2.0"}
	if _, err := v.Verify(context.Background(), r, body); FailureOf(err) != FailSignature {
		t.Fatalf("changed signed user-agent: err = %v", err)
	}
}

// A key whose secret changes (deleted and re-imported under the same id)
// must not keep verifying with the signing key derived from the old secret,
// which the SDK signer caches by access key id.
func TestVerifySecretChangeUnderSameKeyID(t *testing.T) {
	const oldSecret, newSecret = "oldSecretEXAMPLEoldSecretEXAMPLEoldSecre", "newSecretEXAMPLEnewSecretEXAMPLEnewSecre"
	creds := memCreds{testAKID: {AccessKeyID: testAKID, SecretAccessKey: oldSecret}}
	v := &Verifier{Credentials: creds, Now: baseTime}
	verify := func(secret string) error {
		r, body := reqSpec{path: "/x", body: jsonBody, creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret}}.
			build(t, "https://example.com")
		_, err := v.Verify(context.Background(), r, body)
		return err
	}
	if err := verify(oldSecret); err != nil {
		t.Fatalf("old secret before the change: %v", err)
	}
	creds[testAKID] = Credential{AccessKeyID: testAKID, SecretAccessKey: newSecret}
	if err := verify(oldSecret); FailureOf(err) != FailSignature {
		t.Fatalf("old secret after the change: err = %v, want a signature mismatch", err)
	}
	if err := verify(newSecret); err != nil {
		t.Fatalf("new secret after the change: %v", err)
	}
}

// Verify shares its signers between requests; run it from several
// goroutines, with two keys, under the race detector.
func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier(baseTime())
	var wg sync.WaitGroup
	for i := range 8 {
		creds := goodCreds()
		if i%2 == 1 {
			creds = aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: testToken}
		}
		r, body := reqSpec{path: "/x", body: jsonBody, creds: creds}.build(t, "https://example.com")
		wg.Go(func() {
			for range 20 {
				if _, err := v.Verify(context.Background(), r, body); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Clients choose the region and service of their scope: however many they
// use, the signer cache stays bounded, and each signer serves one scope of
// one secret.
func TestSignerCache(t *testing.T) {
	var c signerCache
	creds := goodCreds()
	s := c.get(creds, testRegion, testService)
	if c.get(creds, testRegion, testService) != s {
		t.Error("same key, scope and secret: a new signer")
	}
	if c.get(creds, "eu-west-1", testService) == s || c.get(creds, testRegion, "sts") == s {
		t.Error("another scope: the same signer")
	}
	if c.get(aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: "other"}, testRegion, testService) == s {
		t.Error("another secret: the same signer")
	}
	for i := range maxCachedSigners + 10 {
		c.get(creds, fmt.Sprintf("region-%d", i), testService)
	}
	if n := len(c.signers); n > maxCachedSigners {
		t.Errorf("cache holds %d signers, more than %d", n, maxCachedSigners)
	}
}
