package awsproto

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

// ContentTypeJSON11 is the media type of awsJson1.1 requests and responses.
const ContentTypeJSON11 = "application/x-amz-json-1.1"

// JSONOperation is one awsJson1.1 operation, named by the part of the
// X-Amz-Target header after the service's target prefix.
type JSONOperation struct {
	Name string
	// Handle returns the output document (marshalled as JSON) or an error.
	Handle func(ctx context.Context, req *Request) (any, error)
}

// JSONService dispatches the awsJson1.1 operations of one service
// (POST / with X-Amz-Target: <prefix>.<Operation>).
type JSONService struct {
	prefix string
	ops    map[string]JSONOperation
	log    *slog.Logger
}

// NewJSONService builds a dispatcher; prefix is the target prefix, e.g.
// "AWSCognitoIdentityProviderService".
func NewJSONService(log *slog.Logger, prefix string, ops ...JSONOperation) *JSONService {
	s := &JSONService{prefix: prefix, ops: map[string]JSONOperation{}, log: log}
	for _, op := range ops {
		s.ops[op.Name] = op
	}
	return s
}

// Operation names the operation a request targets, or "" if it targets
// none of this service's.
func (s *JSONService) Operation(r *http.Request) string {
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), s.prefix+".")
	if _, known := s.ops[name]; !ok || !known {
		return ""
	}
	return name
}

// Targets lists the full X-Amz-Target values of the given operations.
func (s *JSONService) Targets(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = s.prefix + "." + n
	}
	return out
}

// Serve runs the targeted operation on the already-read body and writes the
// response or error.
func (s *JSONService) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		s.WriteError(w, r, awserr.New(awserr.CodeUnknownOperation, http.StatusBadRequest, "awsJson operations are POST requests."))
		return
	}
	name := s.Operation(r)
	if name == "" {
		s.WriteError(w, r, awserr.New(awserr.CodeUnknownOperation, http.StatusBadRequest,
			"Unknown operation %q.", r.Header.Get("X-Amz-Target")))
		return
	}
	out, err := s.ops[name].Handle(r.Context(), &Request{HTTP: r, Body: body})
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	b := []byte("{}")
	if out != nil {
		if b, err = json.Marshal(out); err != nil {
			s.WriteError(w, r, awserr.Internal(err))
			return
		}
	}
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// WriteError renders err in the awsJson1.1 error format: the code in both
// X-Amzn-ErrorType and "__type" (the SDKs read either), and "message".
func (s *JSONService) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	logError(r, s.log, e)
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Code, e.Message})
}
