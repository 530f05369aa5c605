// Command aws-jwt is seed 000's agent in Go: it authenticates to an
// external service with an AWS-signed JWT from STS GetWebIdentityToken, so
// no secret is ever configured. The "model" is a deterministic stub that
// calls the tool when asked to authenticate: the credential flow is the
// point.
//
// Run it against a local agentcore server (see README.md):
//
//	go run ./examples/aws-jwt
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/agentcore-identity/agentcore/sdk/identity"
	"github.com/agentcore-identity/agentcore/sdk/runtime"
)

// Audience is the external service the agent authenticates to.
const Audience = "https://api.example.com"

// newAgent wires the tool and the entrypoint on app.
func newAgent(app *runtime.App, sts identity.STSAPI) {
	// The wrapped tool receives a fresh token on every call; it never sees
	// a key, a secret or a token source.
	authenticateExternalService := identity.RequiresIAMAccessToken(sts, identity.IAMTokenOptions{
		Audience:         []string{Audience},
		SigningAlgorithm: identity.ES384,
		Duration:         300 * time.Second,
	}, func(ctx context.Context, accessToken string) (string, error) {
		claims, err := peekClaims(accessToken)
		if err != nil {
			return "", err
		}
		// Decoded without verification, for display: the external service
		// verifies the signature against the issuer's JWKS.
		return fmt.Sprintf("AWS IAM JWT obtained.\nToken length: %d characters\nIssuer: %v\nAudience: %v\nSubject: %v\nExpires: %v",
			len(accessToken), claims["iss"], claims["aud"], claims["sub"], claims["exp"]), nil
	})

	app.Entrypoint(func(ctx context.Context, req runtime.Request) (any, error) {
		var in struct {
			Prompt string `json:"prompt"`
		}
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		if !strings.Contains(strings.ToLower(in.Prompt), "authenticat") {
			return map[string]string{"response": "Ask me to authenticate with the external service."}, nil
		}
		out, err := authenticateExternalService(ctx)
		if err != nil {
			return map[string]string{"response": "Authentication failed: " + err.Error()}, nil
		}
		return map[string]string{"response": out}, nil
	})
}

// peekClaims decodes a JWT's payload without verifying it.
func peekClaims(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode JWT payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, fmt.Errorf("decode JWT claims: %w", err)
	}
	return claims, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client, err := identity.New(identity.Options{})
	if err != nil {
		log.Fatal(err)
	}
	app := runtime.NewApp(runtime.Options{})
	newAgent(app, client.STS())
	if err := app.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
