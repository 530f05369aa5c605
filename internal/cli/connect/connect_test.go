package connect

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDialPrecedence(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dataDir := filepath.Join(t.TempDir(), ".agentcore")
	writeFile(t, filepath.Join(dataDir, "endpoint.json"), `{"url":"`+srv.URL+`","accountId":"123456789012","region":"eu-west-1"}`)
	writeFile(t, filepath.Join(dataDir, "credentials"), "# comment\n[other]\naws_access_key_id = OTHER\naws_secret_access_key = x\n[agentcore]\naws_access_key_id = AKIDLOCAL\naws_secret_access_key = s3cret\n")
	shared := filepath.Join(t.TempDir(), "shared")
	writeFile(t, shared, "[dev]\naws_access_key_id = AKIDSHARED\naws_secret_access_key = s\n")

	tests := []struct {
		name                              string
		flags                             Flags
		env                               map[string]string
		wantEndpoint, wantRegion, wantKey string
		wantAccount                       string
	}{
		{"data dir only", Flags{DataDir: dataDir}, nil, srv.URL, "eu-west-1", "AKIDLOCAL", "123456789012"},
		{"env beats data dir", Flags{DataDir: dataDir},
			map[string]string{"AGENTCORE_ENDPOINT": srv.URL + "/", "AWS_REGION": "us-west-2", "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "x"},
			srv.URL, "us-west-2", "AKIDENV", "123456789012"},
		{"flags beat env", Flags{DataDir: dataDir, Endpoint: srv.URL, Region: "ap-south-1"},
			map[string]string{"AGENTCORE_ENDPOINT": "http://127.0.0.1:1", "AWS_REGION": "us-west-2"}, srv.URL, "ap-south-1", "AKIDLOCAL", "123456789012"},
		{"shared credentials file", Flags{DataDir: t.TempDir(), Endpoint: srv.URL},
			map[string]string{"AWS_SHARED_CREDENTIALS_FILE": shared, "AWS_PROFILE": "dev"}, srv.URL, DefaultRegion, "AKIDSHARED", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tgt, err := Dial(context.Background(), tc.flags, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			creds, _ := tgt.Credentials.Retrieve(context.Background())
			if tgt.Endpoint != tc.wantEndpoint || tgt.Region != tc.wantRegion || creds.AccessKeyID != tc.wantKey || tgt.AccountID != tc.wantAccount {
				t.Fatalf("got endpoint %q region %q key %q account %q", tgt.Endpoint, tgt.Region, creds.AccessKeyID, tgt.AccountID)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	_, err = Dial(context.Background(), Flags{Endpoint: closed, DataDir: t.TempDir()}, func(string) string { return "" })
	if !errors.Is(err, ErrServerUnreachable) {
		t.Fatalf("want ErrServerUnreachable, got %v", err)
	}
	want := "no agentcore server at " + closed + " — start one with `agentcore server` (or set --endpoint / AGENTCORE_ENDPOINT)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error text:\n%s\nwant prefix:\n%s", err, want)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, err = Dial(context.Background(), Flags{Endpoint: srv.URL, DataDir: t.TempDir()},
		func(k string) string {
			return map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none")}[k]
		})
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("want a missing-credentials error, got %v", err)
	}
}

func TestReadProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	content := "# Written by agentcore server\n[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other\n\n" +
		"[agentcore]\naws_access_key_id = AKIDBENCH\naws_secret_access_key = s3cr=t\nregion = us-east-1\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ReadProfile(path, "agentcore")
	if err != nil || c.AccessKeyID != "AKIDBENCH" || c.SecretAccessKey != "s3cr=t" {
		t.Fatalf("ReadProfile = %+v, %v", c, err)
	}
	if _, err := ReadProfile(path, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("fail/missing-profile: %v", err)
	}
	if _, err := ReadProfile(filepath.Join(t.TempDir(), "none"), "agentcore"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("fail/missing-file: %v", err)
	}
}
