// Package reqctx carries per-invocation values (session, request id,
// workload access token, callback URL, forwarded headers) on a
// context.Context. It is shared by the runtime package, which fills it from
// the invocation headers, and the identity package, which reads the
// workload access token and callback URL from it. Values are immutable: every
// setter returns a new context holding a modified copy.
package reqctx

import (
	"context"
	"net/http"
)

// Values are what an agent runtime delivers with one invocation.
type Values struct {
	SessionID           string
	RequestID           string
	WorkloadAccessToken string
	CallbackURL         string
	Headers             http.Header
}

type key struct{}

// With returns ctx carrying v.
func With(ctx context.Context, v Values) context.Context {
	v.Headers = v.Headers.Clone()
	return context.WithValue(ctx, key{}, v)
}

// From returns the values on ctx (zero if none).
func From(ctx context.Context) Values {
	v, _ := ctx.Value(key{}).(Values)
	return v
}

// Update returns ctx with the values changed by fn (on a copy).
func Update(ctx context.Context, fn func(*Values)) context.Context {
	v := From(ctx)
	v.Headers = v.Headers.Clone()
	fn(&v)
	return context.WithValue(ctx, key{}, v)
}
