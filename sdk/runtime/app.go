package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPort is the port the agent runtime contract uses.
const DefaultPort = 8080

// Status is a health status reported by GET /ping.
type Status string

// Health statuses.
const (
	Healthy     Status = "Healthy"
	HealthyBusy Status = "HealthyBusy"
)

// Options configure an App.
type Options struct {
	// Host to bind: default 127.0.0.1, or 0.0.0.0 inside a container
	// (DOCKER_CONTAINER set or /.dockerenv present), as the Python SDK.
	Host string
	// Port to bind (default DefaultPort).
	Port int
	// Logger receives one line per invocation (default slog.Default()).
	Logger *slog.Logger
	// Ping, when set, decides the /ping status instead of the task count.
	Ping func(ctx context.Context) Status
	// ShutdownTimeout bounds the graceful shutdown when Run's context ends
	// (default 15s).
	ShutdownTimeout time.Duration
	// MaxPayloadBytes bounds request bodies (default 100 MiB, the runtime
	// limit).
	MaxPayloadBytes int64
}

// Request is one invocation's payload.
type Request struct {
	// Payload is the JSON body as sent.
	Payload json.RawMessage
}

// Decode unmarshals the payload into v (no-op for an empty body).
func (r Request) Decode(v any) error {
	if len(r.Payload) == 0 {
		return nil
	}
	return json.Unmarshal(r.Payload, v)
}

// Handler handles one invocation. The context carries the invocation
// values (SessionID, RequestID, WorkloadAccessToken, CallbackURL, Headers)
// and ends when the caller goes away.
//
// The result is written as JSON, except that a Text is written as
// text/plain, and an iter.Seq[any], an iter.Seq2[any, error] or a chan any
// is streamed as server-sent events, one "data: <json>" event per element.
// An error is answered 500 {"error": "<message>"}.
type Handler func(ctx context.Context, req Request) (any, error)

// Text is a result written verbatim as text/plain.
type Text string

// App is an agent served with the AgentCore runtime contract: POST
// /invocations and GET /ping.
type App struct {
	opts    Options
	handler atomic.Pointer[Handler]

	tasks      atomic.Int64
	mu         sync.Mutex
	lastStatus Status
	lastChange time.Time
}

// NewApp returns an App. Register the handler with Entrypoint, then Run.
func NewApp(opts Options) *App {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
		if inContainer() {
			opts.Host = "0.0.0.0"
		}
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	if opts.MaxPayloadBytes == 0 {
		opts.MaxPayloadBytes = 100 << 20
	}
	return &App{opts: opts, lastStatus: Healthy, lastChange: time.Now()}
}

func inContainer() bool {
	if os.Getenv("DOCKER_CONTAINER") != "" {
		return true
	}
	_, err := os.Stat("/.dockerenv")
	return err == nil
}

// Entrypoint registers the invocation handler (replacing any earlier one).
func (a *App) Entrypoint(h Handler) { a.handler.Store(&h) }

// Addr is the address Run listens on.
func (a *App) Addr() string { return net.JoinHostPort(a.opts.Host, strconv.Itoa(a.opts.Port)) }

// Run listens on Addr and serves until ctx ends, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.Addr())
	if err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully. In-flight
// invocations keep their context values but are not cancelled by ctx.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	base := context.WithoutCancel(ctx)
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("runtime: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(base, a.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("runtime: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("runtime: %w", err)
	}
	return nil
}

// Handler returns the HTTP handler, to mount the app elsewhere or test it
// with httptest.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /invocations", Middleware(http.HandlerFunc(a.invoke)))
	mux.HandleFunc("GET /ping", a.ping)
	return mux
}

// TrackTask marks background work in progress: /ping answers HealthyBusy
// until every returned done function has been called, so the runtime does
// not reclaim a session that is still working.
func (a *App) TrackTask() (done func()) {
	a.tasks.Add(1)
	var once sync.Once
	return func() { once.Do(func() { a.tasks.Add(-1) }) }
}

func (a *App) status(ctx context.Context) (Status, time.Time) {
	s := Healthy
	switch {
	case a.opts.Ping != nil:
		s = a.opts.Ping(ctx)
	case a.tasks.Load() > 0:
		s = HealthyBusy
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s != a.lastStatus {
		a.lastStatus, a.lastChange = s, time.Now()
	}
	return s, a.lastChange
}

func (a *App) ping(w http.ResponseWriter, r *http.Request) {
	s, since := a.status(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"status": s, "time_of_last_update": since.Unix()})
}

func (a *App) invoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := a.opts.Logger.With("request_id", RequestID(ctx), "session_id", SessionID(ctx))
	hp := a.handler.Load()
	if hp == nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "no entrypoint registered"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxPayloadBytes))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "payload too large or unreadable: " + err.Error()})
		return
	}
	if len(body) > 0 && !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "payload is not valid JSON"})
		return
	}
	start := time.Now()
	res, err := (*hp)(ctx, Request{Payload: body})
	if err != nil {
		log.ErrorContext(ctx, "invocation failed", "error", err, "duration", time.Since(start))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if stream, ok := asStream(ctx, res); ok {
		log.InfoContext(ctx, "invocation streaming")
		writeSSE(ctx, w, stream)
		return
	}
	if t, ok := res.(Text); ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, string(t))
	} else {
		writeJSON(w, http.StatusOK, res)
	}
	log.InfoContext(ctx, "invocation done", "duration", time.Since(start))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "result is not JSON-encodable: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
