package yamlconfig

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const handWritten = `# project file, written by hand
default_agent: demo
agents:
  demo:
    name: demo
    entrypoint: agent.py # the entry
    platform: linux/arm64
    custom_thing:
      keep: me
    aws:
      region: eu-west-1
      ecr_repository: null
    identity:
      credential_providers: []
      workload: null
  other:
    name: other
    entrypoint: other.py
`

func write(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRoundTripPreservesUnknownKeysCommentsAndOrder(t *testing.T) {
	path := write(t, handWritten)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	err = f.UpdateAgent("demo", func(a *Agent) error {
		if a.AWS == nil || a.AWS.Region != "eu-west-1" {
			t.Errorf("decoded aws.region = %+v", a.AWS)
		}
		a.Identity.Workload = &Workload{Name: "demo-workload", ARN: "arn:w", ReturnURLs: []string{"http://localhost:8081/cb"}}
		a.Identity.CredentialProviders = append(a.Identity.CredentialProviders, CredentialProvider{Name: "gh", ARN: "arn:p", Type: "github", CallbackURL: "http://cb"})
		j := DefaultAWSJWT()
		j.Enabled, j.Audiences = true, []string{"https://api.example.com"}
		a.AWSJWT = &j
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	out := string(b)
	for _, want := range []string{"# project file, written by hand", "entrypoint: agent.py # the entry",
		"custom_thing:\n      keep: me", "ecr_repository: null", "name: demo-workload", "type: github", "- https://api.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("saved file lacks %q:\n%s", want, out)
		}
	}
	// Key order: original keys keep their place, new ones follow.
	order := []string{"default_agent:", "  demo:", "    name: demo", "    platform:", "    custom_thing:", "    aws:", "    identity:", "    aws_jwt:", "  other:"}
	last := -1
	for _, k := range order {
		i := strings.Index(out, k)
		if i <= last {
			t.Fatalf("key %q out of order in:\n%s", k, out)
		}
		last = i
	}
	// Unset modelled fields are not added to a hand-written agent.
	if strings.Contains(out, "oauth_configuration") || strings.Contains(out, "request_header_configuration") {
		t.Errorf("unset keys were added:\n%s", out)
	}

	// A second load sees what was written, and an unchanged save is stable.
	f2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f2.Agent("demo")
	if err != nil {
		t.Fatal(err)
	}
	if a.Identity.Workload.ReturnURLs[0] != "http://localhost:8081/cb" || !a.AWSJWT.Enabled || a.AWSJWT.DurationSeconds != 300 {
		t.Errorf("reloaded agent = %+v / %+v", a.Identity, a.AWSJWT)
	}
	if err := f2.UpdateAgent("demo", func(*Agent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f2.Save(); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != out {
		t.Errorf("an unchanged round trip changed the file:\n%s\n---\n%s", out, b2)
	}
}

func TestResolveAgent(t *testing.T) {
	f, err := Load(write(t, handWritten))
	if err != nil {
		t.Fatal(err)
	}
	noDefault, err := Load(write(t, strings.Replace(handWritten, "default_agent: demo\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arg, want string
		file            *File
		wantErr         bool
	}{
		{"default_agent", "", "demo", f, false},
		{"explicit", "other", "other", f, false},
		{"first agent without default", "", "demo", noDefault, false},
		{"unknown", "nope", "", f, true},
		{"empty file", "", "", New("x"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.file.ResolveAgent(tc.arg)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ResolveAgent(%q) = %q, %v", tc.arg, got, err)
			}
		})
	}
}

func TestNewFileAndMissing(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := LoadDir(dir); ok || err != nil {
		t.Fatalf("LoadDir on an empty dir = %v, %v", ok, err)
	}
	if _, err := Load(filepath.Join(dir, FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load missing = %v", err)
	}
	f := New(filepath.Join(dir, FileName))
	j := DefaultAWSJWT()
	if err := f.PutAgent("a1", &Agent{Name: "a1", Entrypoint: "main.go", BedrockAgentCore: &BedrockAgentCore{}, Identity: &Identity{}, AWSJWT: &j}); err != nil {
		t.Fatal(err)
	}
	f.SetDefaultAgent("a1")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f2, ok, err := LoadDir(dir)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	c, err := f2.Config()
	if err != nil {
		t.Fatal(err)
	}
	a := c.Agents["a1"]
	if c.DefaultAgent != "a1" || a == nil || a.Entrypoint != "main.go" || a.AWSJWT.SigningAlgorithm != "ES384" {
		t.Fatalf("config = %+v, agent %+v", c, a)
	}
	if _, err := Load(write(t, "- a\n- b\n")); err == nil {
		t.Fatal("a sequence at the top level was accepted")
	}
}
