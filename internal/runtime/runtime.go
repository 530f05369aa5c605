// Package runtime is the local agent runtime: a registry of agent runtimes
// (AgentCore's CreateAgentRuntime and friends, identity-relevant members
// only), a launcher that runs agent processes on this machine, and the
// invoke proxy that authenticates a caller, mints the workload access token
// and forwards the invocation to the agent's POST /invocations.
//
// # Status
//
// A runtime's status is computed when read, from a GET /ping of its local
// process: READY when it answers; CREATING while a process this server
// started is still within its start-up window; CREATE_FAILED (or
// UPDATE_FAILED after an update) otherwise, with failureReason saying why.
// A runtime whose artifact has no localConfiguration is CREATE_FAILED: this
// server runs agents locally only, but the record and its workload identity
// are still usable.
package runtime

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/validate"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// Store kinds: runtimes by id, and a name index that keeps names unique
// (and resolves invocations by name).
const (
	Kind     = "agent-runtime"
	NameKind = "agent-runtime-name"
)

// Statuses (wire values of AgentRuntimeStatus).
const (
	StatusCreating     = "CREATING"
	StatusCreateFailed = "CREATE_FAILED"
	StatusUpdateFailed = "UPDATE_FAILED"
	StatusReady        = "READY"
	StatusDeleting     = "DELETING"
)

// Constraints of the control-plane model.
var (
	NameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)
	IDRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$`)
	// HeaderRE is the allowlist pattern of the model, plus a trailing "*"
	// for the custom prefix as the starter toolkit writes it.
	HeaderRE = regexp.MustCompile(`^(?i:Authorization|X-Amzn-Bedrock-AgentCore-Runtime-Custom-([a-zA-Z0-9_-]+|\*))$`)
)

// LocalConfig is our extension member of agentRuntimeArtifact: how to run
// or reach the agent on this machine.
type LocalConfig struct {
	// Command, when set, is started by the server (only if the server
	// allows local commands); empty means the agent is started by someone
	// else (`agentcore launch`) and listens on Port.
	Command []string          `json:"command,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	Port    int               `json:"port"`
	// SessionBinding enables the built-in OAuth2 return-URL handler for
	// this runtime; nil means on when the server's public URL is loopback.
	SessionBinding *bool `json:"localSessionBinding,omitempty"`
}

// Grants are the credential providers and AWS JWT audiences the agent was
// granted. Provider grants are enforced on the runtime's workload identity
// (vends from other providers are refused); audiences on the runtime's
// execution key (see ExecutionCredentials): STS GetWebIdentityToken signed
// with it is refused for any other audience.
type Grants struct {
	CredentialProviders []string `json:"credentialProviders,omitempty"`
	AWSJWTAudiences     []string `json:"awsJwtAudiences,omitempty"`
}

// Spec is what Create and Update take.
type Spec struct {
	Name        string
	Description string
	RoleARN     string
	// Artifact is the agentRuntimeArtifact union as sent; Local is its
	// localConfiguration member, if that is the one set.
	Artifact        json.RawMessage
	Local           *LocalConfig
	Network         json.RawMessage
	Authorizer      *inbound.JWTAuthorizerConfig
	HeaderAllowlist []string
	Env             map[string]string
	Grants          *Grants
}

