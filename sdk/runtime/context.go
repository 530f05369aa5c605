package runtime

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"

	"github.com/agentcore-identity/agentcore/sdk/internal/reqctx"
)

// Headers the agent runtime sends with each invocation.
const (
	HeaderSessionID = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	HeaderRequestID = "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
	// HeaderWAT carries the workload access token (newer runtimes);
	// HeaderWorkloadAccessToken is the older name, used when HeaderWAT is
	// absent.
	HeaderWAT                 = "X-Amz-Bedrock-AgentCore-Identity-WAT"
	HeaderWorkloadAccessToken = "WorkloadAccessToken"
	// HeaderCallbackURL is the OAuth2 return URL for 3LO flows.
	HeaderCallbackURL = "OAuth2CallbackUrl"
	// CustomHeaderPrefix starts the custom headers a runtime may forward
	// (with Authorization) when they are on its request header allowlist.
	CustomHeaderPrefix = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"
)

// Invocation is what the runtime delivers with one invocation, besides the
// payload. The App puts it on each request's context; NewContext does the
// same for tests and for code driving handlers some other way.
type Invocation struct {
	SessionID           string
	RequestID           string
	WorkloadAccessToken string
	CallbackURL         string
	// Headers are the forwarded headers: Authorization and the
	// X-Amzn-Bedrock-AgentCore-Runtime-Custom-* headers.
	Headers http.Header
}

// NewContext returns parent carrying inv. The identity package's wrappers
// read the workload access token and callback URL from it.
func NewContext(parent context.Context, inv Invocation) context.Context {
	return reqctx.With(parent, reqctx.Values(inv))
}

// SessionID returns the invocation's runtime session id ("" outside one).
func SessionID(ctx context.Context) string { return reqctx.From(ctx).SessionID }

// RequestID returns the invocation's request id (generated when the
// runtime sent none).
func RequestID(ctx context.Context) string { return reqctx.From(ctx).RequestID }

// WorkloadAccessToken returns the workload access token the runtime
// delivered ("" if none: for example a SigV4 invocation without a user id).
func WorkloadAccessToken(ctx context.Context) string { return reqctx.From(ctx).WorkloadAccessToken }

// CallbackURL returns the OAuth2 callback (return) URL the runtime
// delivered, if any.
func CallbackURL(ctx context.Context) string { return reqctx.From(ctx).CallbackURL }

// Headers returns a copy of the forwarded headers (Authorization and
// X-Amzn-Bedrock-AgentCore-Runtime-Custom-*), never nil.
func Headers(ctx context.Context) http.Header {
	h := reqctx.From(ctx).Headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	return h
}

// InvocationFromRequest reads the runtime headers of r. A missing request id
// is generated (a random UUID).
func InvocationFromRequest(r *http.Request) Invocation {
	inv := Invocation{
		SessionID:           r.Header.Get(HeaderSessionID),
		RequestID:           r.Header.Get(HeaderRequestID),
		WorkloadAccessToken: r.Header.Get(HeaderWAT),
		CallbackURL:         r.Header.Get(HeaderCallbackURL),
		Headers:             http.Header{},
	}
	if inv.WorkloadAccessToken == "" {
		inv.WorkloadAccessToken = r.Header.Get(HeaderWorkloadAccessToken)
	}
	if inv.RequestID == "" {
		inv.RequestID = newUUID()
	}
	prefix := strings.ToLower(CustomHeaderPrefix)
	for name, vals := range r.Header {
		lower := strings.ToLower(name)
		if lower == "authorization" || (strings.HasPrefix(lower, prefix) && len(lower) > len(prefix)) {
			inv.Headers[name] = append([]string(nil), vals...)
		}
	}
	return inv
}

// Middleware puts the invocation values of each request on its context, for
// agents served by their own HTTP stack instead of App (the plain-server
// case where the Python SDK's context variables stay empty).
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), InvocationFromRequest(r))))
	})
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
