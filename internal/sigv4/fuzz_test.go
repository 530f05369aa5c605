package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestParseAuthorization(t *testing.T) {
	good := "AWS4-HMAC-SHA256 Credential=AKID/20251120/us-west-2/svc/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	a, err := parseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if a.Credential != "AKID/20251120/us-west-2/svc/aws4_request" || a.SignedHeaders != "host;x-amz-date" || a.Signature != "abc" {
		t.Fatalf("parsed %+v", a)
	}
	// No spaces after commas and a different order are accepted, as by AWS.
	b, err := parseAuthorization("AWS4-HMAC-SHA256 Signature=abc,SignedHeaders=host;x-amz-date,Credential=AKID/20251120/us-west-2/svc/aws4_request")
	if err != nil || b != a {
		t.Fatalf("reordered: %+v, %v", b, err)
	}
	for _, bad := range []string{
		"", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "Basic dXNlcjpwYXNz",
		"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host",
		"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=",
		"AWS4-HMAC-SHA256 Credential=a, Credential=b, SignedHeaders=host, Signature=x",
		"AWS4-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=x, Extra=y",
		"aws4-hmac-sha256 Credential=a, SignedHeaders=host, Signature=x",
	} {
		if _, err := parseAuthorization(bad); err == nil || err.Kind != FailIncomplete {
			t.Errorf("parseAuthorization(%q) = %v; want FailIncomplete", bad, err)
		}
	}
}

func TestParseCredential(t *testing.T) {
	c, err := parseCredential("AKID/20251120/us-west-2/bedrock-agentcore/aws4_request")
	if err != nil || c != (credentialScope{"AKID", "20251120", "us-west-2", "bedrock-agentcore"}) {
		t.Fatalf("%+v %v", c, err)
	}
	if c.String() != "AKID/20251120/us-west-2/bedrock-agentcore/aws4_request" {
		t.Fatalf("String() = %q", c.String())
	}
	for _, bad := range []string{
		"", "AKID", "AKID/20251120/us-west-2/svc", "AKID/20251120/us-west-2/svc/aws4_request/x",
		"/20251120/us-west-2/svc/aws4_request", "AKID/20251320/us-west-2/svc/aws4_request",
		"AKID/2025112/us-west-2/svc/aws4_request", "AKID/20251120//svc/aws4_request",
		"AKID/20251120/us-west-2//aws4_request", "AKID/20251120/us-west-2/svc/aws4_requesT",
	} {
		if _, err := parseCredential(bad); err == nil || err.Kind != FailIncomplete {
			t.Errorf("parseCredential(%q) = %v; want FailIncomplete", bad, err)
		}
	}
}

// TestVerifyContentLengthHeader covers a signed Content-Length carried in
// r.Header (as Go's server delivers it) rather than only r.ContentLength.
func TestVerifyContentLengthHeader(t *testing.T) {
	v := newVerifier(baseTime())
	for _, tc := range []struct {
		name  string
		value []string
		want  Failure
	}{
		{"ok/header", []string{"25"}, 0},
		{"fail/different", []string{"26"}, FailSignature},
		{"fail/malformed", []string{"2x"}, FailIncomplete},
		{"fail/negative", []string{"-1"}, FailIncomplete},
		{"fail/twice", []string{"25", "25"}, FailIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := reqSpec{path: "/x", body: jsonBody}.build(t, "https://example.com")
			if len(body) != 25 {
				t.Fatalf("test setup: body is %d bytes", len(body))
			}
			r.ContentLength = -1
			r.Header["Content-Length"] = tc.value
			_, err := v.Verify(context.Background(), r, body)
			if FailureOf(err) != tc.want || (tc.want == 0 && err != nil) {
				t.Fatalf("err = %v, want kind %d", err, tc.want)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20251120/us-west-2/svc/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	f.Add("AWS4-HMAC-SHA256 Signature=,,,=,Credential==")
	f.Add("AWS4-X")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if err.Kind != FailIncomplete || err.Message == "" {
				t.Fatalf("error %+v", err)
			}
			return
		}
		if a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
			t.Fatalf("accepted %q with an empty component: %+v", h, a)
		}
		if !strings.HasPrefix(strings.TrimSpace(h), algorithm+" ") {
			t.Fatalf("accepted %q without the algorithm", h)
		}
		// The follow-on parsers must not panic on whatever was accepted.
		_, _ = parseCredential(a.Credential)
		_, _ = parseSignedHeaders(a.SignedHeaders)
	})
}

