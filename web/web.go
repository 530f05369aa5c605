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

// RenderError writes an error page. It is never cached or framed, and
// sends no referrer, so the URL (which may carry a state or code) does not
// leak to other sites.
func RenderError(w http.ResponseWriter, p ErrorPage) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "error.html", p); err != nil {
		http.Error(w, p.Title, p.Status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(p.Status)
	_, _ = w.Write(buf.Bytes())
}
