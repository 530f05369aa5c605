package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/sigv4"
	"github.com/agentcore-identity/agentcore/internal/tracing"
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
	if s.cfg.Metrics {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
	mux.HandleFunc("/", s.route)
	return tracing.Handler(s.withRequestLog(mux), s.tracer)
}

// route sends unauthenticated public routes to their handlers and
// everything else through SigV4.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	// Some awsJson operations are public in AWS (Cognito's InitiateAuth):
	// they carry no SigV4 and authenticate with their body.
	if js, ok := s.publicJSON[r.Header.Get("X-Amz-Target")]; ok && r.Method == http.MethodPost {
		s.servePublicJSON(w, r, js)
		return
	}
	// A SigV4-signed request always takes the SigV4 way, even on a path a
	// public route also serves: InvokeAgentRuntime is a bearer-token
	// public route and a signed operation on the same path.
	signed := strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-") || r.URL.Query().Has("X-Amz-Signature")
	if _, pattern := s.public.Handler(r); pattern != "" && !signed {
		// Through the mux, not the returned handler: only ServeHTTP
		// fills in the pattern's path values ({id}) on the request.
		s.public.ServeHTTP(w, r)
		return
	}
	s.serveAPI(w, r)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "draining\n")
		return
	}
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "store unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// requestInfo is filled in while a request is dispatched, for the access
// log and metrics.
type requestInfo struct {
	service   string
	operation string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
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

// Unwrap lets http.ResponseController reach the connection (flushing
// streamed responses).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

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
		// x-amzn-RequestId, spelled as Set would canonicalize it: already
		// canonical, the key costs no allocation.
		w.Header().Set("X-Amzn-Requestid", id)
		info := &requestInfo{}
		ctx := context.WithValue(awsproto.WithRequestID(r.Context(), id), requestInfoKey{}, info)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", slog.String("request_id", id), slog.Any("panic", p))
				if rec.status == 0 {
					awsproto.WriteJSONError(rec, r.WithContext(ctx), nil, awserr.Internal(errors.New("panic")))
				}
			}
			elapsed := time.Since(start)
			if info.operation != "" {
				s.metrics.ObserveRequest(info.service, info.operation, rec.status, elapsed)
			}
			tracing.NameRequest(ctx, info.service, info.operation)
			// LogAttrs: Info would box each attribute into an interface.
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.EscapedPath()),
				slog.String("operation", info.operation),
				slog.Int("status", rec.status),
				slog.Duration("duration", elapsed),
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
			s.writeError(w, r, awserr.New(awserr.CodeRequestTooLarge, http.StatusRequestEntityTooLarge,
				"Request body exceeds the limit of %d bytes.", tooBig.Limit))
			return
		}
		s.writeError(w, r, awserr.CannotParse("Could not read request body."))
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
	info := infoFrom(r.Context())
	info.service = scope.Service

	if scope.Service == restService {
		op, labels, ok := s.restAPI.Match(r)
		if !ok {
			awsproto.WriteJSONError(w, r, s.log, awserr.New(awserr.CodeUnknownOperation, http.StatusNotFound,
				"No operation matches %s %s.", r.Method, r.URL.EscapedPath()))
			return
		}
		info.operation = op.Name
		// Throttled requests are counted in metrics, not audited: under a
		// flood, refusals must stay cheap.
		if err := s.throttle(r.Context(), scope.Service, op.Name, p.AccountID); err != nil {
			awsproto.WriteJSONError(w, r, s.log, err)
			return
		}
		s.serveAudited(w, r, body, func(w http.ResponseWriter, r *http.Request) {
			s.restAPI.Serve(w, r, body, op, labels)
		}, s.jsonError)
		return
	}
	if qs, ok := s.query[scope.Service]; ok {
		info.operation = queryAction(r, body)
		if err := s.throttle(r.Context(), scope.Service, info.operation, p.AccountID); err != nil {
			qs.WriteError(w, r, err)
			return
		}
		s.serveAudited(w, r, body, func(w http.ResponseWriter, r *http.Request) {
			qs.Serve(w, r, body)
		}, qs.WriteError)
		return
	}
	if js, ok := s.json[scope.Service]; ok {
		info.operation = js.Operation(r)
		s.serveAudited(w, r, body, func(w http.ResponseWriter, r *http.Request) {
			js.Serve(w, r, body)
		}, js.WriteError)
		return
	}
	awsproto.WriteJSONError(w, r, s.log, awserr.New(awserr.CodeUnrecognizedClient, http.StatusForbidden,
		"Service %q in the credential scope is not served by this endpoint.", scope.Service))
}

func (s *Server) jsonError(w http.ResponseWriter, r *http.Request, err error) {
	awsproto.WriteJSONError(w, r, s.log, err)
}

// restService is the SigV4 signing name of both AgentCore planes.
const restService = "bedrock-agentcore"

// writeError renders err in the protocol of the service the request claims
// to be for: awsQuery XML for sts and iam, restJson otherwise.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if qs, ok := s.query[sigv4.ClaimedService(r)]; ok {
		qs.WriteError(w, r, err)
		return
	}
	if js, ok := s.json[sigv4.ClaimedService(r)]; ok {
		js.WriteError(w, r, err)
		return
	}
	awsproto.WriteJSONError(w, r, s.log, err)
}

// authCodes are the error codes of each SigV4 failure, in the restJson
// (AWS JSON services) and awsQuery (STS, IAM) spellings.
var authCodes = map[sigv4.Failure][2]string{
	sigv4.FailMissing:    {awserr.CodeMissingAuthToken, "MissingAuthenticationToken"},
	sigv4.FailIncomplete: {awserr.CodeIncompleteSignature, "IncompleteSignature"},
	sigv4.FailUnknownKey: {awserr.CodeUnrecognizedClient, "InvalidClientTokenId"},
	sigv4.FailSignature:  {awserr.CodeInvalidSignature, "SignatureDoesNotMatch"},
	sigv4.FailExpired:    {awserr.CodeInvalidSignature, "SignatureDoesNotMatch"},
}

// writeAuthError renders a SigV4 failure with the code AWS uses for the
// protocol of the claimed service.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	kind := sigv4.FailureOf(err)
	if kind == 0 && errors.Is(err, sigv4.ErrUnknownKey) {
		kind = sigv4.FailUnknownKey
	}
	codes, ok := authCodes[kind]
	if !ok {
		s.writeError(w, r, awserr.Internal(err))
		return
	}
	msg := "The security token included in the request is invalid."
	var se *sigv4.Error
	if errors.As(err, &se) && kind != sigv4.FailUnknownKey {
		msg = se.Message
	}
	if kind == sigv4.FailMissing {
		msg = "Missing Authentication Token"
	}
	status := http.StatusForbidden
	if kind == sigv4.FailIncomplete {
		status = http.StatusBadRequest
	}
	code := codes[0]
	if _, query := s.query[sigv4.ClaimedService(r)]; query {
		code = codes[1]
	}
	s.writeError(w, r, awserr.New(code, status, "%s", msg))
}
