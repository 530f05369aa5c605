package cli

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

// TestIdentityServerNotRunning checks the exit code and message a user sees
// when no server is running.
func TestIdentityServerNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"identity", "list-credential-providers", "--endpoint", closed, "--data-dir", t.TempDir()}, &out, &errOut)
	want := "Error: no agentcore server at " + closed + " — start one with `agentcore server` (or set --endpoint / AGENTCORE_ENDPOINT)"
	if code != 1 || !strings.HasPrefix(errOut.String(), want) || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant prefix:\n%s", code, out.String(), errOut.String(), want)
	}
}
