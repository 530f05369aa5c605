package identity

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// wireFake is a PROTOCOL FAKE of the AgentCore restJson wire, used only by
// unit tests of the SDK's own logic: which operation is chosen, what goes in
// the request, how error responses are classified, how polling proceeds. It
// implements no AgentCore behaviour. The proofs that the SDK works against
// the real server are the end-to-end tests in the main module
// (e2e/sdk_test.go).
type wireFake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []wireCall
	handle func(call wireCall) wireReply
}

type wireCall struct {
	Path string
	Body map[string]any
}

// wireReply is a 2xx JSON body, or an AWS error when Code is set.
type wireReply struct {
	Status int
	Body   any
	Code   string
	Msg    string
}

func ok(body any) wireReply { return wireReply{Status: 200, Body: body} }

func awsError(status int, code, msg string) wireReply {
	return wireReply{Status: status, Code: code, Msg: msg}
}

func newWireFake(t *testing.T, handle func(call wireCall) wireReply) *wireFake {
	t.Helper()
	f := &wireFake{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		call := wireCall{Path: r.URL.Path, Body: map[string]any{}}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &call.Body); err != nil {
				t.Errorf("request body to %s is not JSON: %v", r.URL.Path, err)
			}
		}
		if r.Header.Get("Authorization") == "" {
			t.Errorf("request to %s is not signed", r.URL.Path)
		}
		f.mu.Lock()
		f.calls = append(f.calls, call)
		f.mu.Unlock()
		rep := f.handle(call)
		w.Header().Set("Content-Type", "application/json")
		if rep.Code != "" {
			w.Header().Set("X-Amzn-ErrorType", rep.Code)
			w.WriteHeader(rep.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": rep.Msg})
			return
		}
		w.WriteHeader(rep.Status)
		_ = json.NewEncoder(w).Encode(rep.Body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *wireFake) Calls() []wireCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wireCall(nil), f.calls...)
}

func (f *wireFake) Paths() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Path)
	}
	return out
}

func staticCreds() aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}, nil
	})
}

func noEnv(string) string { return "" }

// client returns a client for the fake, without retries and without the
// local-development fallback unless ld is given.
func (f *wireFake) client(ld *LocalDev) *Client {
	f.t.Helper()
	if ld == nil {
		ld = &LocalDev{Disabled: true}
	}
	c, err := newClient(Options{
		Endpoint: f.srv.URL, Region: "us-east-1", Credentials: staticCreds(), RetryMaxAttempts: 1, LocalDev: ld,
	}, noEnv)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}
