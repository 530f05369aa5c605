package audit

import "context"

// Details are what a handler knows about the subject of a request: the
// workload, end user and provider involved. Handlers record them with Note;
// the server merges them into the request's event.
type Details struct {
	Workload string
	User     string
	Provider string
	Resource string
}

type detailsKey struct{}

// WithDetails returns a context that collects Details for one request.
func WithDetails(ctx context.Context) (context.Context, *Details) {
	d := &Details{}
	return context.WithValue(ctx, detailsKey{}, d), d
}

// Note records details of the current request; empty fields leave earlier
// notes in place. Without a collector (outside a request) it does nothing.
func Note(ctx context.Context, d Details) {
	cur, ok := ctx.Value(detailsKey{}).(*Details)
	if !ok {
		return
	}
	if d.Workload != "" {
		cur.Workload = d.Workload
	}
	if d.User != "" {
		cur.User = d.User
	}
	if d.Provider != "" {
		cur.Provider = d.Provider
	}
	if d.Resource != "" {
		cur.Resource = d.Resource
	}
}
