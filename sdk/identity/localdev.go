package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/agentcore-identity/agentcore/sdk/internal/awsenv"
	"github.com/agentcore-identity/agentcore/sdk/internal/reqctx"
)

// DefaultLocalConfigFile is the local development file the Python SDK uses.
const DefaultLocalConfigFile = ".agentcore.json"

// LocalDev configures how the client obtains a workload access token when
// the context carries none, which is the case outside an agent runtime
// (local development, a service on ECS, a test). The client then mints one
// itself with GetWorkloadAccessTokenForUserId, for WorkloadName and UserID.
//
// Fields left empty come from ConfigFile, shaped like the Python SDK's
// {"workload_identity_name": "...", "user_id": "..."}. A still-missing
// workload name becomes a new identity "workload-<8 hex>"; a missing user id
// becomes 8 random hex characters; both are written back to ConfigFile. A
// named identity that does not exist yet is created on first use.
type LocalDev struct {
	WorkloadName string
	UserID       string
	// ConfigFile defaults to DefaultLocalConfigFile in the working
	// directory. It is not touched when WorkloadName and UserID are both set.
	ConfigFile string
	// Disabled turns the fallback off: without a token in the context, calls
	// fail with ErrNoWorkloadAccessToken.
	Disabled bool
}

type localFile struct {
	WorkloadIdentityName string `json:"workload_identity_name,omitempty"`
	UserID               string `json:"user_id,omitempty"`
}

type localDev struct {
	c   *Client
	cfg LocalDev

	mu       sync.Mutex
	resolved bool
	ensured  bool // the workload identity is known to exist
}

// newLocalDev returns nil when the fallback is off: explicitly, or by
// default inside a container (DOCKER_CONTAINER set), where the Python SDK
// also refuses to improvise an identity.
func newLocalDev(c *Client, cfg *LocalDev, getenv awsenv.Getenv) (*localDev, error) {
	if cfg == nil {
		if getenv("DOCKER_CONTAINER") != "" {
			return nil, nil
		}
		cfg = &LocalDev{}
	}
	if cfg.Disabled {
		return nil, nil
	}
	l := &localDev{c: c, cfg: *cfg}
	if l.cfg.ConfigFile == "" {
		l.cfg.ConfigFile = DefaultLocalConfigFile
	}
	return l, nil
}

// ResolveWorkloadAccessToken returns the workload access token the wrappers
// use: the one on ctx (set by the runtime package or WithWorkloadAccessToken),
// else one minted through the local-development fallback (see LocalDev).
func (c *Client) ResolveWorkloadAccessToken(ctx context.Context) (string, error) {
	if wat := reqctx.From(ctx).WorkloadAccessToken; wat != "" {
		return wat, nil
	}
	if c.local == nil {
		return "", fmt.Errorf("identity: %w: the context carries none and the local development fallback is off "+
			"(in an agent runtime invoked with SigV4, pass a user id with X-Amzn-Bedrock-AgentCore-Runtime-User-Id; "+
			"elsewhere, configure Options.LocalDev)", ErrNoWorkloadAccessToken)
	}
	return c.local.token(ctx)
}

// WithWorkloadAccessToken returns a context carrying wat, for code that
// receives the token itself (for example from the WorkloadAccessToken
// header in its own HTTP server) instead of through runtime.App.
func WithWorkloadAccessToken(ctx context.Context, wat string) context.Context {
	return reqctx.Update(ctx, func(v *reqctx.Values) { v.WorkloadAccessToken = wat })
}

func (l *localDev) token(ctx context.Context) (string, error) {
	name, user, err := l.resolve(ctx)
	if err != nil {
		return "", err
	}
	wat, err := l.c.GetWorkloadAccessToken(ctx, name, WithUserID(user))
	if errors.Is(err, ErrNotFound) && l.markEnsured() {
		if _, cerr := l.c.CreateWorkloadIdentity(ctx, name, nil); cerr != nil && !errors.Is(cerr, ErrConflict) {
			return "", fmt.Errorf("identity: local development: create workload identity %q: %w", name, cerr)
		}
		wat, err = l.c.GetWorkloadAccessToken(ctx, name, WithUserID(user))
	}
	if err != nil {
		return "", fmt.Errorf("identity: local development token for workload %q, user %q: %w", name, user, err)
	}
	return wat, nil
}

// markEnsured reports whether this caller should try creating the identity
// (only once per client).
func (l *localDev) markEnsured() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ensured {
		return false
	}
	l.ensured = true
	return true
}

// resolve fills the workload name and user id from the options, the file,
// or generates them (creating the identity and writing the file).
func (l *localDev) resolve(ctx context.Context) (name, user string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.resolved {
		return l.cfg.WorkloadName, l.cfg.UserID, nil
	}
	if l.cfg.WorkloadName == "" || l.cfg.UserID == "" {
		var f localFile
		b, err := os.ReadFile(l.cfg.ConfigFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return "", "", fmt.Errorf("identity: local development: %w", err)
		default:
			if err := json.Unmarshal(b, &f); err != nil {
				return "", "", fmt.Errorf("identity: local development: parse %s: %w", l.cfg.ConfigFile, err)
			}
		}
		dirty := false
		if l.cfg.WorkloadName == "" {
			l.cfg.WorkloadName = f.WorkloadIdentityName
		}
		if l.cfg.WorkloadName == "" {
			l.cfg.WorkloadName = "workload-" + randomHex(4)
			if _, err := l.c.CreateWorkloadIdentity(ctx, l.cfg.WorkloadName, nil); err != nil {
				l.cfg.WorkloadName = ""
				return "", "", fmt.Errorf("identity: local development: create workload identity: %w", err)
			}
			l.ensured = true
			dirty = true
		}
		if l.cfg.UserID == "" {
			l.cfg.UserID = f.UserID
		}
		if l.cfg.UserID == "" {
			l.cfg.UserID = randomHex(4)
			dirty = true
		}
		if dirty {
			b, _ := json.MarshalIndent(localFile{WorkloadIdentityName: l.cfg.WorkloadName, UserID: l.cfg.UserID}, "", "  ")
			if err := os.WriteFile(l.cfg.ConfigFile, append(b, '\n'), 0o644); err != nil {
				return "", "", fmt.Errorf("identity: local development: %w", err)
			}
		}
	}
	l.resolved = true
	return l.cfg.WorkloadName, l.cfg.UserID, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return hex.EncodeToString(b)
}
