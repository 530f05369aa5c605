package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/inbound"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// Headers of the invoke contract.
const (
	HeaderSessionID   = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	HeaderRequestID   = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
	HeaderUserID      = "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
	HeaderWAT         = "X-Amz-Bedrock-AgentCore-Identity-WAT"
	HeaderWATLegacy   = "WorkloadAccessToken"
	HeaderCallbackURL = "OAuth2CallbackUrl"
	customPrefix      = "x-amzn-bedrock-agentcore-runtime-custom-"
)

// CodeRuntimeClientError is the data plane's error for a failing agent.
const CodeRuntimeClientError = "RuntimeClientError"

// passThrough are request headers always forwarded: tracing and MCP.
var passThrough = []string{"Content-Type", "Accept", "X-Amzn-Trace-Id", "traceparent", "tracestate", "baggage",
	"Mcp-Session-Id", "Mcp-Protocol-Version"}

// Invoker forwards invocations to local agents.
type Invoker struct {
	Runtimes *Service
	Tokens   *wat.Service
	JWT      inbound.JWTValidator
	Bindings *Bindings
	Client   *http.Client
	Log      *slog.Logger
}

// Invocation is one InvokeAgentRuntime call, authenticated either way.
type Invocation struct {
	Account   string
	Runtime   string // ARN, id or name
	Bearer    string // the JWT of a bearer invoke
	SigV4     bool
	UserID    string // X-Amzn-Bedrock-AgentCore-Runtime-User-Id (SigV4 only)
	SessionID string
	RequestID string
	Header    http.Header
	Body      io.Reader
}

// Invoke checks in, resolves the runtime, authenticates the caller with the
// runtime's inbound auth, mints the caller's workload access token and
// streams the agent's answer to w. An error means nothing was written.
func (iv *Invoker) Invoke(ctx context.Context, in Invocation, w http.ResponseWriter) error {
	if in.SessionID == "" {
		return awserr.Field(awserr.FieldError{Name: "runtimeSessionId",
			Message: "The " + HeaderSessionID + " header is required (33-256 characters)"})
	}
	if n := len(in.SessionID); n < 33 || n > 256 {
		return awserr.Field(awserr.FieldError{Name: "runtimeSessionId",
			Message: fmt.Sprintf("Member must have length between 33 and 256 (got %d)", n)})
	}
	if in.UserID != "" && len(in.UserID) > 1024 {
		return awserr.Field(awserr.FieldError{Name: "runtimeUserId", Message: "Member must have length less than or equal to 1024"})
	}
	rt, err := iv.Runtimes.Resolve(ctx, in.Account, in.Runtime)
	if err != nil {
		return err
	}
	claims, artifact, err := iv.authenticate(ctx, rt, in)
	if err != nil {
		return err
	}
	var token string
	if claims != nil {
		if token, _, err = iv.Tokens.Mint(ctx, *claims); err != nil {
			return awserr.Internal(err)
		}
		if rt.Binding && iv.Bindings != nil {
			if err := iv.Bindings.Record(ctx, rt, claims.Source, artifact); err != nil {
				return awserr.Internal(err)
			}
		}
	}
	return iv.forward(ctx, rt, in, token, w)
}

