package oidctest

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// state is everything the provider remembers, behind one mutex.
type state struct {
	opts   Options
	issuer string

	mu         sync.Mutex
	users      map[string]User   // by username
	clients    map[string]Client // by id
	authReqs   map[string]*authRequest
	codes      map[string]string // code -> auth request id
	access     map[string]*accessRecord
	refresh    map[string]*refreshRecord // by token value
	keys       []*signingKey             // published in the JWKS; keys[len-1] signs
	down       bool
	tokenCalls map[string]int
	jwksCalls  int

	discoveryCalls int
}

func newState(opts Options, issuer string) (*state, error) {
	st := &state{
		opts: opts, issuer: issuer,
		users: map[string]User{}, clients: map[string]Client{},
		authReqs: map[string]*authRequest{}, codes: map[string]string{},
		access: map[string]*accessRecord{}, refresh: map[string]*refreshRecord{},
		tokenCalls: map[string]int{},
	}
	k, err := newSigningKey(opts.Algorithm)
	if err != nil {
		return nil, err
	}
	st.keys = []*signingKey{k}
	return st, nil
}

func (st *state) isDown() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.down
}

// count records a request before anything else sees it. Parsing the form
// here is harmless: later ParseForm calls reuse r.PostForm.
func (st *state) count(r *http.Request, prefix string) {
	path := strings.TrimPrefix(r.URL.Path, prefix)
	var grant string
	if path == "/oauth/token" {
		_ = r.ParseForm()
		grant = r.PostForm.Get("grant_type")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch path {
	case "/.well-known/openid-configuration":
		st.discoveryCalls++
	case "/keys":
		st.jwksCalls++
	case "/oauth/token":
		st.tokenCalls[grant]++
	}
}

func (st *state) userBySubject(sub string) (User, bool) {
	for _, u := range st.users {
		if u.Subject == sub {
			return u, true
		}
	}
	return User{}, false
}

// authRequest is a pending or completed authorization request.
type authRequest struct {
	id            string
	clientID      string
	redirectURI   string
	scopes        []string
	state         string
	nonce         string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	subject       string // set by the login form
	authTime      time.Time
	done          bool
	created       time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// copy hands the library a snapshot, so the login form can complete the
// original while a request is in flight without a data race.
func (a *authRequest) copy() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

// clientCredentialsRequest is the token request of a client_credentials
// grant; the client is its own subject.
type clientCredentialsRequest struct {
	clientID string
	scopes   []string
}

func (c *clientCredentialsRequest) GetSubject() string    { return c.clientID }
func (c *clientCredentialsRequest) GetAudience() []string { return []string{c.clientID} }
func (c *clientCredentialsRequest) GetScopes() []string   { return c.scopes }

// refreshRecord is a live refresh token; it doubles as the library's
// RefreshTokenRequest.
type refreshRecord struct {
	id       string
	token    string
	clientID string
	subject  string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
}

func (r *refreshRecord) GetAMR() []string                 { return r.amr }
func (r *refreshRecord) GetAudience() []string            { return []string{r.clientID} }
func (r *refreshRecord) GetAuthTime() time.Time           { return r.authTime }
func (r *refreshRecord) GetClientID() string              { return r.clientID }
func (r *refreshRecord) GetScopes() []string              { return r.scopes }
func (r *refreshRecord) GetSubject() string               { return r.subject }
func (r *refreshRecord) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// accessRecord is an issued access token; tokenCrypto turns it into a JWT.
type accessRecord struct {
	id       string
	clientID string
	subject  string
	username string // empty for client_credentials
	scopes   []string
	authTime time.Time
	issued   time.Time
	expires  time.Time
	extra    map[string]any
	jwt      string // the token as minted
}

// client adapts a Client to op.Client.
type client struct {
	Client
	issuerPath string
}

var _ op.Client = client{}

func (c client) GetID() string                       { return c.ID }
func (c client) RedirectURIs() []string              { return c.Client.RedirectURIs }
func (c client) PostLogoutRedirectURIs() []string    { return nil }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod {
	if c.Secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.Client.GrantTypes))
	for i, g := range c.Client.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

// LoginURL is relative, so it also works behind an issuer path.
func (c client) LoginURL(id string) string {
	return c.issuerPath + loginPath + "?" + loginRequestParam + "=" + url.QueryEscape(id)
}
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return time.Hour }

// DevMode allows http redirect URIs, which every httptest server has.
func (c client) DevMode() bool { return true }
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(scope string) bool { return slices.Contains(c.Scopes, scope) }

// IDTokenUserinfoClaimsAssertion puts profile and email claims in the ID
// token even next to an access token, as Cognito and Auth0 do.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c client) ClockSkew() time.Duration             { return 0 }

func randomID() string { return rand.Text() }
