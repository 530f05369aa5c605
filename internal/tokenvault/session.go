package tokenvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// SessionURIPrefix starts every session URI (RFC 9126 request_uri form).
const SessionURIPrefix = "urn:ietf:params:oauth:request_uri:"

// sessionScope is the store account of sessions: the browser legs know
// only the session id, so sessions cannot live under their account.
const sessionScope = "*"

// sessionIDRE matches our session ids: 32 random bytes, base64url.
var sessionIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// Internal session states. The wire shows IN_PROGRESS for the first four.
const (
	statePending     = "PENDING"     // created; authorization URL not yet opened
	stateAuthorizing = "AUTHORIZING" // authorization URL opened; waiting for the callback
	stateExchanging  = "EXCHANGING"  // callback accepted; redeeming the code
	stateAuthorized  = "AUTHORIZED"  // tokens held in the session; waiting for CompleteResourceTokenAuth
	stateCompleted   = "COMPLETED"   // tokens moved to the vault
	stateFailed      = "FAILED"
)

// sessionDoc is one 3LO flow.
type sessionDoc struct {
	Account  string `json:"account"`
	Workload string `json:"workload"`
	UserID   string `json:"userId"`
	// Source and ArtifactHash identify the exact user token or user id the
	// starting WAT was minted from: CompleteResourceTokenAuth must present it.
	Source           wat.Source        `json:"source"`
	ArtifactHash     string            `json:"artifactHash"`
	Provider         string            `json:"provider"`
	ProviderGen      string            `json:"providerGen"`
	Scopes           []string          `json:"scopes"`
	Resources        []string          `json:"resources,omitempty"`
	Audiences        []string          `json:"audiences,omitempty"`
	ReturnURL        string            `json:"returnUrl"`
	CustomState      string            `json:"customState,omitempty"`
	CustomParameters map[string]string `json:"customParameters,omitempty"`
	Force            bool              `json:"forceAuthentication,omitempty"`
	RedirectURI      string            `json:"redirectUri"`
	// Verifier is the sealed PKCE code verifier.
	Verifier []byte `json:"verifierSealed"`
	// StateHash is the SHA-256 of the state's secret part, set when the
	// authorization URL is opened.
	StateHash string `json:"stateHash,omitempty"`
	Status    string `json:"status"`
	// Failure is the OAuth error code that failed the flow.
	Failure string `json:"failure,omitempty"`
	// Tokens is the sealed tokenSet plus metadata, between the callback
	// and CompleteResourceTokenAuth.
	Tokens []byte `json:"tokensSealed,omitempty"`
	// VaultKey addresses the vault record once completed.
	VaultKey  string    `json:"vaultKey,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// grant is what the session holds between callback and completion.
type grant struct {
	tokenSet
	Granted    []string  `json:"granted"`
	ObtainedAt time.Time `json:"obtainedAt"`
	Expiry     time.Time `json:"expiry"`
}

func sessionAAD(id, field string) []byte { return seal.AAD(SessionKind, sessionScope, id, field) }

// ParseSessionURI returns the session id of a session URI we issued.
func ParseSessionURI(uri string) (string, bool) {
	id, ok := strings.CutPrefix(uri, SessionURIPrefix)
	return id, ok && sessionIDRE.MatchString(id)
}

// invalidSession is the one answer to every failed session check, as AWS
// gives it: it does not say which check failed.
func invalidSession() error { return awserr.AccessDenied("Invalid or expired session") }

// UserFederation answers a USER_FEDERATION request: the stored token, a
// poll answer for a running session, or a new session.
func (f *Flows) UserFederation(ctx context.Context, r Request) (Result, error) {
	if !r.Caller.HasUser() {
		return Result{}, awserr.Validation("The USER_FEDERATION flow needs a workload access token issued for a user: get it with GetWorkloadAccessTokenForJWT or GetWorkloadAccessTokenForUserId.")
	}
	if len(r.Workload.ReturnURLs) == 0 {
		return Result{}, awserr.Validation("You must register and use at least one ResourceOauth2ReturnUrl on your workload identity to use this flow")
	}
	if r.ReturnURL == "" {
		return Result{}, awserr.Validation("You must provide a ResourceOauth2ReturnUrl to proceed with this flow")
	}
	if !slices.Contains(r.Workload.ReturnURLs, r.ReturnURL) {
		return Result{}, awserr.Field(awserr.FieldError{Name: "resourceOauth2ReturnUrl",
			Message: fmt.Sprintf("The URL is not one of the allowedResourceOauth2ReturnUrls of workload identity %q", r.Workload.Name)})
	}
	if r.ForceAuthentication {
		return f.startFlow(ctx, r)
	}
	if r.SessionURI != "" {
		if res, done, err := f.poll(ctx, r); done || err != nil {
			return res, err
		}
	}
	tok, ok, err := f.cachedUserToken(ctx, r)
	if err != nil {
		return Result{}, err
	}
	if ok {
		return Result{AccessToken: tok}, nil
	}
	if r.SessionURI != "" {
		// An unknown or expired session can never complete. Starting a new
		// one here would make every poll of a stale session mint another.
		return Result{SessionURI: r.SessionURI, SessionStatus: StatusFailed}, nil
	}
	return f.startFlow(ctx, r)
}

// poll answers for the caller's own session; done is false when the
// session is unknown, expired or someone else's.
func (f *Flows) poll(ctx context.Context, r Request) (Result, bool, error) {
	id, ok := ParseSessionURI(r.SessionURI)
	if !ok {
		return Result{}, false, nil
	}
	d, found, err := f.loadSession(ctx, id)
	if err != nil || !found || d.Account != r.Caller.Account || d.Workload != r.Caller.Workload ||
		d.UserID != r.Caller.UserID || d.Provider != r.Provider.Name {
		return Result{}, false, err
	}
	switch d.Status {
	case stateFailed:
		return Result{SessionURI: r.SessionURI, SessionStatus: StatusFailed}, true, nil
	case stateCompleted:
		scope := userScope(d.Account, d.UserID, d.Provider)
		tok, ok, err := f.tokenAt(ctx, r, scope, d.VaultKey)
		if err != nil || !ok {
			return Result{}, false, err
		}
		return Result{AccessToken: tok}, true, nil
	}
	// Still running. A token the user granted meanwhile (in another
	// session) ends the wait, unless this session was forced, which asks
	// for a new consent whatever is stored.
	if !d.Force {
		if tok, ok, err := f.cachedUserToken(ctx, r); err != nil || ok {
			return Result{AccessToken: tok}, true, err
		}
	}
	res := Result{SessionURI: r.SessionURI, SessionStatus: StatusInProgress}
	if d.Status == statePending {
		res.AuthorizationURL = f.authorizationURL(r.SessionURI) // not opened yet: still usable
	}
	return res, true, nil
}

func (f *Flows) authorizationURL(sessionURI string) string {
	return f.cfg.PublicURL + "/identities/oauth2/authorize?request_uri=" + url.QueryEscape(sessionURI)
}

// startFlow creates a session and returns its authorization URL.
func (f *Flows) startFlow(ctx context.Context, r Request) (Result, error) {
	ep, err := f.cfg.Client.Endpoints(ctx, r.Provider)
	if err != nil {
		return Result{}, f.providerErr(r.Provider.Name, err)
	}
	if ep.AuthorizationEndpoint == "" {
		return Result{}, awserr.Validation("Credential provider %q has no authorization endpoint, so it supports only the M2M flow.", r.Provider.Name)
	}
	scope := userScope(r.Caller.Account, r.Caller.UserID, r.Provider.Name)
	if err := f.makeRoom(ctx, r, scope, userKey(r.Caller.Workload, r.Scopes, r.Resources, r.Audiences)); err != nil {
		return Result{}, err
	}
	id := randomID(32)
	verifier, err := f.cfg.Sealer.Seal(ctx, []byte(oauthclient.NewVerifier()), sessionAAD(id, "verifier"))
	if err != nil {
		return Result{}, awserr.Internal(fmt.Errorf("seal PKCE verifier: %w", err))
	}
	now := f.cfg.Now()
	d := sessionDoc{
		Account: r.Caller.Account, Workload: r.Caller.Workload, UserID: r.Caller.UserID,
		Source: r.Caller.Source, ArtifactHash: r.Caller.ArtifactHash,
		Provider: r.Provider.Name, ProviderGen: r.Provider.CallbackID,
		Scopes:    oauthclient.NormalizeScopes(r.Scopes),
		Resources: oauthclient.NormalizeScopes(r.Resources), Audiences: oauthclient.NormalizeScopes(r.Audiences),
		ReturnURL: r.ReturnURL, CustomState: r.CustomState, CustomParameters: r.CustomParameters,
		Force: r.ForceAuthentication, RedirectURI: r.Provider.CallbackURL,
		Verifier: verifier, Status: statePending, CreatedAt: now,
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Result{}, awserr.Internal(err)
	}
	_, err = f.cfg.Store.Create(ctx, store.Record{Kind: SessionKind, Account: sessionScope, Key: id, Data: data,
		ExpiresAt: now.Add(f.cfg.SessionTTL)}, store.CreateOptions{})
	if err != nil {
		return Result{}, awserr.Internal(fmt.Errorf("create oauth2 session: %w", err))
	}
	uri := SessionURIPrefix + id
	return Result{AuthorizationURL: f.authorizationURL(uri), SessionURI: uri, SessionStatus: StatusInProgress}, nil
}

// loadSession reads a live session; found is false when there is none.
func (f *Flows) loadSession(ctx context.Context, id string) (sessionDoc, bool, error) {
	rec, err := f.cfg.Store.Get(ctx, SessionKind, sessionScope, id)
	if errors.Is(err, store.ErrNotFound) {
		return sessionDoc{}, false, nil
	}
	if err != nil {
		return sessionDoc{}, false, awserr.Internal(err)
	}
	var d sessionDoc
	if err := json.Unmarshal(rec.Data, &d); err != nil {
		return sessionDoc{}, false, awserr.Internal(fmt.Errorf("decode oauth2 session: %w", err))
	}
	return d, true, nil
}

// errSessionChanged aborts a session update whose session moved on since
// it was read.
var errSessionChanged = errors.New("tokenvault: session changed")

// updateSession applies fn to a session under its row lock.
func (f *Flows) updateSession(ctx context.Context, tx store.Tx, id string, fn func(*sessionDoc) error) (sessionDoc, error) {
	var out sessionDoc
	_, err := tx.Update(ctx, SessionKind, sessionScope, id, func(cur store.Record) (store.Record, error) {
		var d sessionDoc
		if err := json.Unmarshal(cur.Data, &d); err != nil {
			return cur, fmt.Errorf("decode oauth2 session: %w", err)
		}
		if err := fn(&d); err != nil {
			return cur, err
		}
		data, err := json.Marshal(d)
		if err != nil {
			return cur, err
		}
		cur.Data, out = data, d
		return cur, nil
	})
	return out, err
}

// SessionInfo is what CompleteResourceTokenAuth's handler needs to check
// the user identifier before completing.
type SessionInfo struct {
	Workload string
	UserID   string
	Provider string
	Source   wat.Source
}

// Session returns who started a session of account, after checking that
// artifact is the exact user token or user id that started it.
func (f *Flows) Session(ctx context.Context, account, sessionURI, artifact string) (SessionInfo, error) {
	id, ok := ParseSessionURI(sessionURI)
	if !ok {
		return SessionInfo{}, invalidSession()
	}
	d, found, err := f.loadSession(ctx, id)
	if err != nil {
		return SessionInfo{}, err
	}
	if !found || !d.matches(account, artifact) {
		return SessionInfo{}, invalidSession()
	}
	return SessionInfo{Workload: d.Workload, UserID: d.UserID, Provider: d.Provider, Source: d.Source}, nil
}

func (d sessionDoc) matches(account, artifact string) bool {
	return d.Account == account && wat.Claims{ArtifactHash: d.ArtifactHash}.MatchesArtifact(artifact)
}

// Complete binds a consented session to its user: artifact must be the
// exact user token or user id that started it. The tokens move from the
// session to the vault in one transaction. Completing a completed session
// again (a retried call) succeeds without change.
func (f *Flows) Complete(ctx context.Context, account, sessionURI, artifact string) error {
	id, ok := ParseSessionURI(sessionURI)
	if !ok {
		return invalidSession()
	}
	d, found, err := f.loadSession(ctx, id)
	if err != nil {
		return err
	}
	if !found || !d.matches(account, artifact) {
		return invalidSession()
	}
	switch d.Status {
	case stateCompleted:
		return nil
	case stateAuthorized:
	default:
		return invalidSession()
	}
	var g grant
	if err := f.openJSON(ctx, d.Tokens, sessionAAD(id, "tokens"), &g); err != nil {
		return awserr.Internal(fmt.Errorf("open session tokens: %w", err))
	}
	scope := userScope(d.Account, d.UserID, d.Provider)
	key := userKey(d.Workload, d.Scopes, d.Resources, d.Audiences)
	vd := userTokenDoc{
		Workload: d.Workload, UserID: d.UserID, Provider: d.Provider, ProviderGen: d.ProviderGen,
		Scopes: d.Scopes, Resources: d.Resources, Audiences: d.Audiences, Granted: g.Granted,
		ObtainedAt: g.ObtainedAt, Expiry: g.Expiry, HasRefresh: g.RefreshToken != "",
	}
	if vd.Sealed, err = f.seal(ctx, g.tokenSet, tokensAAD(scope, key)); err != nil {
		return awserr.Internal(fmt.Errorf("seal user token: %w", err))
	}
	data, err := json.Marshal(vd)
	if err != nil {
		return awserr.Internal(err)
	}
	rec := store.Record{Kind: UserTokenKind, Account: scope, Key: key, Data: data, ExpiresAt: recordExpiry(vd)}
	complete := func(tx store.Tx) error {
		if _, err := f.updateSession(ctx, tx, id, func(s *sessionDoc) error {
			if s.Status != stateAuthorized || !s.matches(account, artifact) {
				return invalidSession()
			}
			s.Status, s.Tokens, s.VaultKey = stateCompleted, nil, key
			return nil
		}); err != nil {
			return err
		}
		_, err := tx.Update(ctx, UserTokenKind, scope, key, func(store.Record) (store.Record, error) { return rec, nil })
		if errors.Is(err, store.ErrNotFound) {
			_, err = tx.Create(ctx, rec, store.CreateOptions{MaxCount: f.cfg.MaxUserTokens})
		}
		return err
	}
	err = f.cfg.Store.InTx(ctx, complete)
	if errors.Is(err, store.ErrConflict) {
		// Another session of the same user and scopes completed between our
		// update and create; now the update finds its record.
		err = f.cfg.Store.InTx(ctx, complete)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrLimitExceeded):
		return f.quotaErr(d.Provider)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errSessionChanged):
		return invalidSession() // expired or completed meanwhile
	default:
		return awserr.As(err)
	}
}
