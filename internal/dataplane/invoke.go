package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/runtime"
)

// MaxInvokePayload is the InvokeAgentRuntime payload limit (100 MB).
const MaxInvokePayload = 100 << 20

// InvokeHandlers serve InvokeAgentRuntime, SigV4-signed (an operation) or
// with a bearer JWT (a public route: such requests carry no signature).
type InvokeHandlers struct {
	Invoker *runtime.Invoker
	// DefaultAccount is the account of a bearer invoke that names its
	// runtime by id or name and sends no accountId.
	DefaultAccount string
	Log            *slog.Logger
}

// Operations is the SigV4 InvokeAgentRuntime operation.
func (h *InvokeHandlers) Operations() []awsproto.Operation {
	return []awsproto.Operation{{Name: "InvokeAgentRuntime", Method: http.MethodPost,
		Path: "/runtimes/{agentRuntimeArn}/invocations", Status: http.StatusOK, Handle: h.invokeSigV4}}
}

// BearerPattern is the public route of bearer-token invokes.
const BearerPattern = "POST /runtimes/{agentRuntimeArn}/invocations"

type invokeResponder struct {
	h  *InvokeHandlers
	in runtime.Invocation
}

func (ir invokeResponder) WriteResponse(w http.ResponseWriter, r *http.Request) {
	if err := ir.h.Invoker.Invoke(r.Context(), ir.in, w); err != nil {
		ir.h.writeErr(w, r, err)
	}
}

func (h *InvokeHandlers) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the caller went away
	}
	awsproto.WriteJSONError(w, r, h.Log, err)
}

func (h *InvokeHandlers) invokeSigV4(ctx context.Context, req *awsproto.Request) (any, error) {
	p, ok := principal.From(ctx)
	if !ok || p.AccountID == "" {
		return nil, awserr.New(awserr.CodeMissingAuthToken, http.StatusForbidden, "Missing Authentication Token")
	}
	in := invocation(req.HTTP, req.Label("agentRuntimeArn"))
	in.Account, in.SigV4 = p.AccountID, true
	in.UserID = req.HTTP.Header.Get(runtime.HeaderUserID)
	in.Body = strings.NewReader(string(req.Body))
	return invokeResponder{h: h, in: in}, nil
}

// ServeBearer handles an unsigned invoke: the runtime decides whether the
// bearer token (or its absence) is acceptable.
func (h *InvokeHandlers) ServeBearer(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("agentRuntimeArn")
	in := invocation(r, ref)
	in.Account = h.DefaultAccount
	if a, err := arn.Parse(ref); err == nil {
		in.Account = a.Account
	} else if acct := r.URL.Query().Get("accountId"); acct != "" {
		in.Account = acct
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			h.writeErr(w, r, awserr.AccessDenied("The Authorization header must be \"Bearer <token>\" or a SigV4 signature."))
			return
		}
		in.Bearer = strings.TrimSpace(tok)
	}
	in.Body = http.MaxBytesReader(w, r.Body, MaxInvokePayload)
	if err := h.Invoker.Invoke(r.Context(), in, w); err != nil {
		h.writeErr(w, r, err)
	}
}

func invocation(r *http.Request, ref string) runtime.Invocation {
	return runtime.Invocation{
		Runtime:   ref,
		SessionID: r.Header.Get(runtime.HeaderSessionID),
		RequestID: awsproto.RequestID(r.Context()),
		Header:    r.Header,
	}
}
