package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentcore-identity/agentcore/internal/oidctest"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// spanText is everything a span exports that could leak: its name,
// attributes, event attributes and status description.
func spanText(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	b.WriteString(s.Name() + "\n" + s.Status().Description + "\n")
	for _, kv := range s.Attributes() {
		b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
	}
	for _, e := range s.Events() {
		for _, kv := range e.Attributes {
			b.WriteString(e.Name + ":" + string(kv.Key) + "=" + kv.Value.String() + "\n")
		}
	}
	return b.String()
}

// TestTracing: with a tracer provider, each API request is a server span
// named after its AWS operation, the outbound calls of a vend are client
// spans in the same trace, and no secret, token, code or state appears in
// any span.
func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	idp := oidctest.Start(t, oidctest.Options{})
	env := servertest.Start(t, servertest.Options{TracerProvider: tp})
	ctx := servertest.Context(t)
	c, d := env.Control(), env.Data()

	created, err := c.CreateOauth2CredentialProvider(ctx, &cp.CreateOauth2CredentialProviderInput{
		Name: aws.String(idpProvider), CredentialProviderVendor: "CustomOauth2",
		Oauth2ProviderConfigInput: customDiscovery(idp.DiscoveryURL(), idpClientID, idpClientSecret),
	})
	if err != nil {
		t.Fatal(err)
	}
	idp.AddClient(oidctest.Client{ID: idpClientID, Secret: idpClientSecret, RedirectURIs: []string{aws.ToString(created.CallbackUrl)},
		Scopes: []string{"read"}})
	if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("traced-agent")}); err != nil {
		t.Fatal(err)
	}
	wat, err := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("traced-agent")})
	if err != nil {
		t.Fatal(err)
	}
	vended, err := d.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{WorkloadIdentityToken: wat.WorkloadAccessToken,
		ResourceCredentialProviderName: aws.String(idpProvider), Scopes: []string{"read"}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m})
	if err != nil || vended.AccessToken == nil {
		t.Fatalf("M2M vend: %+v %v", vended, err)
	}
	// A browser leg carrying a code and a state in its query.
	const code, state = "code-4b1d-secret", "state-9c2e-secret"
	resp, err := http.Get(aws.ToString(created.CallbackUrl) + "?" + url.Values{"code": {code}, "state": {state}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	spans := rec.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = s
	}
	for _, op := range []string{"CreateOauth2CredentialProvider", "CreateWorkloadIdentity", "GetWorkloadAccessToken", "GetResourceOauth2Token"} {
		s, ok := byName["bedrock-agentcore."+op]
		if !ok || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("no server span named bedrock-agentcore.%s", op)
		}
	}
	vend := byName["bedrock-agentcore.GetResourceOauth2Token"]
	idpHost := strings.TrimPrefix(idp.Issuer(), "http://")
	var outbound int
	for _, s := range spans {
		if s.SpanKind() == trace.SpanKindClient && strings.Contains(s.Name(), idpHost) {
			outbound++
			if vend == nil || s.SpanContext().TraceID() != vend.SpanContext().TraceID() {
				t.Errorf("outbound span %q is not in the vend's trace", s.Name())
			}
		}
	}
	if outbound < 2 {
		t.Errorf("%d client spans to the identity provider, want discovery and token at least", outbound)
	}
	secrets := map[string]string{
		"client secret": idpClientSecret, "workload access token": aws.ToString(wat.WorkloadAccessToken),
		"access token": aws.ToString(vended.AccessToken), "code": code, "state": state,
		"SigV4 secret key": env.SecretKey, "access key id": env.AccessKey,
	}
	for _, s := range spans {
		text := spanText(s)
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("span %q carries the %s:\n%s", s.Name(), name, text)
			}
		}
	}
}
