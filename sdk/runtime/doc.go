// Package runtime serves a Go agent with the AgentCore runtime contract, so
// the same binary runs locally, under this project's local runtime, or in an
// AgentCore runtime container.
//
// # The contract
//
//   - POST /invocations receives the JSON payload; the handler's result is
//     returned as JSON (a Text as text/plain, an iterator or channel as
//     server-sent events).
//   - GET /ping answers {"status": "Healthy"} or "HealthyBusy" while
//     background work registered with App.TrackTask is running.
//   - Port 8080, bound to 127.0.0.1, or to 0.0.0.0 inside a container
//     (DOCKER_CONTAINER set or /.dockerenv present).
//
// # A minimal agent
//
//	app := runtime.NewApp(runtime.Options{})
//	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
//		var in struct{ Prompt string }
//		if err := req.Decode(&in); err != nil {
//			return nil, err
//		}
//		return map[string]string{"response": "you said " + in.Prompt}, nil
//	})
//	log.Fatal(app.Run(ctx))
//
// # What each invocation carries
//
// The runtime sends, as headers, the session id
// (X-Amzn-Bedrock-AgentCore-Runtime-Session-Id), a request id
// (X-Amzn-Bedrock-AgentCore-Runtime-Request-Id, generated if absent), the
// workload access token (X-Amz-Bedrock-AgentCore-Identity-WAT, or the older
// WorkloadAccessToken), the OAuth2 callback URL (OAuth2CallbackUrl) and the
// allowlisted headers (Authorization and
// X-Amzn-Bedrock-AgentCore-Runtime-Custom-*). The App puts them on the
// handler's context; read them with SessionID, RequestID,
// WorkloadAccessToken, CallbackURL and Headers.
//
// # Context, not context variables
//
// Everything travels in the context.Context passed to the handler. Pass ctx
// to your tools and the identity package's wrappers find the workload
// access token there, in any goroutine. The Python SDK stores these values
// in contextvars, which are lost in background threads, in tool threads and
// in apps not served by BedrockAgentCoreApp, failing with "Workload access
// token has not been set"; with an explicit ctx there is nothing to lose.
// Agents that use their own HTTP server wrap it with Middleware; tests
// build such a context with NewContext.
package runtime
