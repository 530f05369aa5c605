package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const callerIdentityXML = `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>AID</UserId></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`

// verifyingServer runs the real Verifier (with the real clock, since the
// SDK signs with it) and records each outcome.
type verifyingServer struct {
	*httptest.Server
	scopes chan Scope
	errs   chan error
	paths  chan string
}

func newVerifyingServer(t *testing.T, onOK func(w http.ResponseWriter)) *verifyingServer {
	t.Helper()
	vs := &verifyingServer{scopes: make(chan Scope, 4), errs: make(chan error, 4), paths: make(chan string, 4)}
	v := &Verifier{Credentials: testCreds()}
	vs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vs.paths <- r.URL.EscapedPath()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			vs.errs <- err
			return
		}
		scope, err := v.Verify(r.Context(), r, body)
		if err != nil {
			vs.errs <- err
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>denied</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
			return
		}
		vs.scopes <- scope
		onOK(w)
	}))
	t.Cleanup(vs.Close)
	return vs
}

func staticCreds(akid, secret, token string) aws.CredentialsProviderFunc {
	return func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Source: "test"}, nil
	}
}

func stsClient(vs *verifyingServer, creds aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(vs.URL),
		Credentials:      creds,
		RetryMaxAttempts: 1,
		HTTPClient:       vs.Client(),
	})
}

func TestSTSClientEndToEnd(t *testing.T) {
	vs := newVerifyingServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, callerIdentityXML)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("ok", func(t *testing.T) {
		out, err := stsClient(vs, staticCreds(testAKID, testSecret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v (verifier: %v)", err, drain(vs.errs))
		}
		if aws.ToString(out.Account) != "123456789012" {
			t.Fatalf("account = %q", aws.ToString(out.Account))
		}
		scope := <-vs.scopes
		if scope.AccessKeyID != testAKID || scope.Region != "us-east-1" || scope.Service != "sts" {
			t.Fatalf("scope = %+v", scope)
		}
	})

	t.Run("ok/session-token", func(t *testing.T) {
		if _, err := stsClient(vs, staticCreds(tokenAKID, tokenSecret, testToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v (verifier: %v)", err, drain(vs.errs))
		}
		if scope := <-vs.scopes; scope.AccessKeyID != tokenAKID {
			t.Fatalf("scope = %+v", scope)
		}
	})

	t.Run("fail/wrong-secret", func(t *testing.T) {
		_, err := stsClient(vs, staticCreds(testAKID, "wrong-secret", "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" {
			t.Fatalf("client err = %v; want SignatureDoesNotMatch", err)
		}
		if got := FailureOf(<-vs.errs); got != FailSignature {
			t.Fatalf("verifier failure = %d, want FailSignature", got)
		}
	})
}

// TestAgentCoreClientARNPath drives the bedrock-agentcore client, whose
// InvokeAgentRuntime puts a full ARN into a path label: the SDK sends it
// percent-encoded and signs it encoded twice.
func TestAgentCoreClientARNPath(t *testing.T) {
	vs := newVerifyingServer(t, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := bedrockagentcore.New(bedrockagentcore.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(vs.URL),
		Credentials:      staticCreds(testAKID, testSecret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       vs.Client(),
	})
	arn := "arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/name-AbCdEf1234"
	out, err := client.InvokeAgentRuntime(ctx, &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn),
		Payload:         []byte(`{"prompt":"hi"}`),
	})
	if err != nil {
		t.Fatalf("InvokeAgentRuntime: %v (verifier: %v)", err, drain(vs.errs))
	}
	if out.Response != nil {
		_ = out.Response.Close()
	}
	if p := <-vs.paths; !strings.Contains(p, "arn%3Aaws%3Abedrock-agentcore") || !strings.Contains(p, "%2Fname-AbCdEf1234") {
		t.Fatalf("test setup: SDK sent path %q, want the ARN percent-encoded", p)
	}
	if scope := <-vs.scopes; scope.Service != testService || scope.Region != testRegion {
		t.Fatalf("scope = %+v", scope)
	}
}

func drain(c chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}
