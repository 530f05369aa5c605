package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestEnabledByEnv(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"ok/off by default", nil, false},
		{"ok/otlp exporter", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"ok/otlp among exporters", map[string]string{"OTEL_TRACES_EXPORTER": "console, otlp"}, true},
		{"ok/endpoint alone", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"ok/traces endpoint alone", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"fail/exporter none despite endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{"fail/other exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false},
		{"fail/sdk disabled", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := EnabledByEnv(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Fatalf("EnabledByEnv = %v, want %v", got, tc.want)
			}
		})
	}
}

type plainHandler struct{}

func (*plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

type plainTransport struct{}

func (*plainTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, io.EOF }

// TestOffWrapsNothing: without a provider the handler and transport are
// returned as they are, so tracing off costs a request nothing.
func TestOffWrapsNothing(t *testing.T) {
	h, rt, hc := &plainHandler{}, &plainTransport{}, &http.Client{}
	if got, ok := Handler(h, nil).(*plainHandler); !ok || got != h {
		t.Error("Handler wrapped h without a provider")
	}
	if got, ok := Transport(rt, nil).(*plainTransport); !ok || got != rt {
		t.Error("Transport wrapped rt without a provider")
	}
	if Client(hc, nil) != hc {
		t.Error("Client copied hc without a provider")
	}
	// NameRequest on an untraced request is a no-op, not a panic.
	NameRequest(context.Background(), "sts", "GetCallerIdentity")
}

func recorder() (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	return rec, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
}

// attrText is every attribute of a span as "key=value" lines.
func attrText(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, kv := range s.Attributes() {
		b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
	}
	return b.String()
}

func TestServerSpanNamedByOperation(t *testing.T) {
	rec, tp := recorder()
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		NameRequest(r.Context(), "sts", "GetCallerIdentity")
	}), tp)
	req := httptest.NewRequest(http.MethodPost, "/?code=the-code&state=the-state", strings.NewReader("Action=GetCallerIdentity"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/secret-signature")
	h.ServeHTTP(httptest.NewRecorder(), req)
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	attrs := attrText(s)
	if s.Name() != "sts.GetCallerIdentity" || s.SpanKind() != trace.SpanKindServer ||
		!strings.Contains(attrs, "rpc.method=GetCallerIdentity\n") || !strings.Contains(attrs, "rpc.service=sts\n") {
		t.Fatalf("span %q (%v) attributes:\n%s", s.Name(), s.SpanKind(), attrs)
	}
	for _, secret := range []string{"the-code", "the-state", "secret-signature", "AKIDEXAMPLE"} {
		if strings.Contains(attrs, secret) {
			t.Errorf("span attributes carry %q:\n%s", secret, attrs)
		}
	}
}

func TestClientSpanDropsQuery(t *testing.T) {
	rec, tp := recorder()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Traceparent") == "" {
			t.Error("no traceparent sent")
		}
	}))
	defer srv.Close()
	hc := Client(&http.Client{}, tp)
	resp, err := hc.Get(srv.URL + "/token?client_secret=s3cret#frag")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].SpanKind() != trace.SpanKindClient {
		t.Fatalf("spans = %v, want one client span", spans)
	}
	attrs := attrText(spans[0])
	if strings.Contains(attrs, "s3cret") || !strings.Contains(attrs, "url.full="+srv.URL+"/token\n") {
		t.Fatalf("client span attributes:\n%s", attrs)
	}
}
