// Package awsproto holds the AWS wire codecs the service speaks: restJson1
// (both AgentCore planes) and awsQuery (STS, IAM), their operation tables and
// the rendering of awserr.Error in each protocol's error format.
package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

// Operation is one restJson1 operation, as in the service model's @http trait.
type Operation struct {
	Name   string
	Method string
	// Path is the URI template: literal segments and {label} segments, each
	// label matching exactly one escaped path segment.
	Path string
	// Status is the modeled success code (200, 201, 204, 202).
	Status int
	// Handle returns the output document (marshalled as JSON) or an error.
	Handle func(ctx context.Context, req *Request) (any, error)
}

// Request is what a handler sees of the HTTP request.
type Request struct {
	HTTP   *http.Request
	Body   []byte
	labels map[string]string
}

// Label returns the decoded value of a {label} path segment.
func (r *Request) Label(name string) string { return r.labels[name] }

// Decode unmarshals the JSON body into v. An empty body decodes as {}.
// Unknown members are ignored (newer SDKs may send them), wrong types and
// malformed JSON are a ValidationException with reason CannotParse.
func (r *Request) Decode(v any) error {
	body := bytes.TrimSpace(r.Body)
	if len(body) == 0 {
		return nil
	}
	if ct := r.HTTP.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasPrefix(mt, "application/x-amz-json")) {
			return awserr.CannotParse("Unsupported Content-Type %q: the request body must be application/json.", ct)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return awserr.CannotParse("Could not parse request body: member %q must be of type %s.", typeErr.Field, typeErr.Type)
		}
		return awserr.CannotParse("Could not parse request body as JSON.")
	}
	if dec.More() {
		return awserr.CannotParse("Could not parse request body: trailing data after the JSON document.")
	}
	return nil
}

type route struct {
	op       Operation
	segments []string // literal, or "{name}"
}

// Router dispatches restJson1 requests to operations by method and path.
type Router struct {
	routes []route
	log    *slog.Logger
}

// NewRouter builds a router over the given operation tables.
func NewRouter(log *slog.Logger, tables ...[]Operation) *Router {
	rt := &Router{log: log}
	for _, t := range tables {
		for _, op := range t {
			rt.routes = append(rt.routes, route{op: op, segments: splitPath(op.Path)})
		}
	}
	return rt
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Match finds the operation for a request. It routes on the escaped path so
// that a label holding an encoded ARN ("%2F") stays one segment.
func (rt *Router) Match(r *http.Request) (*Operation, map[string]string, bool) {
	segs := splitPath(r.URL.EscapedPath())
	for i := range rt.routes {
		rte := &rt.routes[i]
		if rte.op.Method != r.Method || len(rte.segments) != len(segs) {
			continue
		}
		labels, ok := matchSegments(rte.segments, segs)
		if ok {
			return &rte.op, labels, true
		}
	}
	return nil, nil, false
}

func matchSegments(tmpl, segs []string) (map[string]string, bool) {
	var labels map[string]string
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			if labels == nil {
				labels = map[string]string{}
			}
			labels[t[1:len(t)-1]] = v
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return labels, true
}

// Serve runs the matched operation and writes its response. body is the
// request body already read by the caller (for signature verification).
func (rt *Router) Serve(w http.ResponseWriter, r *http.Request, body []byte, op *Operation, labels map[string]string) {
	out, err := op.Handle(r.Context(), &Request{HTTP: r, Body: body, labels: labels})
	if err != nil {
		WriteJSONError(w, r, rt.log, err)
		return
	}
	if rsp, ok := out.(Responder); ok {
		rsp.WriteResponse(w, r)
		return
	}
	WriteJSON(w, op.Status, out)
}

// Responder is an operation output that writes its own response: a blob
// payload streamed from elsewhere (InvokeAgentRuntime) rather than a JSON
// document.
type Responder interface {
	WriteResponse(w http.ResponseWriter, r *http.Request)
}

// WriteJSON writes a restJson1 success response.
func WriteJSON(w http.ResponseWriter, status int, out any) {
	if status == http.StatusNoContent || out == nil {
		if status != http.StatusNoContent {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte("{}"))
			return
		}
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		// Outputs are our own structs; failing to marshal is a bug.
		http.Error(w, `{"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type jsonError struct {
	Message   string              `json:"message"`
	Reason    string              `json:"reason,omitempty"`
	FieldList []awserr.FieldError `json:"fieldList,omitempty"`
}

// WriteJSONError renders err in the restJson1 error format. The client sees
// only the code and public message; the cause goes to the log.
func WriteJSONError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := awserr.As(err)
	logError(r, log, e)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(jsonError{Message: e.Message, Reason: e.Reason, FieldList: e.Fields})
}

func logError(r *http.Request, log *slog.Logger, e *awserr.Error) {
	if log == nil {
		return
	}
	attrs := []any{
		slog.String("request_id", RequestID(r.Context())),
		slog.String("code", e.Code),
		slog.Int("status", e.Status),
	}
	if e.Cause != nil {
		attrs = append(attrs, slog.String("cause", e.Cause.Error()))
	}
	level := slog.LevelInfo
	if e.Status >= 500 || e.Status == 0 {
		level = slog.LevelError
	}
	log.Log(r.Context(), level, "request failed: "+e.Message, attrs...)
}

type requestIDKey struct{}

// WithRequestID stores the request id in ctx.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Operations is a convenience for listing operation names (diagnostics).
func (rt *Router) Operations() []string {
	names := make([]string, len(rt.routes))
	for i, r := range rt.routes {
		names[i] = fmt.Sprintf("%s %s %s", r.op.Name, r.op.Method, r.op.Path)
	}
	return names
}
