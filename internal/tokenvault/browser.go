package tokenvault

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// Query parameters added to the resourceOauth2ReturnUrl when the browser
// is sent back to the application.
const (
	ReturnSessionParam = "session_id"
	ReturnStateParam   = "custom_state"
	ReturnErrorParam   = "error"
)

// BrowserError is a failure of a browser leg, shown as an HTML page. Title
// and Message are fixed text, safe to show; Cause is only logged.
type BrowserError struct {
	Status  int
	Title   string
	Message string
	Cause   error
}

func (e *BrowserError) Error() string {
	if e.Cause != nil {
		return e.Title + ": " + e.Cause.Error()
	}
	return e.Title
}

func (e *BrowserError) Unwrap() error { return e.Cause }

func invalidRequest(msg string) *BrowserError {
	return &BrowserError{Status: http.StatusBadRequest, Title: "Invalid request", Message: msg}
}

func providerUnavailable(cause error) *BrowserError {
	return &BrowserError{Status: http.StatusBadGateway, Title: "Sign-in is unavailable", Cause: cause,
		Message: "The identity provider could not be reached. Ask the application to start the sign-in again later."}
}

const (
	msgUsedOrExpired = "This sign-in link has already been used or has expired. Ask the application for a new one."
	msgBadCallback   = "This sign-in response is not valid: it is unknown or was already used."
)

// Authorize opens a session's authorization URL, once: it returns the
// provider's authorization URL to redirect the browser to.
func (f *Flows) Authorize(ctx context.Context, requestURI string) (string, error) {
	id, ok := ParseSessionURI(requestURI)
	if !ok {
		return "", invalidRequest("The sign-in link is malformed.")
	}
	d, found, err := f.loadSession(ctx, id)
	if err != nil {
		return "", err
	}
	if !found || d.Status != statePending {
		return "", invalidRequest(msgUsedOrExpired)
	}
	p, ep, err := f.sessionProvider(ctx, d)
	if err != nil {
		return "", err
	}
	verifier, err := f.open(ctx, d.Verifier, sessionAAD(id, "verifier"))
	if err != nil {
		return "", fmt.Errorf("open PKCE verifier: %w", err)
	}
	secret := randomID(32)
	state := id + "." + secret
	target, err := oauthclient.AuthCodeURL(p, ep, oauthclient.AuthRequest{
		State: state, Verifier: string(verifier), RedirectURI: d.RedirectURI,
		Scopes: d.Scopes, Resources: d.Resources, Audiences: d.Audiences, CustomParameters: d.CustomParameters,
	})
	if err != nil {
		return "", providerUnavailable(err)
	}
	_, err = f.updateSession(ctx, f.cfg.Store, id, func(s *sessionDoc) error {
		if s.Status != statePending {
			return errSessionChanged // opened concurrently: single use
		}
		s.Status, s.StateHash = stateAuthorizing, hashHex(secret)
		return nil
	})
	if errors.Is(err, errSessionChanged) || errors.Is(err, store.ErrNotFound) {
		return "", invalidRequest(msgUsedOrExpired)
	}
	if err != nil {
		return "", err
	}
	return target, nil
}

// sessionProvider resolves the provider of a session, refusing one that
// was deleted (and maybe re-created) since the session started.
func (f *Flows) sessionProvider(ctx context.Context, d sessionDoc) (credprovider.OAuth2Provider, oauthclient.Endpoints, error) {
	p, err := f.cfg.Providers.ResolveOAuth2(ctx, d.Account, d.Provider)
	if err != nil || p.CallbackID != d.ProviderGen {
		return p, oauthclient.Endpoints{}, &BrowserError{Status: http.StatusBadRequest, Title: "Invalid request", Cause: err,
			Message: "The credential provider of this sign-in no longer exists."}
	}
	ep, err := f.cfg.Client.Endpoints(ctx, p)
	if err != nil {
		return p, oauthclient.Endpoints{}, providerUnavailable(err)
	}
	return p, ep, nil
}

func splitState(state string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(state, ".")
	return id, secret, ok && sessionIDRE.MatchString(id) && sessionIDRE.MatchString(secret)
}

