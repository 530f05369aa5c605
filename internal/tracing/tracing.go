// Package tracing sets up optional OpenTelemetry tracing. It is off by
// default: the server then holds no tracer provider and wraps nothing, so a
// request pays nothing for it. Turned on (--otel-traces, or the standard
// OTEL_* environment), spans go to an OTLP/HTTP collector configured by the
// standard OTEL_EXPORTER_OTLP_* variables: one server span per request,
// named by AWS operation, and one client span per outbound request
// (discovery, JWKS, token endpoints). Spans never carry query strings,
// headers or bodies, where tokens, codes and secrets travel.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of our spans unless OTEL_SERVICE_NAME
// says otherwise.
const ServiceName = "agentcore-identity"

// EnabledByEnv reports whether the standard OpenTelemetry environment asks
// for traces: OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) with
// no exporter named. OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none
// keep tracing off.
func EnabledByEnv(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	switch exporters := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exporters {
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		for e := range strings.SplitSeq(exporters, ",") {
			if strings.TrimSpace(e) == "otlp" {
				return true
			}
		}
		return false
	}
}

// Options tune Start.
type Options struct {
	// Version is the service.version resource attribute.
	Version string
	// Exporter, when set, replaces the OTLP/HTTP exporter.
	Exporter sdktrace.SpanExporter
}

// Start builds a tracer provider that batches spans to the OTLP/HTTP
// exporter. The caller shuts it down (flushing what is buffered).
func Start(ctx context.Context, opts Options) (*sdktrace.TracerProvider, error) {
	exp := opts.Exporter
	if exp == nil {
		var err error
		if exp, err = otlptracehttp.New(ctx); err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(ServiceName)}
	if opts.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(opts.Version))
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override our defaults.
	res, err := resource.New(ctx, resource.WithSchemaURL(semconv.SchemaURL), resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// propagator reads and writes W3C trace context only: baggage would let
// callers push arbitrary data through us to identity providers.
var propagator = propagation.TraceContext{}

// Handler wraps h with a server span per request. With a nil provider it
// returns h itself: no per-request cost while tracing is off.
func Handler(h http.Handler, tp trace.TracerProvider) http.Handler {
	if tp == nil {
		return h
	}
	return otelhttp.NewHandler(h, "request", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method }))
}

// Transport wraps rt (nil: http.DefaultTransport) with a client span per
// request. With a nil provider it returns rt itself.
func Transport(rt http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if tp == nil {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(stripQuery{rt}, otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method + " " + r.URL.Host }))
}

// Client returns hc with its transport traced (hc itself when tp is nil).
func Client(hc *http.Client, tp trace.TracerProvider) *http.Client {
	if tp == nil || hc == nil {
		return hc
	}
	c := *hc
	c.Transport = Transport(c.Transport, tp)
	return &c
}

// stripQuery overwrites the url.full attribute otelhttp gives client spans
// with the URL less its query and fragment, which may carry secrets.
type stripQuery struct{ next http.RoundTripper }

func (s stripQuery) RoundTrip(r *http.Request) (*http.Response, error) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		u := *r.URL
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		span.SetAttributes(semconv.URLFull(u.String()))
	}
	return s.next.RoundTrip(r)
}

// NameRequest names the request's server span after the AWS operation it
// turned out to be ("sts.GetCallerIdentity") and records it as RPC
// attributes. It does nothing when the request is not traced.
func NameRequest(ctx context.Context, service, operation string) {
	span := trace.SpanFromContext(ctx)
	if operation == "" || !span.IsRecording() {
		return
	}
	span.SetName(service + "." + operation)
	// The attributes AWS SDK instrumentation gives its client spans, so
	// both ends of a call line up.
	span.SetAttributes(attribute.String("rpc.system", "aws-api"), attribute.String("rpc.service", service),
		attribute.String("rpc.method", operation))
}