// fuzzInput is the part of a request FuzzVerify varies.
type fuzzInput struct {
	get                                    bool
	authz, amzDate, token, ctype, path, rq string
	body                                   []byte
}

func fuzzSeed(t testing.TB, spec reqSpec) fuzzInput {
	r, body := spec.build(t, "https://example.com")
	return fuzzInput{r.Method == http.MethodGet, r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"),
		r.Header.Get("X-Amz-Security-Token"), r.Header.Get("Content-Type"), r.URL.EscapedPath(), r.URL.RawQuery, body}
}

func fuzzSeeds(t testing.TB) []fuzzInput {
	return []fuzzInput{
		fuzzSeed(t, reqSpec{path: arnPath + "?a=1&b=%20x", body: jsonBody, headers: http.Header{"Content-Type": {"application/json"}}}),
		fuzzSeed(t, reqSpec{method: http.MethodGet, path: "/x?k=v", presign: true, expires: 60}),
		fuzzSeed(t, reqSpec{path: "/x", creds: tokenCreds()}),
	}
}

func (in fuzzInput) request() *http.Request {
	u := &url.URL{Scheme: "https", Host: "example.com", RawQuery: in.rq}
	if p, err := url.PathUnescape(in.path); err == nil {
		u.Path, u.RawPath = p, in.path
	} else {
		u.Path = in.path
	}
	method := http.MethodPost
	if in.get {
		method = http.MethodGet
	}
	r := &http.Request{Method: method, URL: u, Host: "example.com", Header: http.Header{}, ContentLength: int64(len(in.body))}
	for k, val := range map[string]string{"Authorization": in.authz, "X-Amz-Date": in.amzDate, "X-Amz-Security-Token": in.token, "Content-Type": in.ctype} {
		if val != "" {
			r.Header.Set(k, val)
		}
	}
	return r
}

// The fuzz seeds must verify, or FuzzVerify would only explore rejections.
func TestFuzzSeedsVerify(t *testing.T) {
	v := newVerifier(baseTime())
	for i, in := range fuzzSeeds(t) {
		if _, err := v.Verify(context.Background(), in.request(), in.body); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}

// FuzzVerify feeds arbitrary header, query, path and body values through
// Verify. Starting from validly signed requests, it checks that Verify
// never panics, that every failure is classified, and that whatever it
// accepts carries a known identity.
func FuzzVerify(f *testing.F) {
	for _, in := range fuzzSeeds(f) {
		f.Add(in.get, in.authz, in.amzDate, in.token, in.ctype, in.path, in.rq, in.body)
	}
	f.Add(false, "AWS4-HMAC-SHA256 Credential=/", "20251120T101500Z", "", "", "/", "X-Amz-Algorithm=&X-Amz-Expires=99999999999999999999", []byte(nil))

	v := newVerifier(baseTime())
	f.Fuzz(func(t *testing.T, get bool, authz, amzDate, token, ctype, path, rq string, body []byte) {
		in := fuzzInput{get, authz, amzDate, token, ctype, path, rq, body}
		scope, err := v.Verify(context.Background(), in.request(), body)
		if err != nil {
			if k := FailureOf(err); k < FailMissing || k > FailExpired {
				t.Fatalf("unclassified failure: %v", err)
			}
			return
		}
		if scope.AccessKeyID != testAKID && scope.AccessKeyID != tokenAKID {
			t.Fatalf("accepted unknown identity %+v", scope)
		}
	})
}

func tokenCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: testToken}
}
