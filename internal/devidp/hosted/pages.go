package hosted

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/devidp"
	"github.com/agentcore-identity/agentcore/internal/devidp/docs"
	"github.com/agentcore-identity/agentcore/web"
	"github.com/agentcore-identity/agentcore/web/idp"
)

// Cookies of the hosted pages, scoped to one pool's path.
const (
	csrfCookie    = "devidp_csrf"
	sessionCookie = "devidp_session"
)

// pages are the hosted login and consent pages.
type pages struct {
	p  *Provider
	op *op.Provider
}

// session is a signed-in browser: later authorization requests of the
// same pool skip the password, as with Cognito's hosted UI.
type session struct {
	Subject  string    `json:"subject"`
	Username string    `json:"username"`
	AuthTime time.Time `json:"authTime"`
}

func (pg *pages) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: devidp.PathPrefix + poolFrom(r.Context()).ID + "/",
		MaxAge: maxAge, HttpOnly: true, Secure: r.TLS != nil || pg.p.https, SameSite: http.SameSiteLaxMode}
}

// csrfToken returns the browser's CSRF token, issuing one if needed. The
// token is double-submitted (cookie and form field): a cross-site form
// cannot read or set the cookie, so it cannot post a matching field.
func (pg *pages) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 26 {
		return c.Value
	}
	tok := rand.Text()
	http.SetCookie(w, pg.cookie(r, csrfCookie, tok, int(sessionTTL/time.Second)))
	return tok
}

func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	form := r.PostForm.Get("csrf_token")
	return err == nil && form != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) == 1
}

// begin loads the pending request named in the query (GET) or form (POST)
// and vets the method and CSRF token; it answers the request itself when
// it returns nil.
func (pg *pages) begin(w http.ResponseWriter, r *http.Request) *authRequest {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil
	}
	id := r.URL.Query().Get(reqParam)
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			errorPage(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return nil
		}
		if !csrfOK(r) {
			errorPage(w, http.StatusForbidden, "Request refused", "The form expired or did not come from this site. Go back and try again.")
			return nil
		}
		if f := r.PostForm.Get(reqParam); f != "" {
			id = f
		}
	}
	a, err := pg.p.authRequest(r.Context(), poolFrom(r.Context()).ID, id)
	if err != nil || a.Consented {
		errorPage(w, http.StatusBadRequest, "Sign-in expired", "This sign-in request is unknown, finished or expired. Start again from the application.")
		return nil
	}
	return a
}

func errorPage(w http.ResponseWriter, status int, title, msg string) {
	web.RenderError(w, web.ErrorPage{Status: status, Title: title, Message: msg})
}

func (pg *pages) pageURL(r *http.Request, path, id string) string {
	return devidp.PathPrefix + poolFrom(r.Context()).ID + path + "?" + reqParam + "=" + url.QueryEscape(id)
}

func (pg *pages) login(w http.ResponseWriter, r *http.Request) {
	a := pg.begin(w, r)
	if a == nil {
		return
	}
	ctx := r.Context()
	pool := poolFrom(ctx)
	if r.Method == http.MethodGet {
		if c, err := r.Cookie(sessionCookie); err == nil {
			var sess session
			if _, err := docs.Get(ctx, pg.p.st, kindSession, pool.ID+"/"+devidp.HashToken(c.Value), &sess); err == nil {
				pg.signedIn(w, r, a, sess)
				return
			}
		}
		pg.renderLogin(w, r, a, http.StatusOK, "", "")
		return
	}
	username := r.PostForm.Get("username")
	u, err := pg.p.idp.Authenticate(ctx, pool.ID, username, r.PostForm.Get("password"))
	if awserr.IsCode(err, devidp.CodeNotAuthorized) {
		pg.renderLogin(w, r, a, http.StatusUnauthorized, username, awserr.As(err).Message)
		return
	}
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	sess := session{Subject: u.Sub, Username: u.Username, AuthTime: pg.p.now().UTC()}
	tok := rand.Text() + rand.Text()
	if err := pg.p.create(ctx, kindSession, pool.ID+"/"+devidp.HashToken(tok), sess, sessionTTL); err != nil {
		pg.fail(w, r, err)
		return
	}
	http.SetCookie(w, pg.cookie(r, sessionCookie, tok, int(sessionTTL/time.Second)))
	pg.signedIn(w, r, a, sess)
}

// signedIn binds the user to the request and moves on to consent.
func (pg *pages) signedIn(w http.ResponseWriter, r *http.Request, a *authRequest, sess session) {
	_, err := docs.Update(r.Context(), pg.p.st, kindAuthReq, a.PoolID+"/"+a.ID, func(cur *authRequest) error {
		cur.Subject, cur.Username, cur.AuthTime = sess.Subject, sess.Username, sess.AuthTime
		return nil
	})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	http.Redirect(w, r, pg.pageURL(r, consentPath, a.ID), http.StatusSeeOther)
}

func (pg *pages) renderLogin(w http.ResponseWriter, r *http.Request, a *authRequest, status int, username, msg string) {
	c, err := pg.p.idp.ClientByID(r.Context(), a.ClientID)
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	idp.RenderLogin(w, status, idp.Login{Pool: poolFrom(r.Context()).Name, Client: c.Name, RequestID: a.ID,
		CSRF: pg.csrfToken(w, r), Username: username, Error: msg})
}

func (pg *pages) consent(w http.ResponseWriter, r *http.Request) {
	a := pg.begin(w, r)
	if a == nil {
		return
	}
	if a.Subject == "" {
		http.Redirect(w, r, pg.pageURL(r, loginPath, a.ID), http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodGet {
		c, err := pg.p.idp.ClientByID(r.Context(), a.ClientID)
		if err != nil {
			pg.fail(w, r, err)
			return
		}
		idp.RenderConsent(w, http.StatusOK, idp.Consent{Client: c.Name, Username: a.Username,
			Scopes: devidp.TokenScopes(a.Scopes), RequestID: a.ID, CSRF: pg.csrfToken(w, r)})
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the user denied access"), pg.op)
		return
	}
	_, err := docs.Update(r.Context(), pg.p.st, kindAuthReq, a.PoolID+"/"+a.ID, func(cur *authRequest) error {
		cur.Consented = true
		return nil
	})
	if err != nil {
		pg.fail(w, r, err)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(pg.op)(r.Context(), a.ID), http.StatusSeeOther)
}

func (pg *pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	pg.p.log.ErrorContext(r.Context(), "hosted: page", "error", err.Error())
	errorPage(w, http.StatusInternalServerError, "Something went wrong", "Try again in a moment.")
}
