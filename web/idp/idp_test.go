package idp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const hostile = `"><script>alert(1)</script>`

func TestLoginPageEscapesAndCarriesCSRF(t *testing.T) {
	w := httptest.NewRecorder()
	RenderLogin(w, http.StatusUnauthorized, Login{Pool: "Pool" + hostile, Client: "App" + hostile,
		RequestID: "REQ" + hostile, CSRF: "TOKEN123", Username: hostile, Error: "Bad " + hostile})
	body := w.Body.String()
	if w.Code != http.StatusUnauthorized {
		t.Errorf("status = %d", w.Code)
	}
	if strings.Contains(body, "<script>") {
		t.Fatalf("unescaped input in page:\n%s", body)
	}
	for _, want := range []string{
		`name="csrf_token" value="TOKEN123"`,
		`&lt;script&gt;`,
		`method="post"`,
		`<label for="username">`, `<label for="password">`,
		`autocomplete="current-password"`,
		`role="alert"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "<link") {
		t.Error("page references external assets")
	}
	h := w.Header()
	for k, want := range map[string]string{
		"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff",
	} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestLoginPageWithoutError(t *testing.T) {
	w := httptest.NewRecorder()
	RenderLogin(w, http.StatusOK, Login{Pool: "p", Client: "c", RequestID: "r", CSRF: "t"})
	if strings.Contains(w.Body.String(), `role="alert"`) {
		t.Error("error box shown without an error")
	}
}

func TestConsentPageListsEscapedScopes(t *testing.T) {
	w := httptest.NewRecorder()
	RenderConsent(w, http.StatusOK, Consent{Client: "App", Username: "alice", RequestID: "R1", CSRF: "T1",
		Scopes: []string{"openid", "api/read" + hostile}})
	body := w.Body.String()
	if strings.Contains(body, "<script>") {
		t.Fatalf("unescaped scope:\n%s", body)
	}
	for _, want := range []string{"<code>openid</code>", `name="csrf_token" value="T1"`, `name="authRequestID" value="R1"`,
		`name="decision" value="allow"`, `name="decision" value="deny"`, "alice"} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
}
