package awsenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) Getenv { return func(k string) string { return m[k] } }

const credentialsFile = `
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key=secretdefault

; another comment
[profile dev]
AWS_ACCESS_KEY_ID = AKIDDEV
aws_secret_access_key = secret=with=equals
aws_session_token = tok
[broken]
aws_access_key_id = only-the-id
`

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	if err := os.WriteFile(file, []byte(credentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte("[default]\naws_access_key_id=HOMEKEY\naws_secret_access_key=s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	cases := []struct {
		name                 string
		env                  map[string]string
		akid, secret, token  string
		source, errSubstring string
	}{
		{name: "env", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
			"AWS_SHARED_CREDENTIALS_FILE": file}, akid: "AKIDENV", secret: "s", token: "t", source: "EnvironmentVariables"},
		{name: "env-half", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV"}, errSubstring: "must both be set"},
		{name: "file-default", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file}, akid: "AKIDDEFAULT", secret: "secretdefault", source: "SharedCredentialsFile"},
		{name: "file-profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "dev"}, akid: "AKIDDEV", secret: "secret=with=equals", token: "tok", source: "SharedCredentialsFile"},
		{name: "home", env: map[string]string{"HOME": home}, akid: "HOMEKEY", secret: "s", source: "SharedCredentialsFile"},
		{name: "missing-profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "prod"}, errSubstring: `profile "prod" is not in`},
		{name: "incomplete-profile", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "broken"}, errSubstring: "lacks"},
		{name: "no-file", env: map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "nope")}, errSubstring: "cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := retrieve(envOf(tc.env), now)
			if tc.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstring) || !errors.Is(err, ErrNoCredentials) {
					t.Fatalf("err = %v, want %q", err, tc.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.AccessKeyID != tc.akid || c.SecretAccessKey != tc.secret || c.SessionToken != tc.token || c.Source != tc.source {
				t.Errorf("got %+v", c)
			}
			if !c.CanExpire || !c.Expires.Equal(now.Add(refreshAfter)) {
				t.Errorf("expiry = %v %v", c.CanExpire, c.Expires)
			}
		})
	}

	got, err := Credentials(envOf(map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file})).Retrieve(context.Background())
	if err != nil || got.AccessKeyID != "AKIDDEFAULT" {
		t.Fatalf("cached provider: %+v, %v", got, err)
	}
}

func TestParseINIErrors(t *testing.T) {
	for _, in := range []string{"key = v\n", "[open\n", "[]\n", "[a]\nno equals sign\n"} {
		if _, err := ParseINI(strings.NewReader(in)); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestRegion(t *testing.T) {
	if r := Region(envOf(nil)); r != DefaultRegion {
		t.Errorf("default = %q", r)
	}
	if r := Region(envOf(map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"})); r != "eu-west-1" {
		t.Errorf("AWS_DEFAULT_REGION = %q", r)
	}
	if r := Region(envOf(map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "ap-south-1"})); r != "ap-south-1" {
		t.Errorf("AWS_REGION = %q", r)
	}
}
