package cognitosetup

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var userEnvVars = []string{"RUNTIME_POOL_ID", "RUNTIME_CLIENT_ID", "RUNTIME_DISCOVERY_URL", "RUNTIME_USERNAME", "RUNTIME_PASSWORD",
	"IDENTITY_POOL_ID", "IDENTITY_CLIENT_ID", "IDENTITY_CLIENT_SECRET", "IDENTITY_DISCOVERY_URL", "IDENTITY_USERNAME", "IDENTITY_PASSWORD"}

var m2mEnvVars = []string{"RUNTIME_POOL_ID", "RUNTIME_CLIENT_ID", "RUNTIME_DISCOVERY_URL", "RUNTIME_USERNAME", "RUNTIME_PASSWORD",
	"IDENTITY_POOL_ID", "IDENTITY_CLIENT_ID", "IDENTITY_CLIENT_SECRET", "IDENTITY_TOKEN_ENDPOINT", "IDENTITY_RESOURCE_SERVER"}

// readEnvFile checks the file is 0600 and returns its variables in order.
func readEnvFile(t *testing.T, path string) []string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	names, _, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestCognitoFilesNamesAndPermissions(t *testing.T) {
	dir := t.TempDir()
	pool := Pool{PoolID: "p", ClientID: "c", ClientSecret: "s", DiscoveryURL: "d", Username: "u", Password: "pw", TokenEndpoint: "te", ResourceServerIdentifier: "rs"}
	for flow, want := range map[string][]string{FlowUser: userEnvVars, FlowM2M: m2mEnvVars} {
		// A pre-existing world-readable file must end up 0600 too.
		if err := os.WriteFile(filepath.Join(dir, EnvName(flow)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := (File{Runtime: pool, Identity: pool, FlowType: flow}).Write(dir); err != nil {
			t.Fatal(err)
		}
		names := readEnvFile(t, filepath.Join(dir, EnvName(flow)))
		if !slices.Equal(names, want) {
			t.Errorf("%s variables = %v, want %v", flow, names, want)
		}
		if st, err := os.Stat(filepath.Join(dir, JSONName(flow))); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s JSON file: %v %v", flow, st.Mode(), err)
		}
	}
}

func TestNewPassword(t *testing.T) {
	for range 50 {
		pw, err := newPassword()
		if err != nil {
			t.Fatal(err)
		}
		var up, low, digit, special bool
		for _, r := range pw {
			switch {
			case unicode.IsUpper(r):
				up = true
			case unicode.IsLower(r):
				low = true
			case unicode.IsDigit(r):
				digit = true
			default:
				special = true
			}
		}
		if len(pw) != 16 || !up || !low || !digit || !special || strings.ContainsAny(pw, "'\"\\$*` ") {
			t.Fatalf("password %q does not meet the policy", pw)
		}
	}
}
