package identitycmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/cli/yamlconfig"
)

func TestWorkloadIdentityCommands(t *testing.T) {
	h := newHarness(t)
	c := h.client()

	// Without a project file: explicit name, nothing saved, a warning.
	r := h.must("create-workload-identity", "--name", "travel-agent", "--return-urls", "http://localhost:8081/cb,https://app/cb")
	if !strings.Contains(r.out, "travel-agent") || !strings.Contains(r.errOut, "no .bedrock_agentcore.yaml") {
		t.Fatalf("create output:\n%s\n%s", r.out, r.errOut)
	}
	wi, err := c.GetWorkloadIdentity(h.ctx(), "travel-agent")
	if err != nil || !slices.Equal(wi.ReturnURLs, []string{"http://localhost:8081/cb", "https://app/cb"}) {
		t.Fatalf("server has %+v, %v", wi, err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, yamlconfig.FileName)); !os.IsNotExist(err) {
		t.Fatal("create-workload-identity wrote a project file that did not exist")
	}

	// With a project file: default name <agent>-workload, recorded in YAML.
	h.writeProject()
	h.must("create-workload-identity")
	a := h.agent()
	if a.Identity == nil || a.Identity.Workload == nil || a.Identity.Workload.Name != "demo-workload" || !strings.HasSuffix(a.Identity.Workload.ARN, "/workload-identity/demo-workload") {
		t.Fatalf("YAML workload = %+v", a.Identity)
	}

	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"add keeps order and skips duplicates", []string{"--add-return-urls", "https://b/cb,https://a/cb"}, []string{"https://b/cb", "https://a/cb"}, ""},
		{"add again", []string{"--add-return-urls", "https://a/cb", "--add-return-urls", "https://c/cb"}, []string{"https://b/cb", "https://a/cb", "https://c/cb"}, ""},
		{"set replaces", []string{"--set-return-urls", "https://z/cb"}, []string{"https://z/cb"}, ""},
		{"add and set together", []string{"--add-return-urls", "x", "--set-return-urls", "y"}, nil, "exactly one of"},
		{"neither", nil, nil, "exactly one of"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run(append([]string{"update-workload-identity", "-n", "demo-workload"}, tc.args...)...)
			if tc.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
					t.Fatalf("want error %q, got %v", tc.wantErr, r.err)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			wi, err := c.GetWorkloadIdentity(h.ctx(), "demo-workload")
			if err != nil || !slices.Equal(wi.ReturnURLs, tc.want) {
				t.Fatalf("server return URLs = %v (%v), want %v", wi.ReturnURLs, err, tc.want)
			}
			if got := h.agent().Identity.Workload.ReturnURLs; !slices.Equal(got, tc.want) {
				t.Fatalf("YAML return URLs = %v, want %v", got, tc.want)
			}
			if !strings.Contains(r.out, "New return URLs:") {
				t.Fatalf("output:\n%s", r.out)
			}
		})
	}

	var listed listProvidersJSON
	h.jsonOf(&listed, "list-credential-providers", "--json")
	if listed.Workload == nil || listed.Workload.Name != "demo-workload" || listed.Agent != "demo" {
		t.Fatalf("list --json workload = %+v", listed)
	}
	if r := h.run("update-workload-identity", "-n", "missing", "--set-return-urls", "x"); r.err == nil {
		t.Fatal("updating a missing identity succeeded")
	}
}
