package awsproto

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

type fuzzInput struct {
	Name  *string           `json:"name"`
	URLs  []string          `json:"allowedResourceOauth2ReturnUrls"`
	Tags  map[string]string `json:"tags"`
	Max   *int32            `json:"maxResults"`
	Flag  *bool             `json:"forceAuthentication"`
	Union *struct {
		A *struct{ B string } `json:"a"`
	} `json:"oauth2ProviderConfigInput"`
}

// FuzzDecode: any body either decodes or is a CannotParse ValidationException.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"x","tags":{"a":"b"}}`, `{"maxResults":1e99}`, `{"name":`, `[]`, `null`, `{"a":1}{"b":2}`, "\xff"} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/identities/X", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var in fuzzInput
		err := (&Request{HTTP: r, Body: body}).Decode(&in)
		if err == nil {
			return
		}
		var e *awserr.Error
		if !errors.As(err, &e) || e.Code != awserr.CodeValidation || e.Reason != awserr.ReasonCannotParse {
			t.Fatalf("decode error is not a CannotParse ValidationException: %v", err)
		}
	})
}

// FuzzMatch: routing never panics and a label never contains a raw '/'
// unless it was percent-encoded.
func FuzzMatch(f *testing.F) {
	rt := NewRouter(nil, []Operation{
		{Name: "Tags", Method: http.MethodGet, Path: "/tags/{resourceArn}"},
		{Name: "Invoke", Method: http.MethodPost, Path: "/runtimes/{arn}/invocations"},
		{Name: "Create", Method: http.MethodPost, Path: "/identities/CreateWorkloadIdentity"},
	})
	f.Add("GET", "/tags/arn%3Aaws%3Ax%2Fy")
	f.Add("POST", "/runtimes/a%2Fb/invocations")
	f.Add("POST", "//identities//CreateWorkloadIdentity")
	f.Add("GET", "/tags/%zz")
	f.Fuzz(func(t *testing.T, method, path string) {
		u, err := url.Parse("http://h" + path)
		if err != nil || !validMethod(method) {
			return
		}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}}
		op, labels, ok := rt.Match(r)
		if !ok {
			return
		}
		if op.Method != method {
			t.Fatalf("matched %s for method %s", op.Name, method)
		}
		for k, v := range labels {
			if v == "" {
				t.Fatalf("empty label %s", k)
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "DELETE":
		return true
	}
	return false
}

// FuzzQuery: any form body yields a well-formed XML response, a success
// for the known action or an ErrorResponse with a 4xx status.
func FuzzQuery(f *testing.F) {
	qs := NewQueryService(slog.New(slog.DiscardHandler), "https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15",
		QueryOperation{Action: "Echo", Handle: func(_ context.Context, form url.Values) (any, error) {
			if form.Get("Value") == "" {
				return nil, awserr.New("ValidationError", http.StatusBadRequest, "Value is required")
			}
			return struct {
				Value string `xml:"Value"`
			}{form.Get("Value")}, nil
		}})
	for _, s := range []string{"Action=Echo&Version=2011-06-15&Value=a%3Cb", "Action=Nope", "Action=Echo&Version=1999", "%zz", "Action=Echo&Value=\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		qs.Serve(w, r, []byte(body))
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code > 499) {
			t.Fatalf("status %d", w.Code)
		}
		var anyDoc struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &anyDoc); err != nil {
			t.Fatalf("response is not XML (%v): %q", err, w.Body.String())
		}
		if w.Code != http.StatusOK && anyDoc.XMLName.Local != "ErrorResponse" {
			t.Fatalf("error response root is %q", anyDoc.XMLName.Local)
		}
		if w.Code == http.StatusOK {
			// The SDKs read members as direct children of <ActionResult>.
			var ok struct {
				Result struct {
					Value string `xml:"Value"`
				} `xml:"EchoResult"`
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &ok); err != nil || ok.Result.Value == "" {
				t.Fatalf("success response lacks EchoResult/Value: %q", w.Body.String())
			}
		}
	})
}
