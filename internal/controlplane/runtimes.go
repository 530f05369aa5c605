package controlplane

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/runtime"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// RuntimeHandlers binds the agent runtime operations (identity-relevant
// members only) to the local runtime registry.
type RuntimeHandlers struct {
	Runtimes *runtime.Service
}

// Operations is the agent runtime operation table (202 for mutations, as
// modeled).
func (h *RuntimeHandlers) Operations() []awsproto.Operation {
	return []awsproto.Operation{
		{Name: "CreateAgentRuntime", Method: http.MethodPut, Path: "/runtimes/", Status: http.StatusAccepted, Handle: h.create},
		{Name: "ListAgentRuntimes", Method: http.MethodPost, Path: "/runtimes/", Status: http.StatusOK, Handle: h.list},
		{Name: "GetAgentRuntime", Method: http.MethodGet, Path: "/runtimes/{agentRuntimeId}/", Status: http.StatusOK, Handle: h.get},
		{Name: "UpdateAgentRuntime", Method: http.MethodPut, Path: "/runtimes/{agentRuntimeId}/", Status: http.StatusAccepted, Handle: h.update},
		{Name: "DeleteAgentRuntime", Method: http.MethodDelete, Path: "/runtimes/{agentRuntimeId}/", Status: http.StatusAccepted, Handle: h.delete},
		// Our extension: `agentcore launch` asks for the key the agent
		// process signs with (its execution role's credentials in AWS).
		{Name: "IssueAgentRuntimeExecutionCredentials", Method: http.MethodPost, Path: "/runtimes/{agentRuntimeId}/execution-credentials", Status: http.StatusOK, Handle: h.executionCredentials},
	}
}

// executionCredentials issues a runtime a new execution key, replacing its
// previous one. Only an admin key may: any other key could otherwise mint
// itself a key with another runtime's audience grants.
func (h *RuntimeHandlers) executionCredentials(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	if p, _ := principal.From(ctx); !p.Admin {
		return nil, awserr.AccessDenied("Only an admin access key may issue agent runtime execution credentials.")
	}
	k, err := h.Runtimes.ExecutionCredentials(ctx, acct, req.Label("agentRuntimeId"))
	if err != nil {
		return nil, err
	}
	return struct {
		AccessKeyID      string   `json:"accessKeyId"`
		SecretAccessKey  string   `json:"secretAccessKey"`
		PrincipalARN     string   `json:"principalArn"`
		AllowedAudiences []string `json:"allowedAudiences"`
	}{k.AccessKeyID, k.SecretAccessKey, k.ARN, append([]string{}, k.AllowedAudiences...)}, nil
}

type runtimeInput struct {
	Name                 *string           `json:"agentRuntimeName"`
	Description          *string           `json:"description"`
	Artifact             json.RawMessage   `json:"agentRuntimeArtifact"`
	RoleARN              *string           `json:"roleArn"`
	Network              json.RawMessage   `json:"networkConfiguration"`
	EnvironmentVariables map[string]string `json:"environmentVariables"`
	Authorizer           *struct {
		CustomJWTAuthorizer *inbound.JWTAuthorizerConfig `json:"customJWTAuthorizer"`
	} `json:"authorizerConfiguration"`
	RequestHeaders *struct {
		Allowlist []string `json:"requestHeaderAllowlist"`
	} `json:"requestHeaderConfiguration"`
	// IdentityGrants is our extension: the credential providers the
	// runtime's workload identity may vend from (enforced) and the AWS JWT
	// audiences named in its configuration (enforced on its execution key).
	IdentityGrants *runtime.Grants `json:"identityGrants"`
}

// spec translates the wire input; the artifact union is checked here
// because only its localConfiguration member means anything locally.
func (in runtimeInput) spec(v *validate.Errors) runtime.Spec {
	sp := runtime.Spec{Description: str(in.Description), RoleARN: str(in.RoleARN), Network: in.Network,
		Env: in.EnvironmentVariables, Grants: in.IdentityGrants, Artifact: in.Artifact}
	if in.Name != nil {
		sp.Name = *in.Name
	}
	if in.Authorizer != nil {
		sp.Authorizer = in.Authorizer.CustomJWTAuthorizer
	}
	if in.RequestHeaders != nil {
		sp.HeaderAllowlist = in.RequestHeaders.Allowlist
	}
	if !v.Required("agentRuntimeArtifact", len(in.Artifact) > 0 && string(in.Artifact) != "null") {
		return sp
	}
	var union map[string]json.RawMessage
	if json.Unmarshal(in.Artifact, &union) != nil || len(union) != 1 {
		v.Add("agentRuntimeArtifact", "Exactly one of containerConfiguration, codeConfiguration and localConfiguration must be set")
		return sp
	}
	if raw, ok := union["localConfiguration"]; ok {
		sp.Local = &runtime.LocalConfig{}
		if json.Unmarshal(raw, sp.Local) != nil {
			v.Add("agentRuntimeArtifact.localConfiguration", "Member must be {command: [string], env: {string: string}, port: integer}")
		}
	}
	return sp
}

type runtimeRef struct {
	ARN     string `json:"agentRuntimeArn"`
	ID      string `json:"agentRuntimeId"`
	Version string `json:"agentRuntimeVersion"`
}

type workloadDetails struct {
	ARN string `json:"workloadIdentityArn"`
}

type runtimeMutationOutput struct {
	runtimeRef
	CreatedAt       string          `json:"createdAt"`
	LastUpdatedAt   string          `json:"lastUpdatedAt,omitempty"`
	Status          string          `json:"status"`
	WorkloadDetails workloadDetails `json:"workloadIdentityDetails"`
}

