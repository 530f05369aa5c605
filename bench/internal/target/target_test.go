package target

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	content := "# Written by agentcore server\n[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other\n\n" +
		"[agentcore]\naws_access_key_id = AKIDBENCH\naws_secret_access_key = s3cr=t\nregion = us-east-1\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCredentials(path, "agentcore")
	if err != nil || c.AccessKeyID != "AKIDBENCH" || c.SecretAccessKey != "s3cr=t" {
		t.Fatalf("ReadCredentials = %+v, %v", c, err)
	}
	if _, err := ReadCredentials(path, "missing"); err == nil {
		t.Error("fail/missing-profile: no error")
	}
	if _, err := ReadCredentials(filepath.Join(t.TempDir(), "none"), "agentcore"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fail/missing-file: %v", err)
	}
}
