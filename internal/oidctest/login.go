package oidctest

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// The login page: the library redirects the browser here with the pending
// auth request's id, the form posts username and password back, and a
// successful sign-in continues at the library's callback, which issues the
// code.
const (
	loginPath         = "/login"
	loginRequestParam = "authRequestID"
)

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Sign in</title></head><body>
<h1>Sign in</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form method="post" action="">
<input type="hidden" name="id" value="{{.ID}}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>
`))

func (p *Provider) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		id := r.URL.Query().Get(loginRequestParam)
		if !p.pending(id) {
			http.Error(w, "unknown or expired authorization request", http.StatusBadRequest)
			return
		}
		p.renderLogin(w, http.StatusOK, id, "")
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id := r.PostForm.Get("id")
		if id == "" {
			id = r.URL.Query().Get(loginRequestParam)
		}
		switch p.signIn(id, r.PostForm.Get("username"), r.PostForm.Get("password")) {
		case loginOK:
			http.Redirect(w, r, op.AuthCallbackURL(p.op)(r.Context(), id), http.StatusFound)
		case loginUnknownRequest:
			http.Error(w, "unknown or expired authorization request", http.StatusBadRequest)
		default:
			p.renderLogin(w, http.StatusUnauthorized, id, "Incorrect username or password.")
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *Provider) renderLogin(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginForm.Execute(w, struct{ ID, Error string }{id, msg})
}

func (p *Provider) pending(id string) bool {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	a, ok := p.st.authReqs[id]
	return ok && !a.done && time.Since(a.created) <= authRequestLifetime
}

type loginResult int

const (
	loginOK loginResult = iota
	loginUnknownRequest
	loginBadCredentials
)

func (p *Provider) signIn(id, username, password string) loginResult {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	a, ok := p.st.authReqs[id]
	if !ok || a.done || time.Since(a.created) > authRequestLifetime {
		return loginUnknownRequest
	}
	u, ok := p.st.users[username]
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return loginBadCredentials
	}
	a.subject, a.authTime, a.done = u.Subject, time.Now(), true
	return loginOK
}