type runtimeOutput struct {
	runtimeMutationOutput
	Name            string                   `json:"agentRuntimeName"`
	Description     string                   `json:"description,omitempty"`
	RoleARN         string                   `json:"roleArn,omitempty"`
	FailureReason   string                   `json:"failureReason,omitempty"`
	Artifact        json.RawMessage          `json:"agentRuntimeArtifact,omitempty"`
	Network         json.RawMessage          `json:"networkConfiguration,omitempty"`
	Env             map[string]string        `json:"environmentVariables,omitempty"`
	Authorizer      *authorizerConfiguration `json:"authorizerConfiguration,omitempty"`
	RequestHeaders  *headerConfiguration     `json:"requestHeaderConfiguration,omitempty"`
	IdentityGrants  *runtime.Grants          `json:"identityGrants,omitempty"`
	CallbackURL     string                   `json:"localSessionBindingUrl,omitempty"`
	WorkloadName    string                   `json:"workloadIdentityName"`
	ProcessLocation string                   `json:"localEndpoint,omitempty"`
}

type headerConfiguration struct {
	Allowlist []string `json:"requestHeaderAllowlist"`
}

// rfc3339 renders the agent runtime timestamps, which the model declares
// date-time (unlike the identity operations' epoch seconds).
func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (h *RuntimeHandlers) mutation(ctx context.Context, rt runtime.Runtime) runtimeMutationOutput {
	status, _ := h.Runtimes.Status(ctx, rt)
	return runtimeMutationOutput{
		runtimeRef: runtimeRef{ARN: rt.ARN, ID: rt.ID, Version: strconv.Itoa(rt.Version)},
		CreatedAt:  rfc3339(rt.CreatedAt), LastUpdatedAt: rfc3339(rt.UpdatedAt), Status: status,
		WorkloadDetails: workloadDetails{ARN: h.Runtimes.WorkloadARN(rt)},
	}
}

func (h *RuntimeHandlers) create(ctx context.Context, req *awsproto.Request) (any, error) {
	var in runtimeInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	v.Required("agentRuntimeName", in.Name != nil)
	sp := in.spec(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rt, err := h.Runtimes.Create(ctx, acct, sp)
	if err != nil {
		return nil, err
	}
	return h.mutation(ctx, rt), nil
}

func (h *RuntimeHandlers) update(ctx context.Context, req *awsproto.Request) (any, error) {
	var in runtimeInput
	acct, err := decode(ctx, req, &in)
	if err != nil {
		return nil, err
	}
	var v validate.Errors
	sp := in.spec(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rt, err := h.Runtimes.Update(ctx, acct, req.Label("agentRuntimeId"), sp)
	if err != nil {
		return nil, err
	}
	return h.mutation(ctx, rt), nil
}

func (h *RuntimeHandlers) get(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	rt, err := h.Runtimes.Resolve(ctx, acct, req.Label("agentRuntimeId"))
	if err != nil {
		return nil, err
	}
	out := runtimeOutput{runtimeMutationOutput: h.mutation(ctx, rt), Name: rt.Name, Description: rt.Description,
		RoleARN: rt.RoleARN, Artifact: rt.Artifact, Network: rt.Network, Env: rt.Env,
		Authorizer: authorizerOutput(rt.Authorizer), IdentityGrants: rt.Grants, WorkloadName: rt.Workload}
	out.Status, out.FailureReason = h.Runtimes.Status(ctx, rt)
	if rt.HeaderAllowlist != nil {
		out.RequestHeaders = &headerConfiguration{Allowlist: rt.HeaderAllowlist}
	}
	if rt.Binding {
		out.CallbackURL = h.Runtimes.CallbackURLFor(rt)
	}
	if rt.Local != nil {
		out.ProcessLocation = "http://127.0.0.1:" + strconv.Itoa(rt.Local.Port)
	}
	return out, nil
}

func (h *RuntimeHandlers) list(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	q := req.HTTP.URL.Query()
	limit := 100
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return nil, awserr.Field(awserr.FieldError{Name: "maxResults", Message: "Member must have value between 1 and 100"})
		}
		limit = n
	}
	var token *string
	if s := q.Get("nextToken"); s != "" {
		token = &s
	}
	after, err := awsproto.DecodeToken("nextToken", token)
	if err != nil {
		return nil, err
	}
	rts, next, err := h.Runtimes.List(ctx, acct, limit, after)
	if err != nil {
		return nil, err
	}
	type item struct {
		runtimeRef
		Name          string `json:"agentRuntimeName"`
		Description   string `json:"description,omitempty"`
		LastUpdatedAt string `json:"lastUpdatedAt"`
		Status        string `json:"status"`
	}
	out := struct {
		Items []item  `json:"agentRuntimes"`
		Next  *string `json:"nextToken,omitempty"`
	}{Items: []item{}, Next: awsproto.EncodeToken(next)}
	for _, rt := range rts {
		status, _ := h.Runtimes.Status(ctx, rt)
		out.Items = append(out.Items, item{runtimeRef: runtimeRef{ARN: rt.ARN, ID: rt.ID, Version: strconv.Itoa(rt.Version)},
			Name: rt.Name, Description: rt.Description, LastUpdatedAt: rfc3339(rt.UpdatedAt), Status: status})
	}
	return out, nil
}

func (h *RuntimeHandlers) delete(ctx context.Context, req *awsproto.Request) (any, error) {
	acct, err := account(ctx)
	if err != nil {
		return nil, err
	}
	rt, err := h.Runtimes.Delete(ctx, acct, req.Label("agentRuntimeId"))
	if err != nil {
		return nil, err
	}
	return struct {
		Status  string `json:"status"`
		ID      string `json:"agentRuntimeId"`
		Version string `json:"agentRuntimeVersion"`
	}{runtime.StatusDeleting, rt.ID, strconv.Itoa(rt.Version)}, nil
}
