package jwtauth

import (
	"slices"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/inbound"
)

// clientID is client_id (Cognito, Okta's cid aside) or, without one, azp
// (Auth0, ID tokens).
func clientID(claims map[string]any) string {
	if s, ok := claims["client_id"].(string); ok && s != "" {
		return s
	}
	s, _ := claims["azp"].(string)
	return s
}

// scopes reads the space-delimited scope claim (RFC 8693 §4.2) or, without
// one, the scp array Okta and Entra use.
func scopes(claims map[string]any) []string {
	for _, name := range []string{"scope", "scp"} {
		switch v := claims[name].(type) {
		case string:
			return strings.Fields(v)
		case []any:
			return strs(v)
		}
	}
	return nil
}

// strs keeps the strings of a JSON array, dropping anything else.
func strs(arr []any) []string {
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// authorize applies the configuration's allow-lists and claim rules; each
// configured rule must hold.
func authorize(cfg inbound.JWTAuthorizerConfig, c inbound.Caller) error {
	if len(cfg.AllowedAudience) > 0 {
		if len(c.Audience) == 0 {
			return reject("token has no aud claim but allowedAudience requires one " +
				"(Cognito access tokens carry client_id instead: configure allowedClients)")
		}
		if !intersects(c.Audience, cfg.AllowedAudience) {
			return reject("audience %s not in allowedAudience", quoteList(c.Audience))
		}
	}
	if len(cfg.AllowedClients) > 0 {
		if c.ClientID == "" {
			return reject("token has neither client_id nor azp but allowedClients requires one")
		}
		if !slices.Contains(cfg.AllowedClients, c.ClientID) {
			return reject("client %s not in allowedClients", quote(c.ClientID))
		}
	}
	if len(cfg.AllowedScopes) > 0 {
		if len(c.Scopes) == 0 {
			return reject("token has no scope claim but allowedScopes requires one")
		}
		if !intersects(c.Scopes, cfg.AllowedScopes) {
			return reject("none of the token's scopes %s is in allowedScopes", quoteList(c.Scopes))
		}
	}
	for _, cc := range cfg.CustomClaims {
		if err := checkClaim(cc, c.Claims); err != nil {
			return err
		}
	}
	return nil
}

// checkClaim applies one customClaims rule: a STRING claim EQUALS the
// value; a STRING_ARRAY claim CONTAINS the value or CONTAINS_ANY of the
// list. Combinations Validate refuses are refused here too (fail closed).
func checkClaim(cc inbound.CustomClaim, claims map[string]any) error {
	name := cc.InboundTokenClaimName
	m := cc.AuthorizingClaimMatchValue
	want := m.ClaimMatchValue
	raw, ok := claims[name]
	if !ok {
		return reject("required claim %q is missing", name)
	}
	switch cc.InboundTokenClaimValueType {
	case inbound.ClaimTypeString:
		s, ok := raw.(string)
		if !ok {
			return reject("claim %q is not a string", name)
		}
		if m.ClaimMatchOperator != inbound.OpEquals || want.MatchValueString == nil {
			break
		}
		if s != *want.MatchValueString {
			return reject("claim %q is %s, not %q", name, quote(s), *want.MatchValueString)
		}
		return nil
	case inbound.ClaimTypeStringArray:
		arr, ok := raw.([]any)
		if !ok || len(strs(arr)) != len(arr) {
			return reject("claim %q is not a string array", name)
		}
		have := strs(arr)
		switch {
		case m.ClaimMatchOperator == inbound.OpContains && want.MatchValueString != nil:
			if !slices.Contains(have, *want.MatchValueString) {
				return reject("claim %q does not contain %q", name, *want.MatchValueString)
			}
			return nil
		case m.ClaimMatchOperator == inbound.OpContainsAny && len(want.MatchValueStringList) > 0:
			if !intersects(have, want.MatchValueStringList) {
				return reject("claim %q contains none of %s", name, quoteList(want.MatchValueStringList))
			}
			return nil
		}
	}
	return reject("custom claim rule for %q is invalid (type %q, operator %q)", name,
		cc.InboundTokenClaimValueType, m.ClaimMatchOperator)
}

func intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

// quoteList renders token values for a message, at most a few of them.
func quoteList(vals []string) string {
	const maxItems = 5
	parts := make([]string, 0, min(len(vals), maxItems)+1)
	for i, v := range vals {
		if i == maxItems {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, quote(v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