// Runtime is a stored agent runtime.
type Runtime struct {
	Spec     `json:"-"`
	ID       string `json:"id"`
	ARN      string `json:"-"`
	Account  string `json:"-"`
	Version  int    `json:"version"`
	Workload string `json:"workload"`
	// Binding is the resolved local session-binding setting.
	Binding bool `json:"binding"`
	// ExecKeyID is the runtime's current execution key, if one was issued.
	ExecKeyID string    `json:"execKeyId,omitempty"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// doc is the stored document.
type doc struct {
	Spec    specDoc `json:"spec"`
	Runtime Runtime `json:"runtime"`
}

type specDoc struct {
	Name            string                       `json:"name"`
	Description     string                       `json:"description,omitempty"`
	RoleARN         string                       `json:"roleArn,omitempty"`
	Artifact        json.RawMessage              `json:"artifact"`
	Local           *LocalConfig                 `json:"local,omitempty"`
	Network         json.RawMessage              `json:"network,omitempty"`
	Authorizer      *inbound.JWTAuthorizerConfig `json:"authorizer,omitempty"`
	HeaderAllowlist []string                     `json:"headerAllowlist,omitempty"`
	Env             map[string]string            `json:"env,omitempty"`
	Grants          *Grants                      `json:"grants,omitempty"`
}

// Config wires a Service.
type Config struct {
	Store     store.Store
	Workloads *workload.Service
	Region    string
	// CallbackURL is the built-in return-URL handler, registered on the
	// runtime's workload identity when session binding is on.
	CallbackURL string
	// BindingDefault is the session-binding setting of local runtimes that
	// do not choose one.
	BindingDefault bool
	// Processes starts and stops server-managed agent processes; nil
	// refuses localConfiguration.command.
	Processes *Supervisor
	// Keys issues the runtimes' execution keys.
	Keys *accesskeys.Service
}

// Service manages agent runtimes.
type Service struct{ cfg Config }

// NewService builds the service.
func NewService(cfg Config) *Service { return &Service{cfg: cfg} }

// RuntimeARN is the ARN of a runtime id.
func RuntimeARN(region, account, id string) string {
	return arn.ARN{Partition: "aws", Service: arn.Service, Region: region, Account: account, Resource: "runtime/" + id}.String()
}

func (s *Service) validate(sp *Spec) error {
	var v validate.Errors
	v.String("agentRuntimeName", sp.Name, 1, 48, NameRE)
	v.String("description", sp.Description, 0, 4096, nil)
	if sp.Authorizer != nil {
		sp.Authorizer.Validate(&v, "authorizerConfiguration.customJWTAuthorizer")
	}
	if sp.HeaderAllowlist != nil && v.Count("requestHeaderConfiguration.requestHeaderAllowlist", len(sp.HeaderAllowlist), 1, 20) {
		seen := map[string]bool{}
		for i, h := range sp.HeaderAllowlist {
			f := fmt.Sprintf("requestHeaderConfiguration.requestHeaderAllowlist.%d", i+1)
			if v.String(f, h, 1, 256, HeaderRE) && seen[strings.ToLower(h)] {
				v.Add(f, "Duplicate header name %q", h)
			}
			seen[strings.ToLower(h)] = true
			if strings.EqualFold(h, "Authorization") && sp.Authorizer == nil {
				v.Add(f, "Authorization can only be allowlisted on a runtime with a customJWTAuthorizer")
			}
		}
	}
	if sp.Local != nil {
		if sp.Local.Port < 1 || sp.Local.Port > 65535 {
			v.Add("agentRuntimeArtifact.localConfiguration.port", "Member must be a TCP port (1-65535)")
		}
		if len(sp.Local.Command) > 0 && s.cfg.Processes == nil {
			v.Add("agentRuntimeArtifact.localConfiguration.command",
				"This server does not start agent processes (start it with --local-runtime-commands); start the agent yourself and give only the port")
		}
	}
	return v.Err()
}

func (s *Service) binding(sp Spec) bool {
	if sp.Local == nil {
		return false
	}
	if sp.Local.SessionBinding != nil {
		return *sp.Local.SessionBinding
	}
	return s.cfg.BindingDefault
}

func (s *Service) returnURLs(rt Runtime) []string {
	if rt.Binding && s.cfg.CallbackURL != "" {
		return []string{s.CallbackURLFor(rt)}
	}
	return nil
}

// CallbackURLFor is the built-in return URL of a runtime: the handler finds
// the runtime (and its account) from the query.
func (s *Service) CallbackURLFor(rt Runtime) string {
	return s.cfg.CallbackURL + "?runtime=" + rt.ID + "&account=" + rt.Account
}

// Create registers a runtime, creates its workload identity (named after
// the runtime id, with the runtime's authorizer) and, for a local command,
// starts the agent process.
func (s *Service) Create(ctx context.Context, account string, sp Spec) (Runtime, error) {
	if err := s.validate(&sp); err != nil {
		return Runtime{}, err
	}
	if _, err := s.cfg.Store.Get(ctx, NameKind, account, sp.Name); err == nil {
		return Runtime{}, awserr.Conflict("An agent runtime named %q already exists.", sp.Name)
	}
	id := sp.Name + "-" + randomSuffix(10)
	rt := Runtime{Spec: sp, ID: id, Account: account, Version: 1, Workload: id, Binding: s.binding(sp)}
	if _, err := s.cfg.Workloads.Create(ctx, account, rt.Workload, s.returnURLs(rt), nil,
		workload.WithAuthorizer(sp.Authorizer), providerGrants(sp)); err != nil {
		return Runtime{}, err
	}
	data, err := encode(rt)
	if err != nil {
		return Runtime{}, err
	}
	var rec store.Record
	err = s.cfg.Store.InTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Create(ctx, store.Record{Kind: NameKind, Account: account, Key: sp.Name, Data: []byte(`"` + id + `"`)}, store.CreateOptions{}); err != nil {
			return err
		}
		rec, err = tx.Create(ctx, store.Record{Kind: Kind, Account: account, Key: id, Data: data}, store.CreateOptions{})
		return err
	})
	if err != nil {
		// The runtime does not exist, so neither may its identity.
		_ = s.cfg.Workloads.Delete(context.WithoutCancel(ctx), account, rt.Workload)
		if errors.Is(err, store.ErrConflict) {
			return Runtime{}, awserr.Conflict("An agent runtime named %q already exists.", sp.Name)
		}
		return Runtime{}, awserr.As(err)
	}
	rt, err = s.fromRecord(rec)
	if err != nil {
		return Runtime{}, err
	}
	if err := s.start(ctx, rt); err != nil {
		return Runtime{}, err
	}
	return rt, nil
}

// start starts a server-managed agent process with a fresh execution key
// in its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), which is
// kept in memory only.
func (s *Service) start(ctx context.Context, rt Runtime) error {
	if s.cfg.Processes == nil || rt.Local == nil || len(rt.Local.Command) == 0 {
		return nil
	}
	local := *rt.Local
	local.Env = map[string]string{}
	for k, v := range rt.Local.Env {
		local.Env[k] = v
	}
	if s.cfg.Keys != nil {
		k, err := s.ExecutionCredentials(ctx, rt.Account, rt.ID)
		if err != nil {
			return err
		}
		local.Env["AWS_ACCESS_KEY_ID"], local.Env["AWS_SECRET_ACCESS_KEY"] = k.AccessKeyID, k.SecretAccessKey
	}
	s.cfg.Processes.Start(rt.ID, local)
	return nil
}

// Resolve finds a runtime by ARN, id or name.
func (s *Service) Resolve(ctx context.Context, account, ref string) (Runtime, error) {
	id := ref
	if a, err := arn.Parse(ref); err == nil {
		rid, ok := strings.CutPrefix(a.Resource, "runtime/")
		if !ok || a.Account != account {
			return Runtime{}, awserr.NotFound("Agent runtime %q not found.", ref)
		}
		id = rid
	} else if !IDRE.MatchString(ref) {
		rec, err := s.cfg.Store.Get(ctx, NameKind, account, ref)
		if err != nil {
			return Runtime{}, notFound(ref, err)
		}
		if err := json.Unmarshal(rec.Data, &id); err != nil {
			return Runtime{}, awserr.Internal(err)
		}
	}
	rec, err := s.cfg.Store.Get(ctx, Kind, account, id)
	if err != nil {
		return Runtime{}, notFound(ref, err)
	}
	return s.fromRecord(rec)
}

// List returns a page of runtimes in id order.
func (s *Service) List(ctx context.Context, account string, limit int, after string) ([]Runtime, string, error) {
	page, err := s.cfg.Store.List(ctx, Kind, account, store.ListOptions{After: after, Limit: limit})
	if err != nil {
		return nil, "", awserr.Internal(err)
	}
	out := make([]Runtime, 0, len(page.Records))
	for _, rec := range page.Records {
		rt, err := s.fromRecord(rec)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rt)
	}
	return out, page.Next, nil
}

// Update replaces a runtime's configuration (the name is kept), bumps its
// version, copies the authorizer onto its workload identity and restarts a
// server-managed process.
func (s *Service) Update(ctx context.Context, account, ref string, sp Spec) (Runtime, error) {
	cur, err := s.Resolve(ctx, account, ref)
	if err != nil {
		return Runtime{}, err
	}
	sp.Name = cur.Name
	if err := s.validate(&sp); err != nil {
		return Runtime{}, err
	}
	next := cur
	next.Spec, next.Version, next.Binding = sp, cur.Version+1, s.binding(sp)
	if _, err := s.cfg.Workloads.Update(ctx, account, cur.Workload, s.returnURLs(next),
		workload.WithAuthorizer(sp.Authorizer), providerGrants(sp)); err != nil {
		return Runtime{}, err
	}
	data, err := encode(next)
	if err != nil {
		return Runtime{}, err
	}
	var rec store.Record
	err = s.cfg.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Update(ctx, Kind, account, cur.ID, func(r store.Record) (store.Record, error) {
			r.Data = data
			return r, nil
		})
		if err != nil || cur.ExecKeyID == "" {
			return err
		}
		return s.cfg.Keys.SetAllowedAudiencesIn(ctx, tx, cur.ExecKeyID, audiences(sp))
	})
	if err != nil {
		return Runtime{}, notFound(ref, err)
	}
	if s.cfg.Processes != nil {
		s.cfg.Processes.Stop(cur.ID)
	}
	next, err = s.fromRecord(rec)
	if err != nil {
		return Runtime{}, err
	}
	if err := s.start(ctx, next); err != nil {
		return Runtime{}, err
	}
	return next, nil
}

// Delete stops a server-managed process and removes the runtime and its
// workload identity.
func (s *Service) Delete(ctx context.Context, account, ref string) (Runtime, error) {
	rt, err := s.Resolve(ctx, account, ref)
	if err != nil {
		return Runtime{}, err
	}
	if s.cfg.Processes != nil {
		s.cfg.Processes.Stop(rt.ID)
	}
	err = s.cfg.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, Kind, account, rt.ID); err != nil {
			return err
		}
		if err := tx.Delete(ctx, NameKind, account, rt.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if rt.ExecKeyID != "" {
			return s.cfg.Keys.DeleteIn(ctx, tx, rt.ExecKeyID)
		}
		return nil
	})
	if err != nil {
		return Runtime{}, notFound(ref, err)
	}
	if err := s.cfg.Workloads.Delete(ctx, account, rt.Workload); err != nil && !awserr.IsCode(err, awserr.CodeResourceNotFound) {
		return Runtime{}, err
	}
	return rt, nil
}

// Status is the live status of a runtime and, unless READY, why.
func (s *Service) Status(ctx context.Context, rt Runtime) (string, string) {
	failed := StatusCreateFailed
	if rt.Version > 1 {
		failed = StatusUpdateFailed
	}
	if rt.Local == nil {
		return failed, "agentRuntimeArtifact has no localConfiguration: this server runs agents locally only"
	}
	if err := Ping(ctx, rt.Local.Port); err == nil {
		return StatusReady, ""
	}
	if s.cfg.Processes != nil && len(rt.Local.Command) > 0 {
		if starting, reason := s.cfg.Processes.State(rt.ID); starting {
			return StatusCreating, ""
		} else if reason != "" {
			return failed, reason
		}
	}
	return failed, NotRunningMessage(rt)
}

// NotRunningMessage says that a runtime's agent does not answer, and how to
// start it.
func NotRunningMessage(rt Runtime) string {
	port := 0
	if rt.Local != nil {
		port = rt.Local.Port
	}
	return fmt.Sprintf("agent process for runtime %s is not running (nothing answers on 127.0.0.1:%d); start it with `agentcore launch`", rt.ID, port)
}

func encode(rt Runtime) ([]byte, error) {
	d := doc{Runtime: rt, Spec: specDoc(rt.Spec)}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	return b, nil
}

func (s *Service) fromRecord(rec store.Record) (Runtime, error) {
	var d doc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return Runtime{}, awserr.Internal(fmt.Errorf("decode agent runtime %q: %w", rec.Key, err))
	}
	rt := d.Runtime
	rt.Spec = Spec(d.Spec)
	rt.Account = rec.Account
	rt.ARN = RuntimeARN(s.cfg.Region, rec.Account, rt.ID)
	rt.CreatedAt, rt.UpdatedAt = rec.CreatedAt, rec.UpdatedAt
	return rt, nil
}

func notFound(ref string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return awserr.NotFound("Agent runtime %q not found.", ref)
	}
	return awserr.As(err)
}

const suffixAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomSuffix(n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(suffixAlphabet))))
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b[i] = suffixAlphabet[k.Int64()]
	}
	return string(b)
}

// WorkloadARN is the ARN of a runtime's workload identity.
func (s *Service) WorkloadARN(rt Runtime) string {
	return arn.WorkloadIdentity(s.cfg.Region, rt.Account, rt.Workload)
}

// providerGrants restricts the runtime's workload identity to the providers
// it was granted; a runtime created without grants stays unrestricted.
func providerGrants(sp Spec) workload.Option {
	if sp.Grants == nil {
		return workload.WithProviderGrants(nil)
	}
	return workload.WithProviderGrants(append([]string{}, sp.Grants.CredentialProviders...))
}

// audiences are the AWS JWT audiences a runtime was granted.
func audiences(sp Spec) []string {
	if sp.Grants == nil {
		return nil
	}
	return sp.Grants.AWSJWTAudiences
}

// ExecutionRoleARN is the principal a runtime's agent acts as: the role of
// its roleArn (or AgentCoreRuntime-<name>), in this account — in AWS the
// runtime assumes its execution role.
func ExecutionRoleARN(account string, rt Runtime) string {
	role := "AgentCoreRuntime-" + rt.Name
	if _, after, ok := strings.Cut(rt.RoleARN, ":role/"); ok && after != "" {
		role = after
	}
	return "arn:aws:iam::" + account + ":role/" + role
}

// ExecutionCredentials issues the runtime a new execution key, replacing
// (deleting) the one it had: the access key its agent process signs its
// own calls with, as the execution role's credentials do in AWS. The key
// is not an admin key, acts as ExecutionRoleARN, and may request STS tokens
// only for the runtime's granted AWS JWT audiences. The secret is returned
// here once and is not stored in the clear.
func (s *Service) ExecutionCredentials(ctx context.Context, account, ref string) (accesskeys.Key, error) {
	if s.cfg.Keys == nil {
		return accesskeys.Key{}, awserr.Internal(errors.New("runtime: no access-key service configured"))
	}
	rt, err := s.Resolve(ctx, account, ref)
	if err != nil {
		return accesskeys.Key{}, err
	}
	var key accesskeys.Key
	err = s.cfg.Store.InTx(ctx, func(tx store.Tx) error {
		var old string
		var err error
		key, err = s.cfg.Keys.CreateIn(ctx, tx, accesskeys.Key{AccountID: account,
			ARN: ExecutionRoleARN(account, rt), AllowedAudiences: audiences(rt.Spec)})
		if err != nil {
			return err
		}
		_, err = tx.Update(ctx, Kind, account, rt.ID, func(r store.Record) (store.Record, error) {
			cur, err := s.fromRecord(r)
			if err != nil {
				return r, err
			}
			old, cur.ExecKeyID = cur.ExecKeyID, key.AccessKeyID
			r.Data, err = encode(cur)
			return r, err
		})
		if err != nil {
			return err
		}
		if old != "" {
			return s.cfg.Keys.DeleteIn(ctx, tx, old)
		}
		return nil
	})
	if err != nil {
		return accesskeys.Key{}, notFound(ref, err)
	}
	return key, nil
}
