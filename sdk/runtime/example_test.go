package runtime_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"

	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

// An agent whose tool reads a stored API key. The runtime delivers the
// user's workload access token with each invocation; ctx carries it to the
// wrapped tool.
func ExampleApp() {
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	weather := identity.RequiresAPIKeyArg(client, "weather-api",
		func(ctx context.Context, apiKey string, city string) (string, error) {
			return "forecast for " + city, nil // call the weather API with apiKey
		})

	app := runtime.NewApp(runtime.Options{})
	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		forecast, err := weather(ctx, in.Prompt)
		if err != nil {
			return nil, err
		}
		return map[string]string{"response": forecast, "session": runtime.SessionID(ctx)}, nil
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := app.Run(ctx); err != nil { // 127.0.0.1:8080, or 0.0.0.0:8080 in a container
		log.Fatal(err)
	}
}

// What the handler sees of an invocation, driven here through the app's
// HTTP handler.
func ExampleApp_Handler() {
	app := runtime.NewApp(runtime.Options{})
	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		var in struct{ Prompt string }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		return map[string]any{
			"prompt":   in.Prompt,
			"session":  runtime.SessionID(ctx),
			"has_wat":  runtime.WorkloadAccessToken(ctx) != "",
			"callback": runtime.CallbackURL(ctx),
			"tenant":   runtime.Headers(ctx).Get("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"),
		}, nil
	})

	req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(`{"prompt":"hello"}`))
	req.Header.Set(runtime.HeaderSessionID, "demo-session-0000000000000000000001")
	req.Header.Set(runtime.HeaderWAT, "opaque-token")
	req.Header.Set(runtime.HeaderCallbackURL, "http://localhost:8081/oauth2/callback")
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "acme")
	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"callback":"http://localhost:8081/oauth2/callback","has_wat":true,"prompt":"hello","session":"demo-session-0000000000000000000001","tenant":"acme"}
}

// Streaming: return an iterator and each element becomes a server-sent
// event.
func ExampleHandler_streaming() {
	app := runtime.NewApp(runtime.Options{})
	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		words := strings.Fields("streamed one word at a time")
		return func(yield func(any) bool) {
			for _, w := range words {
				if !yield(map[string]string{"delta": w}) {
					return
				}
			}
		}, nil
	})
	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(`{}`)))
	fmt.Print(rec.Body.String()[:len(`data: {"delta":"streamed"}`)])
	// Output: data: {"delta":"streamed"}
}

// Testing a handler, or serving with your own HTTP stack: NewContext and
// Middleware put the invocation on the context.
func ExampleNewContext() {
	ctx := runtime.NewContext(context.Background(), runtime.Invocation{SessionID: "s-1", WorkloadAccessToken: "wat"})
	tool := identity.RequiresWorkloadAccessToken(func(ctx context.Context, wat string) (string, error) {
		return "tool got " + wat, nil
	})
	out, err := tool(ctx)
	fmt.Println(runtime.SessionID(ctx), out, err)
	// Output: s-1 tool got wat <nil>
}
