package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/sdk/identity"
)

func quietApp() *App {
	return NewApp(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func post(t *testing.T, h http.Handler, body string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestInvocationContextCarriesTheRuntimeHeaders(t *testing.T) {
	app := quietApp()
	var got Invocation
	var prompt string
	app.Entrypoint(func(ctx context.Context, req Request) (any, error) {
		got = Invocation{SessionID: SessionID(ctx), RequestID: RequestID(ctx), WorkloadAccessToken: WorkloadAccessToken(ctx),
			CallbackURL: CallbackURL(ctx), Headers: Headers(ctx)}
		var in struct{ Prompt string }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		prompt = in.Prompt
		return map[string]string{"response": "ok"}, nil
	})
	rec := post(t, app.Handler(), `{"prompt":"hi"}`, map[string]string{
		HeaderSessionID: "sess-0123456789012345678901234567890", HeaderRequestID: "req-1",
		HeaderWAT: "new-wat", HeaderWorkloadAccessToken: "old-wat", HeaderCallbackURL: "http://localhost:8081/oauth2/callback",
		"Authorization": "Bearer user-jwt", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant": "acme",
		"X-Amzn-Trace-Id": "trace", "X-Amz-Security-Token": "secret", "Cookie": "c=1",
	})
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"response":"ok"}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("response %d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Type"))
	}
	if got.SessionID != "sess-0123456789012345678901234567890" || got.RequestID != "req-1" || got.WorkloadAccessToken != "new-wat" ||
		got.CallbackURL != "http://localhost:8081/oauth2/callback" || prompt != "hi" {
		t.Errorf("invocation = %+v, prompt %q", got, prompt)
	}
	if len(got.Headers) != 2 || got.Headers.Get("Authorization") != "Bearer user-jwt" ||
		got.Headers.Get("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant") != "acme" {
		t.Errorf("forwarded headers = %v", got.Headers)
	}

	// The older header name, and a generated request id.
	post(t, app.Handler(), `{}`, map[string]string{HeaderWorkloadAccessToken: "old-wat"})
	if got.WorkloadAccessToken != "old-wat" {
		t.Errorf("WorkloadAccessToken header not used: %+v", got)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.RequestID) {
		t.Errorf("generated request id %q is not a v4 UUID", got.RequestID)
	}
}

// The identity wrappers find the token the App put on the context.
func TestWrappedToolSeesTheInvocationToken(t *testing.T) {
	app := quietApp()
	tool := identity.RequiresWorkloadAccessToken(func(ctx context.Context, wat string) (string, error) { return "tool saw " + wat, nil })
	app.Entrypoint(func(ctx context.Context, req Request) (any, error) {
		out := make(chan string, 1)
		go func() { s, _ := tool(ctx); out <- s }() // another goroutine: ctx carries it
		return <-out, nil
	})
	rec := post(t, app.Handler(), `{}`, map[string]string{HeaderWAT: "wat-9"})
	if strings.TrimSpace(rec.Body.String()) != `"tool saw wat-9"` {
		t.Fatalf("body = %q", rec.Body)
	}
}

func TestInvocationResultsAndErrors(t *testing.T) {
	cases := []struct {
		name        string
		body        string
		result      any
		err         error
		status      int
		contentType string
		want        string
	}{
		{"json", `{}`, []int{1, 2}, nil, 200, "application/json", "[1,2]\n"},
		{"text", `{}`, Text("plain words"), nil, 200, "text/plain; charset=utf-8", "plain words"},
		{"nil", ``, nil, nil, 200, "application/json", "null\n"},
		{"handler-error", `{}`, nil, errors.New("model unavailable"), 500, "application/json", `{"error":"model unavailable"}` + "\n"},
		{"bad-json", `{"prompt":`, nil, nil, 400, "application/json", `{"error":"payload is not valid JSON"}` + "\n"},
		{"unencodable", `{}`, func() {}, nil, 500, "application/json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := quietApp()
			app.Entrypoint(func(context.Context, Request) (any, error) { return tc.result, tc.err })
			rec := post(t, app.Handler(), tc.body, nil)
			if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("status %d type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			if tc.want != "" && rec.Body.String() != tc.want {
				t.Errorf("body %q, want %q", rec.Body, tc.want)
			}
		})
	}
	if rec := post(t, quietApp().Handler(), `{}`, nil); rec.Code != 500 {
		t.Errorf("no entrypoint: %d", rec.Code)
	}
}

func readEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			events = append(events, strings.TrimPrefix(line, "data: "))
		}
	}
	return events
}

func TestStreamingResults(t *testing.T) {
	seq2 := iter.Seq2[any, error](func(yield func(any, error) bool) {
		if yield(map[string]string{"delta": "Hel"}, nil) && yield("lo", nil) {
			yield(nil, errors.New("model stopped"))
		}
	})
	seq := iter.Seq[any](func(yield func(any) bool) { _ = yield(1) && yield(2) })
	ch := make(chan any, 2)
	ch <- "a"
	ch <- "b"
	close(ch)
	cases := map[string]struct {
		result any
		want   []string
	}{
		"seq2":    {seq2, []string{`{"delta":"Hel"}`, `"lo"`, `{"error":"model stopped"}`}},
		"seq":     {seq, []string{"1", "2"}},
		"channel": {ch, []string{`"a"`, `"b"`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			app := quietApp()
			app.Entrypoint(func(context.Context, Request) (any, error) { return tc.result, nil })
			rec := post(t, app.Handler(), `{}`, nil)
			if rec.Header().Get("Content-Type") != "text/event-stream" {
				t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
			}
			if got := readEvents(t, rec.Body); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPingReportsBusyWhileTasksRun(t *testing.T) {
	app := quietApp()
	ping := func() map[string]any {
		rec := httptest.NewRecorder()
		app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ping", nil))
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
			t.Fatalf("ping: %d %q", rec.Code, rec.Body)
		}
		return out
	}
	if s := ping()["status"]; s != "Healthy" {
		t.Fatalf("idle status %v", s)
	}
	done1, done2 := app.TrackTask(), app.TrackTask()
	if s := ping()["status"]; s != "HealthyBusy" {
		t.Fatalf("busy status %v", s)
	}
	done1()
	done1() // idempotent
	if s := ping()["status"]; s != "HealthyBusy" {
		t.Fatalf("one task left: %v", s)
	}
	done2()
	out := ping()
	if out["status"] != "Healthy" || out["time_of_last_update"].(float64) < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("after tasks: %v", out)
	}

	custom := NewApp(Options{Ping: func(context.Context) Status { return HealthyBusy }})
	rec := httptest.NewRecorder()
	custom.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ping", nil))
	if !strings.Contains(rec.Body.String(), `"HealthyBusy"`) {
		t.Errorf("custom ping: %s", rec.Body)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	app := quietApp()
	started := make(chan struct{})
	release := make(chan struct{})
	app.Entrypoint(func(ctx context.Context, req Request) (any, error) {
		close(started)
		<-release
		return "finished", ctx.Err()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()

	type result struct {
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/invocations", "application/json", strings.NewReader(`{}`))
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{string(b), err}
	}()
	<-started
	stop() // shutdown begins with an invocation in flight
	time.Sleep(20 * time.Millisecond)
	close(release)
	if r := <-resc; r.err != nil || strings.TrimSpace(r.body) != `"finished"` {
		t.Fatalf("in-flight invocation: %q, %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestBindAddress(t *testing.T) {
	t.Setenv("DOCKER_CONTAINER", "")
	if a := NewApp(Options{}).Addr(); a != "127.0.0.1:8080" && !inContainer() {
		t.Errorf("default addr %q", a)
	}
	t.Setenv("DOCKER_CONTAINER", "1")
	if a := NewApp(Options{}).Addr(); a != "0.0.0.0:8080" {
		t.Errorf("container addr %q", a)
	}
	if a := NewApp(Options{Host: "::1", Port: 9000}).Addr(); a != "[::1]:9000" {
		t.Errorf("explicit addr %q", a)
	}
}
