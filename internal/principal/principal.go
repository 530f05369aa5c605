// Package principal describes who is calling, once a request has been
// authenticated, and carries it through the request context.
package principal

import "context"

// Principal is an authenticated AWS-style caller.
type Principal struct {
	// AccountID is the 12-digit account the caller belongs to.
	AccountID string
	// ARN is the caller's principal ARN (e.g. arn:aws:iam::123456789012:user/admin).
	ARN string
	// UserID is the unique id GetCallerIdentity reports.
	UserID string
	// AccessKeyID is the key that signed the request.
	AccessKeyID string
	// Admin callers may do anything in their account.
	Admin bool
	// Region is the region from the request's credential scope.
	Region string
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, if any.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
