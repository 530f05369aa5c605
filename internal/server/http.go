package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/sigv4"
)

// Handler is the whole HTTP surface: health probes, then SigV4-authenticated
// AWS APIs dispatched by the service in the credential scope.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.ready)
	mux.HandleFunc("/", s.serveAPI)
	return s.withRequestLog(mux)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "store unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// withRequestLog assigns a request id, logs one line per request (never
// bodies or headers, which may hold secrets) and turns panics into 500s.
func (s *Server) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		w.Header().Set("x-amzn-RequestId", id)
		ctx := awsproto.WithRequestID(r.Context(), id)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", slog.String("request_id", id), slog.Any("panic", p))
				if rec.status == 0 {
					awsproto.WriteJSONError(rec, r.WithContext(ctx), nil, awserr.Internal(errors.New("panic")))
				}
			}
			s.log.Info("request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.EscapedPath()),
				slog.Int("status", rec.status),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// serveAPI authenticates a signed AWS request and dispatches it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			awsproto.WriteJSONError(w, r, s.log, awserr.New(awserr.CodeRequestTooLarge, http.StatusRequestEntityTooLarge,
				"Request body exceeds the limit of %d bytes.", tooBig.Limit))
			return
		}
		awsproto.WriteJSONError(w, r, s.log, awserr.CannotParse("Could not read request body."))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	scope, err := s.verify.Verify(r.Context(), r, body)
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	if scope.Region != s.cfg.Region {
		s.writeAuthError(w, r, &sigv4.Error{Kind: sigv4.FailSignature,
			Message: "Credential should be scoped to a valid region, not '" + scope.Region + "'. This endpoint serves '" + s.cfg.Region + "'."})
		return
	}
	p, err := s.keys.Principal(r.Context(), scope.AccessKeyID, scope.Region)
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	r = r.WithContext(principal.With(r.Context(), p))

	switch scope.Service {
	case "bedrock-agentcore":
		op, labels, ok := s.restAPI.Match(r)
		if !ok {
			awsproto.WriteJSONError(w, r, s.log, awserr.New(awserr.CodeUnknownOperation, http.StatusNotFound,
				"No operation matches %s %s.", r.Method, r.URL.EscapedPath()))
			return
		}
		s.restAPI.Serve(w, r, body, op, labels)
	default:
		awsproto.WriteJSONError(w, r, s.log, awserr.New(awserr.CodeUnrecognizedClient, http.StatusForbidden,
			"Service %q in the credential scope is not served by this endpoint.", scope.Service))
	}
}

// writeAuthError renders a SigV4 failure with the restJson code AWS uses.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var e *awserr.Error
	msg := "The security token included in the request is invalid."
	var se *sigv4.Error
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch sigv4.FailureOf(err) {
	case sigv4.FailMissing:
		e = awserr.New(awserr.CodeMissingAuthToken, http.StatusForbidden, "Missing Authentication Token")
	case sigv4.FailIncomplete:
		e = awserr.New(awserr.CodeIncompleteSignature, http.StatusBadRequest, "%s", msg)
	case sigv4.FailUnknownKey:
		e = awserr.New(awserr.CodeUnrecognizedClient, http.StatusForbidden, "The security token included in the request is invalid.")
	case sigv4.FailSignature, sigv4.FailExpired:
		e = awserr.New(awserr.CodeInvalidSignature, http.StatusForbidden, "%s", msg)
	default:
		if errors.Is(err, sigv4.ErrUnknownKey) {
			e = awserr.New(awserr.CodeUnrecognizedClient, http.StatusForbidden, "The security token included in the request is invalid.")
		} else {
			e = awserr.Internal(err)
		}
	}
	awsproto.WriteJSONError(w, r, s.log, e)
}
