package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agentcore-identity/agentcore/internal/sigv4"
)

type staticKeys map[string]string

func (k staticKeys) Lookup(_ context.Context, id string) (sigv4.Credential, error) {
	secret, ok := k[id]
	if !ok {
		return sigv4.Credential{}, fmt.Errorf("%w: %s", sigv4.ErrUnknownKey, id)
	}
	return sigv4.Credential{AccessKeyID: id, SecretAccessKey: secret}, nil
}

// hit is one request a verifying server accepted.
type hit struct {
	server, date, auth string
}

// verifyingServer answers 200 to requests the server's own SigV4 verifier
// accepts and 403 to the rest.
func verifyingServer(t *testing.T, name string, mu *sync.Mutex, hits *[]hit) *httptest.Server {
	v := &sigv4.Verifier{Credentials: staticKeys{"AKIDBENCH": "bench-secret"}, Now: time.Now}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			w.Header().Set("X-Amzn-ErrorType", "InvalidSignatureException")
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		mu.Lock()
		*hits = append(*hits, hit{name, r.Header.Get("X-Amz-Date"), r.Header.Get("Authorization")})
		mu.Unlock()
		_, _ = io.WriteString(w, `{"apiKey":"k"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestConnSignsVerifiablyAndRoundRobins(t *testing.T) {
	var mu sync.Mutex
	var hits []hit
	a, b := verifyingServer(t, "a", &mu, &hits), verifyingServer(t, "b", &mu, &hits)
	c := NewClient([]string{a.URL, b.URL}, aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret"}, 2)
	defer c.Close()
	req := NewRequest(http.MethodPost, "/identities/api-key", "application/json", "bedrock-agentcore", "us-east-1",
		[]byte(`{"resourceCredentialProviderName":"p","workloadIdentityToken":"t"}`))
	conn := c.Conn()
	for i := range 10 {
		resp, err := conn.Do(context.Background(), req)
		if err != nil || CheckOK(resp) != nil {
			t.Fatalf("request %d: %v %v", i, err, CheckOK(resp))
		}
		if string(resp.Body) != `{"apiKey":"k"}` {
			t.Fatalf("body = %q", resp.Body)
		}
	}
	perServer := map[string]int{}
	sameSecond := map[hit]int{} // server+date+auth
	for _, h := range hits {
		perServer[h.server]++
		sameSecond[h]++
	}
	if perServer["a"] != 5 || perServer["b"] != 5 {
		t.Errorf("round robin: %v, want 5 each", perServer)
	}
	// A signature is reused within its second (and still verifies): at
	// most two seconds were crossed, so some (server, second) pair saw
	// several requests with one Authorization header.
	reused := false
	for _, n := range sameSecond {
		reused = reused || n > 1
	}
	if !reused || len(sameSecond) > 6 {
		t.Errorf("signature reuse: %d distinct (server, date, auth) triples for 10 requests", len(sameSecond))
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	var mu sync.Mutex
	var hits []hit
	srv := verifyingServer(t, "a", &mu, &hits)
	c := NewClient([]string{srv.URL}, aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "wrong"}, 1)
	defer c.Close()
	resp, err := c.Conn().Do(context.Background(), NewRequest(http.MethodPost, "/", "application/x-www-form-urlencoded", "sts", "us-east-1", []byte("Action=GetCallerIdentity")))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckOK(resp)
	if !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "403 InvalidSignatureException") {
		t.Fatalf("CheckOK = %v", err)
	}
	if len(hits) != 0 {
		t.Fatalf("a badly signed request was accepted")
	}
}
