package sigv4

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat = "20060102T150405Z"
	scopeDateFmt  = "20060102"
	terminator    = "aws4_request"
	// unsignedPayload is the payload hash clients use to leave the body out
	// of the signature.
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// maxEcho bounds how much of a client-supplied value an error message
	// repeats back.
	maxEcho = 64
)

// authHeader is the parsed Authorization header, before scope validation.
type authHeader struct {
	Credential    string
	SignedHeaders string
	Signature     string
}

// credentialScope is a parsed "AKID/yyyymmdd/region/service/aws4_request".
type credentialScope struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

func (c credentialScope) String() string {
	return c.AccessKeyID + "/" + c.Date + "/" + c.Region + "/" + c.Service + "/" + terminator
}

func incomplete(format string, args ...any) *Error {
	return &Error{Kind: FailIncomplete, Message: fmt.Sprintf(format, args...)}
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…". Components may come in any order, with or without spaces
// after the commas, as AWS accepts; each must appear exactly once.
func parseAuthorization(h string) (authHeader, *Error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != algorithm {
		if strings.HasPrefix(h, "AWS4-") {
			return authHeader{}, incomplete("Unsupported AWS 'algorithm': %q", clip(alg))
		}
		return authHeader{}, incomplete("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.")
	}
	var a authHeader
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return authHeader{}, incomplete("Authorization header requires each component to be of the form key=value: %q", clip(part))
		}
		if seen[k] {
			return authHeader{}, incomplete("Authorization header has a duplicate %q component.", clip(k))
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.Credential = v
		case "SignedHeaders":
			a.SignedHeaders = v
		case "Signature":
			a.Signature = v
		default:
			return authHeader{}, incomplete("Authorization header has an unknown component %q.", clip(k))
		}
	}
	var missing []string
	for _, c := range []struct{ name, val string }{
		{"Credential", a.Credential}, {"Signature", a.Signature}, {"SignedHeaders", a.SignedHeaders},
	} {
		if c.val == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", c.name))
		}
	}
	if len(missing) > 0 {
		return authHeader{}, incomplete("%s", strings.Join(missing, " "))
	}
	return a, nil
}

// parseCredential validates "AKID/yyyymmdd/region/service/aws4_request".
func parseCredential(s string) (credentialScope, *Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return credentialScope{}, incomplete("Credential should be scoped to a valid region, service and date: %q is not AKID/yyyymmdd/region/service/aws4_request.", clip(s))
	}
	c := credentialScope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	if parts[4] != terminator {
		return credentialScope{}, incomplete("Credential should be scoped with a valid terminator: 'aws4_request', not %q.", clip(parts[4]))
	}
	if c.AccessKeyID == "" {
		return credentialScope{}, incomplete("Credential must have an access key id.")
	}
	if !validScopeDate(c.Date) {
		return credentialScope{}, incomplete("Credential should be scoped to a valid date: %q is not yyyymmdd.", clip(c.Date))
	}
	if c.Region == "" {
		return credentialScope{}, incomplete("Credential should be scoped to a valid region.")
	}
	if c.Service == "" {
		return credentialScope{}, incomplete("Credential should be scoped to a valid service.")
	}
	return c, nil
}

func validScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	t, err := time.Parse(scopeDateFmt, s)
	return err == nil && t.Format(scopeDateFmt) == s
}

// parseAmzDate parses an X-Amz-Date value strictly: it must round-trip,
// because the signer re-formats the parsed time into the canonical request.
func parseAmzDate(s string) (time.Time, *Error) {
	t, err := time.Parse(amzDateFormat, s)
	if err != nil || t.Format(amzDateFormat) != s {
		return time.Time{}, incomplete("X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z', got %q.", clip(s))
	}
	return t, nil
}

// parseSignedHeaders checks "a;b;c": lowercase header names, no duplicates,
// host included. Order is left to the signature check: the SDK always
// sorts, so an unsorted list simply does not match.
func parseSignedHeaders(s string) ([]string, *Error) {
	names := strings.Split(s, ";")
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !validHeaderName(n) {
			return nil, incomplete("SignedHeaders contains an invalid header name %q.", clip(n))
		}
		if seen[n] {
			return nil, incomplete("SignedHeaders lists %q twice.", clip(n))
		}
		seen[n] = true
	}
	if !seen["host"] {
		return nil, incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if seen["authorization"] {
		return nil, incomplete("The Authorization header cannot be signed.")
	}
	return names, nil
}

// validHeaderName accepts lowercase RFC 9110 tokens.
func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// clip shortens a client-supplied value for an error message.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}

// ClaimedService returns the service named in the request's credential
// scope without verifying anything, or "" if there is none. It lets a
// server answer an authentication failure in the protocol the client
// speaks (restJson for bedrock-agentcore, awsQuery XML for sts and iam).
func ClaimedService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		a, err := parseAuthorization(h)
		if err != nil {
			return ""
		}
		cred = a.Credential
	}
	if c, err := parseCredential(cred); err == nil {
		return c.Service
	}
	return ""
}
