package sigv4

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID    = "AKIDEXAMPLE00000001"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tokenAKID   = "ASIAEXAMPLE00000002"
	tokenSecret = "tokenSecretEXAMPLEtokenSecretEXAMPLE0000"
	testToken   = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN+/="
	testRegion  = "us-west-2"
	testService = "bedrock-agentcore"
	arnPath     = "/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-west-2%3A123456789012%3Aruntime%2Fname-AbCdEf1234/invocations"
)

// baseTime is the signing time of most cases and the verifier's clock.
func baseTime() time.Time { return time.Date(2025, 11, 20, 10, 15, 0, 0, time.UTC) }

// memCreds is an in-memory CredentialSource.
type memCreds map[string]Credential

func (m memCreds) Lookup(_ context.Context, akid string) (Credential, error) {
	c, ok := m[akid]
	if !ok {
		return Credential{}, fmt.Errorf("lookup %q: %w", akid, ErrUnknownKey)
	}
	return c, nil
}

func testCreds() memCreds {
	return memCreds{
		testAKID:  {AccessKeyID: testAKID, SecretAccessKey: testSecret},
		tokenAKID: {AccessKeyID: tokenAKID, SecretAccessKey: tokenSecret, SessionToken: testToken},
	}
}

func goodCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
}

func newVerifier(now time.Time) *Verifier {
	return &Verifier{Credentials: testCreds(), Now: func() time.Time { return now }}
}

// reqSpec describes a request to sign with the real SDK signer and then,
// optionally, tamper with.
type reqSpec struct {
	method   string
	path     string // escaped path plus optional ?query
	body     string
	headers  http.Header
	creds    aws.Credentials // zero: goodCreds()
	signTime time.Time       // zero: baseTime
	payload  string          // payload hash to sign; "": SHA-256 of body

	presign bool
	expires int // X-Amz-Expires for presign

	// after runs on the signed request; newBody (if non-nil) replaces the
	// body actually sent, keeping the signed Content-Length.
	after   func(r *http.Request)
	newBody *string
}

// build signs the spec against base ("scheme://host") and returns the
// request plus the body bytes the server will see.
func (s reqSpec) build(t testing.TB, base string) (*http.Request, []byte) {
	t.Helper()
	method := s.method
	if method == "" {
		method = http.MethodPost
	}
	body := []byte(s.body)
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, base+s.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range s.headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	creds := s.creds
	if creds.AccessKeyID == "" {
		creds = goodCreds()
	}
	st := s.signTime
	if st.IsZero() {
		st = baseTime()
	}
	payload := s.payload
	if payload == "" && !s.presign {
		payload = hashHex(body)
	}
	if payload == "" {
		payload = unsignedPayload
	}

	signer := v4.NewSigner()
	if s.presign {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", fmt.Sprint(s.expires))
		r.URL.RawQuery = q.Encode()
		signed, hdr, err := signer.PresignHTTP(context.Background(), creds, r, payload, testService, testRegion, st)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := http.NewRequest(method, signed, rd)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			if !strings.EqualFold(k, "host") {
				r2.Header[k] = vs
			}
		}
		r = r2
	} else if err := signer.SignHTTP(context.Background(), creds, r, payload, testService, testRegion, st); err != nil {
		t.Fatal(err)
	}

	if s.after != nil {
		s.after(r)
	}
	if s.newBody != nil {
		body = []byte(*s.newBody)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r, body
}

// verifyOverHTTP sends r to a real httptest.Server whose handler runs v, so
// Go's server-side request parsing (Host, Content-Length, header
// canonicalisation, path unescaping) is part of the test.
func verifyOverHTTP(t *testing.T, v *Verifier, build func(base string) *http.Request) (Scope, error) {
	t.Helper()
	type result struct {
		scope Scope
		err   error
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			results <- result{err: err}
			return
		}
		scope, err := v.Verify(r.Context(), r, body)
		results <- result{scope, err}
		if err != nil {
			http.Error(w, "denied", http.StatusForbidden)
		}
	}))
	defer srv.Close()

	resp, err := srv.Client().Do(build(srv.URL))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res := <-results
	return res.scope, res.err
}

func setAuth(f func(string) string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
}

func ptr[T any](v T) *T { return &v }

// signWith signs r in place with the good test credentials at baseTime.
func signWith(r *http.Request, payloadHash string) error {
	return v4.NewSigner().SignHTTP(context.Background(), goodCreds(), r, payloadHash, testService, testRegion, baseTime())
}
