package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

func adminCreds(t *testing.T, dir string) aws.CredentialsProvider {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id = (\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key = (\S+)`).FindSubmatch(b)
	if id == nil || secret == nil {
		t.Fatalf("credentials file unreadable:\n%s", b)
	}
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: string(id[1]), SecretAccessKey: string(secret[1])}, nil
	})
}

func TestAuditVerifyAndLookup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ep, _, stop := startServer(t, dir)
	client := cp.New(cp.Options{BaseEndpoint: aws.String(ep.URL), Region: ep.Region, Credentials: adminCreds(t, dir), RetryMaxAttempts: 1})
	for _, name := range []string{"alpha-agent", "beta-agent", "gamma-agent"} {
		if _, err := client.CreateWorkloadIdentity(context.Background(), &cp.CreateWorkloadIdentityInput{Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("server exit %d", code)
	}

	run := func(args ...string) (int, string) {
		var out, errOut lockedBuffer
		code := Execute(context.Background(), args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	code, out := run("audit", "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "intact: 3 records") {
		t.Fatalf("verify: %d %s", code, out)
	}
	code, out = run("audit", "lookup", "--data-dir", dir, "--operation", "CreateWorkloadIdentity", "--json")
	if code != 0 {
		t.Fatalf("lookup: %d %s", code, out)
	}
	var res struct {
		Events []audit.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Events) != 3 || res.Events[1].Resource != "beta-agent" {
		t.Fatalf("lookup --json = %+v (%v)\n%s", res, err, out)
	}
	code, out = run("audit", "lookup", "--data-dir", dir, "--start-time", "1h")
	if code != 0 || !strings.Contains(out, "gamma-agent") || !strings.Contains(out, "OPERATION") {
		t.Fatalf("lookup table: %d %s", code, out)
	}

	// Rewrite history in the database file: verification must fail.
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "agentcore.db")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Update(context.Background(), audit.KindEvent, ep.AccountID, "00000000000000000002", func(cur store.Record) (store.Record, error) {
		cur.Data = []byte(strings.Replace(string(cur.Data), "beta-agent", "evil-agent", 1))
		return cur, nil
	})
	_ = st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out = run("audit", "verify", "--data-dir", dir)
	if code == 0 || !strings.Contains(out, "BROKEN at record 2") {
		t.Fatalf("verify after tampering: %d %s", code, out)
	}
}
