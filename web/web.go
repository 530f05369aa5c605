// Package web holds the hosted pages the server shows to people in a
// browser (today: the error pages of the OAuth2 consent flow), as embedded
// templates with no external assets. Templates are html/template, so every
// value is escaped for its context.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
)

//go:embed templates/*.html
var files embed.FS

// pages is parsed once at start-up and only read afterwards.
var pages = template.Must(template.ParseFS(files, "templates/*.html"))

// ErrorPage is the content of an error page.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
}

// RenderError writes an error page.
func RenderError(w http.ResponseWriter, p ErrorPage) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "error.html", p); err != nil {
		http.Error(w, p.Title, p.Status)
		return
	}
	WriteHTML(w, p.Status, buf.Bytes())
}

// WriteHTML writes a rendered hosted page (rendered into a buffer first, so
// a template error never leaves half a page). Hosted pages are never
// cached or framed and send no referrer, since their URLs may carry a
// state, code or request id.
func WriteHTML(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// No form-action: browsers would apply it to the redirect to the
	// client's callback that follows a successful POST.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(page)
}
