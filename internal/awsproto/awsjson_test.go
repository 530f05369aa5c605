package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

func newTestJSONService() *JSONService {
	return NewJSONService(nil, "TestService",
		JSONOperation{Name: "Echo", Handle: func(_ context.Context, req *Request) (any, error) {
			var in struct{ Name string }
			if err := req.Decode(&in); err != nil {
				return nil, err
			}
			return map[string]string{"Hello": in.Name}, nil
		}},
		JSONOperation{Name: "Fail", Handle: func(context.Context, *Request) (any, error) {
			return nil, awserr.New("NotAuthorizedException", http.StatusBadRequest, "Incorrect username or password.")
		}},
		JSONOperation{Name: "Crash", Handle: func(context.Context, *Request) (any, error) {
			return nil, errors.New("database password is hunter2")
		}},
	)
}

func callJSON(s *JSONService, method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", ContentTypeJSON11)
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	w := httptest.NewRecorder()
	s.Serve(w, r, []byte(body))
	return w
}

func TestJSONServiceDispatch(t *testing.T) {
	s := newTestJSONService()
	w := callJSON(s, http.MethodPost, "TestService.Echo", `{"Name":"alice"}`)
	if w.Code != 200 || w.Body.String() != `{"Hello":"alice"}` || w.Header().Get("Content-Type") != ContentTypeJSON11 {
		t.Errorf("Echo = %d %s %q", w.Code, w.Body, w.Header().Get("Content-Type"))
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Amz-Target", "TestService.Echo")
	if s.Operation(r) != "Echo" {
		t.Error("Operation does not name a known target")
	}
	for _, target := range []string{"OtherService.Echo", "TestService.Nope", "TestServiceEcho", "Echo"} {
		r.Header.Set("X-Amz-Target", target)
		if s.Operation(r) != "" {
			t.Errorf("Operation(%q) matched", target)
		}
	}
	if got := s.Targets("A", "B"); strings.Join(got, ",") != "TestService.A,TestService.B" {
		t.Errorf("Targets = %v", got)
	}
}

func TestJSONServiceErrors(t *testing.T) {
	s := newTestJSONService()
	for name, tc := range map[string]struct {
		method, target, body string
		status               int
		code                 string
	}{
		"modeled":        {http.MethodPost, "TestService.Fail", `{}`, 400, "NotAuthorizedException"},
		"unknown target": {http.MethodPost, "TestService.Nope", `{}`, 400, awserr.CodeUnknownOperation},
		"no target":      {http.MethodPost, "", `{}`, 400, awserr.CodeUnknownOperation},
		"GET":            {http.MethodGet, "TestService.Echo", ``, 400, awserr.CodeUnknownOperation},
		"bad JSON":       {http.MethodPost, "TestService.Echo", `{"Name":`, 400, awserr.CodeValidation},
		"internal":       {http.MethodPost, "TestService.Crash", `{}`, 500, awserr.CodeInternal},
	} {
		w := callJSON(s, tc.method, tc.target, tc.body)
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q: %v", name, w.Body, err)
		}
		if w.Code != tc.status || body.Type != tc.code || w.Header().Get("X-Amzn-ErrorType") != tc.code || body.Message == "" {
			t.Errorf("%s: %d %+v header %q", name, w.Code, body, w.Header().Get("X-Amzn-ErrorType"))
		}
		if strings.Contains(w.Body.String(), "hunter2") {
			t.Errorf("%s: internal cause leaked: %s", name, w.Body)
		}
	}
}