// errorCodeRE bounds what a provider's error code may look like before it
// is echoed to the return URL.
var errorCodeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Callback receives the provider's redirect. callbackID is the provider's
// callback id from the path ("" for the legacy path without one). A callback that does not
// match a session waiting for it is refused and changes nothing. On
// success the tokens are held in the session and the browser goes back to
// the application's return URL.
func (f *Flows) Callback(ctx context.Context, callbackID string, q url.Values) (string, error) {
	id, secret, ok := splitState(q.Get("state"))
	if !ok {
		return "", invalidRequest(msgBadCallback)
	}
	valid := func(s *sessionDoc) bool {
		return s.Status == stateAuthorizing &&
			subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(s.StateHash)) == 1 &&
			(callbackID == "" || callbackID == s.ProviderGen)
	}
	d, found, err := f.loadSession(ctx, id)
	if err != nil {
		return "", err
	}
	if !found || !valid(&d) {
		return "", invalidRequest(msgBadCallback)
	}
	code := q.Get("code")
	if e := q.Get("error"); e != "" || code == "" {
		if !errorCodeRE.MatchString(e) {
			e = "invalid_request"
		}
		return f.fail(ctx, id, stateAuthorizing, valid, e)
	}
	// Claim the callback: of concurrent or replayed deliveries of one
	// state, exactly one gets past this point.
	d, err = f.updateSession(ctx, f.cfg.Store, id, func(s *sessionDoc) error {
		if !valid(s) {
			return errSessionChanged
		}
		s.Status = stateExchanging
		return nil
	})
	if errors.Is(err, errSessionChanged) || errors.Is(err, store.ErrNotFound) {
		return "", invalidRequest(msgBadCallback)
	}
	if err != nil {
		return "", err
	}
	g, err := f.exchange(ctx, id, d, code)
	if err != nil {
		var oe *oauthclient.Error
		reason := "server_error"
		if errors.As(err, &oe) && oe.Rejected() && errorCodeRE.MatchString(oe.Code) {
			reason = oe.Code
		}
		f.log.WarnContext(ctx, "authorization code exchange failed", slog.String("provider", d.Provider), slog.String("error", err.Error()))
		return f.fail(ctx, id, stateExchanging, nil, reason)
	}
	sealed, err := f.seal(ctx, g, sessionAAD(id, "tokens"))
	if err != nil {
		return "", fmt.Errorf("seal session tokens: %w", err)
	}
	d, err = f.updateSession(ctx, f.cfg.Store, id, func(s *sessionDoc) error {
		if s.Status != stateExchanging {
			return errSessionChanged
		}
		s.Status, s.Tokens = stateAuthorized, sealed
		return nil
	})
	if errors.Is(err, errSessionChanged) || errors.Is(err, store.ErrNotFound) {
		return "", invalidRequest(msgUsedOrExpired)
	}
	if err != nil {
		return "", err
	}
	return returnTo(id, d, ""), nil
}

func (f *Flows) exchange(ctx context.Context, id string, d sessionDoc, code string) (grant, error) {
	p, ep, err := f.sessionProvider(ctx, d)
	if err != nil {
		return grant{}, err
	}
	verifier, err := f.open(ctx, d.Verifier, sessionAAD(id, "verifier"))
	if err != nil {
		return grant{}, fmt.Errorf("open PKCE verifier: %w", err)
	}
	t, err := f.cfg.Client.Exchange(ctx, p, ep, code, string(verifier), d.RedirectURI, d.Scopes)
	if err != nil {
		return grant{}, err
	}
	return grant{
		tokenSet:   tokenSet{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType},
		Granted:    t.Scopes,
		ObtainedAt: t.ObtainedAt,
		Expiry:     t.Expiry,
	}, nil
}

// fail marks a session failed (if it is still in state from and, when
// given, valid) and sends the browser back with the error code.
func (f *Flows) fail(ctx context.Context, id, from string, valid func(*sessionDoc) bool, reason string) (string, error) {
	d, err := f.updateSession(ctx, f.cfg.Store, id, func(s *sessionDoc) error {
		if s.Status != from || (valid != nil && !valid(s)) {
			return errSessionChanged
		}
		s.Status, s.Failure = stateFailed, reason
		return nil
	})
	if errors.Is(err, errSessionChanged) || errors.Is(err, store.ErrNotFound) {
		return "", invalidRequest(msgBadCallback)
	}
	if err != nil {
		return "", err
	}
	return returnTo(id, d, reason), nil
}

// returnTo is the application's return URL with the session id, the
// caller's custom state and, on failure, the error code added to its query.
func returnTo(id string, d sessionDoc, errCode string) string {
	u, err := url.Parse(d.ReturnURL)
	if err != nil {
		return d.ReturnURL // validated when the session started; cannot happen
	}
	q := u.Query()
	q.Set(ReturnSessionParam, SessionURIPrefix+id)
	if d.CustomState != "" {
		q.Set(ReturnStateParam, d.CustomState)
	}
	if errCode != "" {
		q.Set(ReturnErrorParam, errCode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
