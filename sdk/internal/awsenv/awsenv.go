// Package awsenv resolves AWS region and credentials the way the AWS CLI
// does for the common cases: environment variables first, then the shared
// credentials file. It replaces the aws-sdk-go-v2 config and credentials
// modules, whose current versions cannot be used with the pinned core.
//
// Everything takes a lookup function (os.Getenv in production) so that
// nothing reads process state implicitly.
package awsenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// DefaultRegion is used when neither the options nor the environment name
// one (the server's default region).
const DefaultRegion = "us-east-1"

// Getenv looks up an environment variable ("" when unset).
type Getenv func(string) string

// Region returns AWS_REGION, else AWS_DEFAULT_REGION, else DefaultRegion.
func Region(getenv Getenv) string {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	return DefaultRegion
}

// First returns the first non-empty value among the named variables.
func First(getenv Getenv, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// refreshAfter is how long credentials read from the environment or the
// file are reused before they are looked up again (so a rotated file is
// picked up without restarting).
const refreshAfter = 5 * time.Minute

// ErrNoCredentials is returned when neither the environment nor the shared
// credentials file hold a key pair.
var ErrNoCredentials = errors.New("no AWS credentials found")

// Credentials returns a provider that reads AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or else the profile
// AWS_PROFILE (default "default") of the file AWS_SHARED_CREDENTIALS_FILE
// (default ~/.aws/credentials). It is cached: lookups happen at most every
// few minutes.
func Credentials(getenv Getenv) aws.CredentialsProvider {
	return aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return retrieve(getenv, time.Now())
	}))
}

func retrieve(getenv Getenv, now time.Time) (aws.Credentials, error) {
	akid, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if akid != "" || secret != "" {
		if akid == "" || secret == "" {
			return aws.Credentials{}, fmt.Errorf("%w: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set", ErrNoCredentials)
		}
		return aws.Credentials{
			AccessKeyID: akid, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"),
			Source: "EnvironmentVariables", CanExpire: true, Expires: now.Add(refreshAfter),
		}, nil
	}

	path := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if path == "" {
		home := getenv("HOME")
		if home == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return aws.Credentials{}, fmt.Errorf("%w: no environment variables and no home directory: %w", ErrNoCredentials, err)
			}
			home = h
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	profile := First(getenv, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
	if profile == "" {
		profile = "default"
	}
	f, err := os.Open(path)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: AWS_ACCESS_KEY_ID is unset and the shared credentials file cannot be read: %w", ErrNoCredentials, err)
	}
	defer f.Close()
	sections, err := ParseINI(f)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("parse %s: %w", path, err)
	}
	s, ok := sections[profile]
	if !ok {
		return aws.Credentials{}, fmt.Errorf("%w: profile %q is not in %s", ErrNoCredentials, profile, path)
	}
	if s["aws_access_key_id"] == "" || s["aws_secret_access_key"] == "" {
		return aws.Credentials{}, fmt.Errorf("%w: profile %q in %s lacks aws_access_key_id or aws_secret_access_key", ErrNoCredentials, profile, path)
	}
	return aws.Credentials{
		AccessKeyID: s["aws_access_key_id"], SecretAccessKey: s["aws_secret_access_key"], SessionToken: s["aws_session_token"],
		Source: "SharedCredentialsFile", CanExpire: true, Expires: now.Add(refreshAfter),
	}, nil
}

// ParseINI reads an AWS-style ini file: [section] headers, key = value
// lines (keys lower-cased), and # or ; comment lines. A "profile " prefix on
// a section name (the config-file spelling) is dropped.
func ParseINI(r io.Reader) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated section header", n)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			name = strings.TrimSpace(strings.TrimPrefix(name, "profile "))
			if name == "" {
				return nil, fmt.Errorf("line %d: empty section name", n)
			}
			if out[name] == nil {
				out[name] = map[string]string{}
			}
			cur = out[name]
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: want key = value", n)
			}
			if cur == nil {
				return nil, fmt.Errorf("line %d: key outside a section", n)
			}
			cur[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}
