package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// signedRequest builds a request signed like the SDK signs it, for the cases
// the SDK refuses to send (missing required members, malformed bodies).
func signedRequest(t *testing.T, env *servertest.Env, method, path, contentType string, body []byte, at time.Time) *http.Request {
	t.Helper()
	return signedServiceRequest(t, env, "bedrock-agentcore", method, path, contentType, body, at)
}

// signedServiceRequest is signedRequest for another signing name (sts).
func signedServiceRequest(t *testing.T, env *servertest.Env, service, method, path, contentType string, body []byte, at time.Time) *http.Request {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}
	return signedRequestAs(t, env, creds, service, method, path, contentType, body, at)
}

// signedRequestAs is signedServiceRequest signed with other credentials.
func signedRequestAs(t *testing.T, env *servertest.Env, creds aws.Credentials, service, method, path, contentType string, body []byte, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, env.Region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

type wireError struct {
	Message   string `json:"message"`
	Reason    string `json:"reason"`
	FieldList []struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"fieldList"`
}

func do(t *testing.T, req *http.Request) (int, http.Header, wireError) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var we wireError
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(b, &we); err != nil {
			t.Fatalf("error body is not JSON (%v): %q", err, b)
		}
	}
	return resp.StatusCode, resp.Header, we
}

func TestRawWireErrors(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	now := time.Now()
	cases := []struct {
		name        string
		service     string
		method      string
		path        string
		contentType string
		body        string
		at          time.Time
		wantStatus  int
		wantCode    string
		wantReason  string
		wantField   string
	}{
		{"fail/missing-name", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `{}`, now, 400, "ValidationException", "FieldValidationFailed", "name"},
		{"fail/malformed-json", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `{"name":`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/wrong-type", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `{"name":42}`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/wrong-content-type", "", "POST", "/identities/CreateWorkloadIdentity", "text/plain", `{"name":"abc"}`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/unknown-operation", "", "POST", "/identities/NoSuchOperation", "application/json", `{}`, now, 404, "UnknownOperationException", "", ""},
		{"fail/stale-date", "", "POST", "/identities/ListWorkloadIdentities", "application/json", `{}`, now.Add(-6 * time.Minute), 403, "InvalidSignatureException", "", ""},
		{"fail/oversized-body", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, now, 413, "RequestEntityTooLargeException", "", ""},
		{"fail/trailing-garbage", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `{"name":"abc"} {"name":"def"}`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/top-level-array", "", "POST", "/identities/CreateWorkloadIdentity", "application/json", `[{"name":"abc"}]`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/form-content-type", "", "POST", "/identities/CreateWorkloadIdentity", "application/x-www-form-urlencoded", `name=abc`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/xml-content-type", "", "POST", "/identities/CreateOauth2CredentialProvider", "application/xml", `<name>abc</name>`, now, 400, "ValidationException", "CannotParse", ""},
		{"fail/oversized-body-query", "sts", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15&pad=" + strings.Repeat("a", 2<<20), now, 413, "", "", ""},
		{"fail/query-json-content-type", "sts", "POST", "/", "application/json", `{"Action":"GetWebIdentityToken"}`, now, 400, "", "", ""},
		{"ok/empty-body-list", "", "POST", "/identities/ListWorkloadIdentities", "", ``, now, 200, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "fail/") {
				// A refused request changes nothing in the store.
				before := env.Snapshot(t)
				defer func() {
					if !t.Failed() {
						env.RequireUnchanged(t, before)
					}
				}()
			}
			service := tc.service
			if service == "" {
				service = "bedrock-agentcore"
			}
			req := signedServiceRequest(t, env, service, tc.method, tc.path, tc.contentType, []byte(tc.body), tc.at)
			if service != "bedrock-agentcore" {
				// awsQuery errors are XML: the status is the assertion.
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), "<Code>") {
					t.Fatalf("status = %d, want %d with an error code: %s", resp.StatusCode, tc.wantStatus, b)
				}
				return
			}
			status, hdr, we := do(t, req)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%+v)", status, tc.wantStatus, we)
			}
			if hdr.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			if tc.wantCode == "" {
				return
			}
			if got := hdr.Get("X-Amzn-ErrorType"); got != tc.wantCode {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tc.wantCode)
			}
			if we.Message == "" {
				t.Error("error has no message")
			}
			if we.Reason != tc.wantReason {
				t.Errorf("reason = %q, want %q", we.Reason, tc.wantReason)
			}
			if tc.wantField != "" && (len(we.FieldList) == 0 || we.FieldList[0].Name != tc.wantField) {
				t.Errorf("fieldList = %+v, want %q", we.FieldList, tc.wantField)
			}
		})
	}

	t.Run("fail/missing-auth", func(t *testing.T) {
		env.Unchanged(t, func() {
			req, _ := http.NewRequest("POST", env.URL+"/identities/CreateWorkloadIdentity", strings.NewReader(`{"name":"anonymous"}`))
			status, hdr, _ := do(t, req)
			if status != 403 || hdr.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
				t.Errorf("got %d %s", status, hdr.Get("X-Amzn-ErrorType"))
			}
		})
	})
	t.Run("fail/tampered-body", func(t *testing.T) {
		env.Unchanged(t, func() {
			req := signedRequest(t, env, "POST", "/identities/CreateWorkloadIdentity", "application/json", []byte(`{"name":"good-name"}`), now)
			req.Body = io.NopCloser(strings.NewReader(`{"name":"evil-name"}`))
			status, hdr, _ := do(t, req)
			if status != 403 || hdr.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
				t.Errorf("got %d %s", status, hdr.Get("X-Amzn-ErrorType"))
			}
		})
	})
	t.Run("ok/presigned", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.URL+"/tags/"+"arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A"+env.AccountID+"%3Aworkload-identity-directory%2Fdefault%2Fworkload-identity%2Fnope", nil)
		creds := aws.Credentials{AccessKeyID: env.AccessKey, SecretAccessKey: env.SecretKey}
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "300")
		req.URL.RawQuery = q.Encode()
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "bedrock-agentcore", env.Region, now)
		if err != nil {
			t.Fatal(err)
		}
		preq, _ := http.NewRequest("GET", signed, nil)
		status, hdr, _ := do(t, preq)
		// Authenticated: the operation itself runs and finds no such resource.
		if status != 404 || hdr.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
			t.Errorf("got %d %s", status, hdr.Get("X-Amzn-ErrorType"))
		}
	})

	t.Run("ok/health", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(env.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s = %d", p, resp.StatusCode)
			}
		}
	})
}
