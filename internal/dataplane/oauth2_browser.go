package dataplane

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/web"
)

// MountBrowser adds the unauthenticated routes a user's browser visits
// during a 3LO consent: our authorization URL, which forwards to the
// provider, and the provider's callback (with the provider's callback id,
// and the legacy form without one that older guides register).
func (h *Handlers) MountBrowser(mux *http.ServeMux, log *slog.Logger) {
	b := browser{flows: h.OAuth2, log: log}
	mux.HandleFunc("GET /identities/oauth2/authorize", b.authorize)
	mux.HandleFunc("GET /identities/oauth2/callback/{callbackId}", b.callback)
	mux.HandleFunc("GET /identities/oauth2/callback", b.callback)
}

type browser struct {
	flows *tokenvault.Flows
	log   *slog.Logger
}

func (b browser) authorize(w http.ResponseWriter, r *http.Request) {
	target, err := b.flows.Authorize(r.Context(), r.URL.Query().Get("request_uri"))
	if err != nil {
		b.fail(w, r, err)
		return
	}
	redirect(w, r, target)
}

func (b browser) callback(w http.ResponseWriter, r *http.Request) {
	target, err := b.flows.Callback(r.Context(), r.PathValue("callbackId"), r.URL.Query())
	if err != nil {
		b.fail(w, r, err)
		return
	}
	redirect(w, r, target)
}

// redirect sends the browser on without letting the URL it came from
// (which carries a code or state) reach the next site as a Referer.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}

// fail renders err as a page. Only BrowserError text is shown; anything
// else is an internal failure whose cause is logged, never displayed.
func (b browser) fail(w http.ResponseWriter, r *http.Request, err error) {
	var be *tokenvault.BrowserError
	if errors.As(err, &be) {
		if be.Cause != nil {
			b.log.WarnContext(r.Context(), "oauth2 browser request refused",
				slog.String("path", r.URL.Path), slog.String("title", be.Title), slog.String("error", be.Cause.Error()))
		}
		web.RenderError(w, web.ErrorPage{Status: be.Status, Title: be.Title, Message: be.Message})
		return
	}
	b.log.ErrorContext(r.Context(), "oauth2 browser request failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	web.RenderError(w, web.ErrorPage{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "The sign-in could not be completed because of an internal error. Ask the application to start it again."})
}