// authenticate applies the runtime's inbound auth: a customJWTAuthorizer
// runtime takes bearer JWTs only, others SigV4 only (as AgentCore). It
// returns the WAT claims to mint, nil for a SigV4 caller without a user id.
func (iv *Invoker) authenticate(ctx context.Context, rt Runtime, in Invocation) (*wat.Claims, string, error) {
	if rt.Authorizer != nil {
		if in.SigV4 {
			return nil, "", awserr.AccessDenied("Authorization method mismatch. The agent runtime %s is configured for JWT bearer token authorization (customJWTAuthorizer): send Authorization: Bearer <token> instead of a SigV4 signature.", rt.ID)
		}
		if in.Bearer == "" {
			return nil, "", awserr.AccessDenied("The agent runtime %s requires Authorization: Bearer <token>.", rt.ID)
		}
		caller, err := iv.JWT.Validate(ctx, *rt.Authorizer, in.Bearer)
		if errors.Is(err, inbound.ErrRejected) {
			return nil, "", awserr.AccessDenied("The bearer token was rejected: %s", strings.TrimPrefix(err.Error(), "inbound: token rejected: "))
		}
		if err != nil {
			return nil, "", awserr.Internal(err)
		}
		return &wat.Claims{Account: rt.Account, Workload: rt.Workload, UserID: caller.UserID(),
			Source: wat.SourceJWT, ArtifactHash: wat.HashArtifact(in.Bearer)}, in.Bearer, nil
	}
	if !in.SigV4 && in.Bearer == "" {
		return nil, "", awserr.New(awserr.CodeMissingAuthToken, http.StatusForbidden, "Missing Authentication Token")
	}
	if !in.SigV4 {
		return nil, "", awserr.AccessDenied("Authorization method mismatch. The agent runtime %s has no JWT authorizer, so it accepts SigV4-signed requests only.", rt.ID)
	}
	if in.UserID == "" {
		return nil, "", nil // as AgentCore: no user, no workload access token
	}
	return &wat.Claims{Account: rt.Account, Workload: rt.Workload, UserID: in.UserID,
		Source: wat.SourceUserID, ArtifactHash: wat.HashArtifact(in.UserID)}, in.UserID, nil
}

func (iv *Invoker) forward(ctx context.Context, rt Runtime, in Invocation, token string, w http.ResponseWriter) error {
	if rt.Local == nil {
		return awserr.New(CodeRuntimeClientError, http.StatusFailedDependency, "%s", NotRunningMessage(rt))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+hostPort(rt.Local.Port)+"/invocations", in.Body)
	if err != nil {
		return awserr.Internal(err)
	}
	for _, h := range passThrough {
		if v := in.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	for name, vals := range in.Header {
		if allowed(rt.HeaderAllowlist, name) && (!strings.EqualFold(name, "Authorization") || !in.SigV4) {
			req.Header[name] = vals
		}
	}
	req.Header.Set(HeaderSessionID, in.SessionID)
	req.Header.Set(HeaderRequestID, in.RequestID)
	if token != "" {
		req.Header.Set(HeaderWAT, token)
		req.Header.Set(HeaderWATLegacy, token)
	}
	if rt.Binding {
		req.Header.Set(HeaderCallbackURL, iv.Runtimes.CallbackURLFor(rt))
	}
	client := iv.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return awserr.New(CodeRuntimeClientError, http.StatusFailedDependency, "%s", NotRunningMessage(rt))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return awserr.New(CodeRuntimeClientError, http.StatusFailedDependency,
			"The agent of runtime %s answered HTTP %d: %s", rt.ID, resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.Header().Set(HeaderSessionID, in.SessionID)
	w.WriteHeader(resp.StatusCode)
	stream(w, resp.Body, iv.Log)
	return nil
}

// stream copies the agent's body, flushing after every read so that
// server-sent events reach the caller as the agent writes them.
func stream(w http.ResponseWriter, body io.Reader, log *slog.Logger) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && log != nil {
				log.Warn("agent response ended early", slog.String("error", err.Error()))
			}
			return
		}
	}
}

// allowed reports whether a header name is in the allowlist (names are
// case-insensitive; "X-Amzn-Bedrock-AgentCore-Runtime-Custom-*" allows the
// whole custom prefix).
func allowed(list []string, name string) bool {
	for _, a := range list {
		if strings.EqualFold(a, name) {
			return true
		}
		if p, ok := strings.CutSuffix(strings.ToLower(a), "*"); ok && p == customPrefix && strings.HasPrefix(strings.ToLower(name), p) {
			return true
		}
	}
	return false
}

// bindingTTL bounds how long a user artifact is kept for the local
// return-URL handler: the life of the workload access token it came with.
const bindingTTL = wat.DefaultTTL + 10*time.Minute
