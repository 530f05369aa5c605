// Package idp holds the hosted pages of the built-in identity provider
// (internal/devidp): the sign-in and consent pages. They are embedded
// html/template files with no external assets, so every value is escaped
// for its context and the pages work offline.
package idp

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/agentcore-identity/agentcore/web"
)

//go:embed *.html
var files embed.FS

// pages is parsed once at start-up and only read afterwards.
var pages = template.Must(template.ParseFS(files, "*.html"))

// Login is the content of the sign-in page.
type Login struct {
	// Pool and Client name what the user signs in to.
	Pool, Client string
	// RequestID is the pending authorization request, CSRF the token the
	// form must post back.
	RequestID, CSRF string
	// Username refills the field after a failed attempt.
	Username string
	// Error is shown above the form.
	Error string
}

// Consent is the content of the consent page.
type Consent struct {
	Client, Username string
	Scopes           []string
	RequestID, CSRF  string
}

// RenderLogin writes the sign-in page.
func RenderLogin(w http.ResponseWriter, status int, p Login) { render(w, status, "login.html", p) }

// RenderConsent writes the consent page.
func RenderConsent(w http.ResponseWriter, status int, p Consent) {
	render(w, status, "consent.html", p)
}

// render buffers the page and writes it with the hosted pages' headers.
func render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return
	}
	web.WriteHTML(w, status, buf.Bytes())
}
