package inbound

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/agentcore-identity/agentcore/internal/validate"
)

// ErrUnavailable marks a refusal caused by the identity provider rather
// than the token: its discovery document or keys could not be fetched and
// nothing usable was cached. It wraps ErrRejected, so errors.Is(err,
// ErrRejected) still holds; callers that want to answer 5xx instead of
// 401/403 for an outage test for ErrUnavailable first.
var ErrUnavailable = fmt.Errorf("%w (identity provider unavailable)", ErrRejected)

// Custom claim value types and operators (wire values).
const (
	ClaimTypeString      = "STRING"
	ClaimTypeStringArray = "STRING_ARRAY"

	OpEquals      = "EQUALS"
	OpContains    = "CONTAINS"
	OpContainsAny = "CONTAINS_ANY"
)

// Constraints of CustomJWTAuthorizerConfiguration. Patterns come from the
// AgentCore model; the AWS docs give lists "minimum 1 item" and no maximum,
// so the maximums (and the audience and client id lengths) are ours.
var (
	DiscoveryURLRE = regexp.MustCompile(`^.+/\.well-known/openid-configuration$`)
	ScopeRE        = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	ClaimRE        = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// List bounds (ours, see above).
const (
	MaxListItems    = 255
	MaxCustomClaims = 50
)

// Validate records every constraint violation of c in v, naming members
// under prefix (e.g. "authorizerConfiguration.customJWTAuthorizer").
//
// A configuration that sets none of allowedAudience, allowedClients,
// allowedScopes and customClaims is valid: it accepts any token the
// discovery URL's issuer signed (signature, issuer and time checks only).
func (c JWTAuthorizerConfig) Validate(v *validate.Errors, prefix string) {
	name := func(member string) string {
		if prefix == "" {
			return member
		}
		return prefix + "." + member
	}
	if v.String(name("discoveryUrl"), c.DiscoveryURL, 1, 2048, DiscoveryURLRE) {
		if u, err := url.Parse(c.DiscoveryURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.Add(name("discoveryUrl"), "Member must be an absolute http or https URL")
		}
	}
	strList(v, name("allowedAudience"), c.AllowedAudience, 2048, nil)
	strList(v, name("allowedClients"), c.AllowedClients, 255, nil)
	strList(v, name("allowedScopes"), c.AllowedScopes, 255, ScopeRE)
	if c.CustomClaims != nil && v.Count(name("customClaims"), len(c.CustomClaims), 1, MaxCustomClaims) {
		for i, cc := range c.CustomClaims {
			cc.validate(v, fmt.Sprintf("%s.%d", name("customClaims"), i+1))
		}
	}
}

// strList checks an optional list: when present it has 1..MaxListItems
// members of 1..maxLen characters matching re.
func strList(v *validate.Errors, field string, list []string, maxLen int, re *regexp.Regexp) {
	if list == nil || !v.Count(field, len(list), 1, MaxListItems) {
		return
	}
	for i, s := range list {
		if !v.String(fmt.Sprintf("%s.%d", field, i+1), s, 1, maxLen, re) {
			return
		}
	}
}

func (cc CustomClaim) validate(v *validate.Errors, field string) {
	v.String(field+".inboundTokenClaimName", cc.InboundTokenClaimName, 1, 255, ClaimRE)
	typeOK := v.OneOf(field+".inboundTokenClaimValueType", cc.InboundTokenClaimValueType, ClaimTypeString, ClaimTypeStringArray)
	m := cc.AuthorizingClaimMatchValue
	opField := field + ".authorizingClaimMatchValue.claimMatchOperator"
	opOK := v.OneOf(opField, m.ClaimMatchOperator, OpEquals, OpContains, OpContainsAny)

	valField := field + ".authorizingClaimMatchValue.claimMatchValue"
	hasStr, hasList := m.ClaimMatchValue.MatchValueString != nil, m.ClaimMatchValue.MatchValueStringList != nil
	switch {
	case hasStr && hasList:
		v.Add(valField, "Exactly one of matchValueString and matchValueStringList must be set")
	case hasStr:
		v.String(valField+".matchValueString", *m.ClaimMatchValue.MatchValueString, 1, 255, ClaimRE)
	case hasList:
		strList(v, valField+".matchValueStringList", m.ClaimMatchValue.MatchValueStringList, 255, ClaimRE)
	default:
		v.Add(valField, "Exactly one of matchValueString and matchValueStringList must be set")
	}
	if !typeOK || !opOK {
		return
	}
	// The operator decides the value's shape: EQUALS and CONTAINS compare
	// one string, CONTAINS_ANY a list; only arrays can CONTAIN.
	switch {
	case cc.InboundTokenClaimValueType == ClaimTypeString && m.ClaimMatchOperator != OpEquals:
		v.Add(opField, "Member must be EQUALS when inboundTokenClaimValueType is STRING")
	case cc.InboundTokenClaimValueType == ClaimTypeStringArray && m.ClaimMatchOperator == OpEquals:
		v.Add(opField, "Member must be CONTAINS or CONTAINS_ANY when inboundTokenClaimValueType is STRING_ARRAY")
	case m.ClaimMatchOperator == OpContainsAny && !hasList:
		v.Add(valField+".matchValueStringList", "Member must not be null for CONTAINS_ANY")
	case m.ClaimMatchOperator != OpContainsAny && !hasStr:
		v.Add(valField+".matchValueString", "Member must not be null for %s", m.ClaimMatchOperator)
	}
}
