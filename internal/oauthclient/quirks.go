package oauthclient

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
)

// quirkTransport adapts token requests and responses of vendors that depart
// from RFC 6749, so that x/oauth2 sees a standard exchange:
//
//   - every request asks for JSON (GitHub answers form-encoded otherwise;
//     x/oauth2 parses both, JSON keeps numbers typed) and names the client
//     (Reddit throttles anonymous User-Agents);
//   - JSONTokenRequest vendors (Notion) get the form body re-encoded as a
//     JSON object;
//   - UserTokenUnderAuthedUser vendors (Slack v2) have authed_user's token
//     fields lifted to the top level, where the user token belongs.
type quirkTransport struct {
	base      http.RoundTripper
	userAgent string
	quirks    credprovider.Quirks
}

func (t *quirkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", t.userAgent)
	if t.quirks.JSONTokenRequest && r.Method == http.MethodPost && r.Body != nil {
		if err := formToJSON(r); err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil || !t.quirks.UserTokenUnderAuthedUser {
		return resp, err
	}
	return liftAuthedUser(resp)
}

func formToJSON(r *http.Request) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	_ = r.Body.Close()
	if err != nil {
		return err
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return err
	}
	obj := make(map[string]string, len(form))
	for k := range form {
		obj[k] = form.Get(k)
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// liftAuthedUser rewrites a Slack oauth.v2.access response so that the
// user token under authed_user is the top-level token. Responses without
// one (errors, bot-only installs) pass through unchanged.
func liftAuthedUser(resp *http.Response) (*http.Response, error) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	out := raw
	var doc map[string]any
	if json.Unmarshal(raw, &doc) == nil {
		if user, ok := doc["authed_user"].(map[string]any); ok {
			if at, _ := user["access_token"].(string); at != "" {
				for _, k := range []string{"access_token", "refresh_token", "expires_in", "scope", "token_type"} {
					if v, ok := user[k]; ok {
						doc[k] = v
					} else {
						delete(doc, k) // never mix the bot's fields into the user's token
					}
				}
				if b, err := json.Marshal(doc); err == nil {
					out = b
				}
			}
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return resp, nil
}
