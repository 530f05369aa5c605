package oauthclient

import (
	"errors"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
)

// AuthRequest is one authorization code request with PKCE.
type AuthRequest struct {
	State       string
	Verifier    string
	RedirectURI string
	Scopes      []string
	Resources   []string
	Audiences   []string
	// CustomParameters are added to the request but never replace a
	// parameter this package sets (see reserved).
	CustomParameters map[string]string
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random
// bytes).
func NewVerifier() string { return oauth2.GenerateVerifier() }

// reserved reports the parameters a caller's customParameters must not
// replace: they carry the protocol and its protections. "request" and
// "request_uri" are reserved too, since a request object (RFC 9101) would
// override everything else.
func reserved(name string) bool {
	switch name {
	case "response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method",
		"scope", "request", "request_uri":
		return true
	}
	return false
}

// AuthCodeURL builds the URL of p's authorization endpoint for r. The
// precedence is: vendor extras (e.g. Google's access_type=offline), then
// the caller's custom parameters, then the standard parameters, which
// always win.
func AuthCodeURL(p credprovider.OAuth2Provider, ep Endpoints, r AuthRequest) (string, error) {
	if ep.AuthorizationEndpoint == "" {
		return "", errors.New("oauthclient: the provider has no authorization endpoint")
	}
	u, err := url.Parse(ep.AuthorizationEndpoint)
	if err != nil {
		return "", &Error{Op: "authorization", Err: err}
	}
	q := u.Query()
	quirks := p.VendorInfo.Quirks
	for k, v := range quirks.ExtraAuthParams {
		q.Set(k, v)
	}
	scopeParam := "scope"
	if quirks.UserTokenUnderAuthedUser {
		// Slack v2: user-token scopes go in user_scope; "scope" would ask
		// for a bot token, which is not the user's.
		scopeParam = "user_scope"
	}
	taken := func(k string) bool {
		return reserved(k) || k == scopeParam ||
			(k == "resource" && len(r.Resources) > 0) || (k == "audience" && len(r.Audiences) > 0)
	}
	for k, v := range r.CustomParameters {
		if !taken(k) {
			q.Set(k, v)
		}
	}
	q.Set("response_type", "code")
	q.Set("client_id", p.ClientID)
	q.Set("redirect_uri", r.RedirectURI)
	q.Set("state", r.State)
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(r.Verifier))
	q.Set("code_challenge_method", "S256")
	if scopes := NormalizeScopes(r.Scopes); len(scopes) > 0 {
		sep := quirks.ScopeSeparator
		if sep == "" {
			sep = " "
		}
		q.Set(scopeParam, strings.Join(scopes, sep))
	}
	if len(r.Resources) > 0 {
		q["resource"] = append([]string(nil), r.Resources...)
	}
	if len(r.Audiences) > 0 {
		q["audience"] = append([]string(nil), r.Audiences...)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
