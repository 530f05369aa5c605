package identity

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// hostRecorder answers every request with an empty JSON object and records
// which server got which path.
type hostRecorder struct {
	mu   sync.Mutex
	hits map[string][]string
}

func (h *hostRecorder) server(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[name] = append(h.hits[name], r.URL.Path)
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"workloadAccessToken":"w","webIdentityToken":"j"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestEndpointPrecedence(t *testing.T) {
	h := &hostRecorder{hits: map[string][]string{}}
	urls := map[string]string{}
	for _, n := range []string{"opt-dp", "opt-all", "env-dp", "env-cp-aws", "env-all"} {
		urls[n] = h.server(t, n)
	}
	env := map[string]string{
		"BEDROCK_AGENTCORE_DP_ENDPOINT":              urls["env-dp"],
		"AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL": urls["env-cp-aws"],
		"AGENTCORE_ENDPOINT":                         urls["env-all"],
		"AWS_REGION":                                 "eu-west-3",
	}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	call := func(opts Options) {
		t.Helper()
		opts.Credentials, opts.RetryMaxAttempts = staticCreds(), 1
		c, err := newClient(opts, getenv)
		if err != nil {
			t.Fatal(err)
		}
		if c.Region() != "eu-west-3" && opts.Region == "" {
			t.Errorf("region = %q", c.Region())
		}
		_, _ = c.GetWorkloadAccessToken(ctx, "w")                                        // data plane
		_ = c.DeleteWorkloadIdentity(ctx, "w")                                           // control plane
		_, _ = GetIAMAccessToken(ctx, c.STS(), IAMTokenOptions{Audience: []string{"a"}}) // sts
	}

	call(Options{})
	want := map[string][]string{
		"env-dp":     {"/identities/GetWorkloadAccessToken"},
		"env-cp-aws": {"/identities/DeleteWorkloadIdentity"},
		"env-all":    {"/"},
	}
	check := func(step string) {
		t.Helper()
		h.mu.Lock()
		defer h.mu.Unlock()
		for k, v := range want {
			got := append([]string(nil), h.hits[k]...)
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(v, ",") {
				t.Errorf("%s: %s got %v, want %v", step, k, got, v)
			}
		}
		h.hits = map[string][]string{}
	}
	check("environment")

	call(Options{Endpoint: urls["opt-all"], DataPlaneEndpoint: urls["opt-dp"]})
	want = map[string][]string{
		"opt-dp":  {"/identities/GetWorkloadAccessToken"},
		"opt-all": {"/", "/identities/DeleteWorkloadIdentity"},
	}
	check("options")
}

func TestBadEndpointIsRejected(t *testing.T) {
	for _, u := range []string{"localhost:8000", "ftp://x", "http://"} {
		if _, err := newClient(Options{Endpoint: u}, noEnv); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestMissingCredentialsSurfaceOnTheCall(t *testing.T) {
	env := map[string]string{"AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/none", "AGENTCORE_ENDPOINT": "http://127.0.0.1:1"}
	c, err := newClient(Options{RetryMaxAttempts: 1}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetWorkloadIdentity(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("got %v", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Errorf("classified as a service error: %v", err)
	}
}
