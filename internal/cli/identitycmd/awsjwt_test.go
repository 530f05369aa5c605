package identitycmd

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSetupAWSJWTIsIdempotent(t *testing.T) {
	h := newHarness(t)

	// Without a project file list-aws-jwt reports the account state.
	var state awsJWTJSON
	h.jsonOf(&state, "list-aws-jwt", "--json")
	if state.Enabled || state.Source != "server" {
		t.Fatalf("before setup: %+v", state)
	}

	h.writeProject()
	first := h.must("setup-aws-jwt", "--audience", "https://api.example.com")
	second := h.must("setup-aws-jwt", "-a", "https://api2.example.com", "-s", "RS256", "-d", "900")
	third := h.must("setup-aws-jwt", "-a", "https://api.example.com")
	if !strings.Contains(first.out, "enabled now") || !strings.Contains(second.out, "already enabled") || !strings.Contains(third.out, "already enabled") {
		t.Fatalf("outputs:\n%s\n%s", first.out, second.out)
	}
	a := h.agent()
	j := a.AWSJWT
	if j == nil || !j.Enabled || !slices.Equal(j.Audiences, []string{"https://api.example.com", "https://api2.example.com"}) ||
		j.SigningAlgorithm != "ES384" || j.DurationSeconds != 300 {
		t.Fatalf("YAML aws_jwt = %+v", j)
	}
	issuer := aws.ToString(j.IssuerURL)
	if !strings.HasPrefix(issuer, h.srv.URL+"/sts-issuer/") || !strings.Contains(first.out, issuer+"/.well-known/jwks.json") {
		t.Fatalf("issuer %q; output:\n%s", issuer, first.out)
	}

	h.jsonOf(&state, "list-aws-jwt", "--json")
	if !state.Enabled || state.Source != "project" || state.IssuerURL != issuer || len(state.Audiences) != 2 || state.JWKSURL != issuer+"/.well-known/jwks.json" {
		t.Fatalf("list-aws-jwt --json = %+v", state)
	}
	table := h.must("list-aws-jwt").out
	for _, want := range []string{"Enabled", "✅ Yes", issuer, "https://api2.example.com", "Duration (seconds)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	for _, bad := range [][]string{{"-a", "x", "-s", "HS256"}, {"-a", "x", "-d", "30"}, {"-a", "x", "-d", "3601"}, {}} {
		if r := h.run(append([]string{"setup-aws-jwt"}, bad...)...); r.err == nil {
			t.Errorf("setup-aws-jwt %v succeeded", bad)
		}
	}
}

func TestStyledOutput(t *testing.T) {
	h := newHarness(t)
	h.tty = true
	r := h.must("list-aws-jwt")
	// On a terminal tables get borders; plain output has none.
	if !strings.Contains(r.out, "╭") || !strings.Contains(r.out, "Property") {
		t.Fatalf("styled table:\n%s", r.out)
	}
	h.tty = false
	if r := h.must("list-aws-jwt"); strings.ContainsAny(r.out, "╭│") || strings.Contains(r.out, "\x1b[") {
		t.Fatalf("plain output has borders or escapes:\n%s", r.out)
	}
}
