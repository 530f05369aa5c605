package identity

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// identityFake answers the few operations local development uses, keeping
// the set of workload identities (a protocol fake, see wireFake).
func identityFake(t *testing.T, existing ...string) (*wireFake, func() []string) {
	var mu sync.Mutex
	known := map[string]bool{}
	var created []string
	for _, n := range existing {
		known[n] = true
	}
	f := newWireFake(t, func(c wireCall) wireReply {
		mu.Lock()
		defer mu.Unlock()
		name, _ := c.Body["name"].(string)
		switch c.Path {
		case "/identities/CreateWorkloadIdentity":
			if known[name] {
				return awsError(409, "ConflictException", "exists")
			}
			known[name] = true
			created = append(created, name)
			return wireReply{Status: 201, Body: map[string]any{"name": name, "workloadIdentityArn": "arn:" + name}}
		case "/identities/GetWorkloadAccessTokenForUserId":
			wl := c.Body["workloadName"].(string)
			if !known[wl] {
				return awsError(404, "ResourceNotFoundException", "no workload "+wl)
			}
			return ok(map[string]any{"workloadAccessToken": "wat:" + wl + ":" + c.Body["userId"].(string)})
		case "/identities/api-key":
			return ok(map[string]any{"apiKey": "key(" + c.Body["workloadIdentityToken"].(string) + ")"})
		}
		t.Errorf("unexpected call %s", c.Path)
		return awsError(404, "UnknownOperationException", c.Path)
	})
	return f, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), created...) }
}

func TestLocalDevCreatesIdentityAndWritesFile(t *testing.T) {
	f, created := identityFake(t)
	file := filepath.Join(t.TempDir(), ".agentcore.json")
	c := f.client(&LocalDev{ConfigFile: file})
	tool := RequiresAPIKey(c, "weather", func(ctx context.Context, key string) (string, error) { return key, nil })

	got, err := tool(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var saved localFile
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^workload-[0-9a-f]{8}$`).MatchString(saved.WorkloadIdentityName) ||
		!regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(saved.UserID) {
		t.Fatalf("file = %s", b)
	}
	if want := "key(wat:" + saved.WorkloadIdentityName + ":" + saved.UserID + ")"; got != want {
		t.Errorf("key = %q, want %q", got, want)
	}
	if c := created(); len(c) != 1 || c[0] != saved.WorkloadIdentityName {
		t.Errorf("created = %v", c)
	}

	// Later calls, and a new client reading the same file, reuse it.
	if _, err := tool(context.Background()); err != nil {
		t.Fatal(err)
	}
	c2 := f.client(&LocalDev{ConfigFile: file})
	wat, err := c2.ResolveWorkloadAccessToken(context.Background())
	if err != nil || wat != "wat:"+saved.WorkloadIdentityName+":"+saved.UserID {
		t.Fatalf("second client: %q, %v", wat, err)
	}
	if len(created()) != 1 {
		t.Errorf("identity created again: %v", created())
	}
}

func TestLocalDevExplicitNamesCreateAMissingIdentityOnce(t *testing.T) {
	f, created := identityFake(t)
	file := filepath.Join(t.TempDir(), "untouched.json")
	c := f.client(&LocalDev{WorkloadName: "ecs-agent", UserID: "alice", ConfigFile: file})
	for range 2 {
		wat, err := c.ResolveWorkloadAccessToken(context.Background())
		if err != nil || wat != "wat:ecs-agent:alice" {
			t.Fatalf("= %q, %v", wat, err)
		}
	}
	if got := created(); len(got) != 1 || got[0] != "ecs-agent" {
		t.Errorf("created = %v", got)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config file written although names were explicit: %v", err)
	}
}

func TestLocalDevReadsTheFile(t *testing.T) {
	f, created := identityFake(t, "from-file")
	file := filepath.Join(t.TempDir(), ".agentcore.json")
	if err := os.WriteFile(file, []byte(`{"workload_identity_name":"from-file","user_id":"bob"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wat, err := f.client(&LocalDev{ConfigFile: file}).ResolveWorkloadAccessToken(context.Background())
	if err != nil || wat != "wat:from-file:bob" {
		t.Fatalf("= %q, %v", wat, err)
	}
	if len(created()) != 0 {
		t.Errorf("created = %v", created())
	}
}

func TestContextTokenWinsAndContainersDisableTheFallback(t *testing.T) {
	f, _ := identityFake(t)
	c := f.client(&LocalDev{ConfigFile: filepath.Join(t.TempDir(), "x.json")})
	wat, err := c.ResolveWorkloadAccessToken(WithWorkloadAccessToken(context.Background(), "from-runtime"))
	if err != nil || wat != "from-runtime" || len(f.Calls()) != 0 {
		t.Fatalf("= %q, %v, calls %v", wat, err, f.Paths())
	}

	docker := func(k string) string {
		if k == "DOCKER_CONTAINER" {
			return "1"
		}
		return ""
	}
	inDocker, err := newClient(Options{Endpoint: f.srv.URL, Credentials: staticCreds()}, docker)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inDocker.ResolveWorkloadAccessToken(context.Background()); !errors.Is(err, ErrNoWorkloadAccessToken) {
		t.Fatalf("in a container: %v", err)
	}
	// An explicit LocalDev is honoured even in a container (ECS services).
	explicit, err := newClient(Options{Endpoint: f.srv.URL, Credentials: staticCreds(), RetryMaxAttempts: 1,
		LocalDev: &LocalDev{WorkloadName: "svc", UserID: "u"}}, docker)
	if err != nil {
		t.Fatal(err)
	}
	if wat, err := explicit.ResolveWorkloadAccessToken(context.Background()); err != nil || wat != "wat:svc:u" {
		t.Fatalf("explicit in a container: %q, %v", wat, err)
	}
}
