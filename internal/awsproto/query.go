package awsproto

import (
	"context"
	"encoding/xml"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

// QueryOperation is one awsQuery action (STS, IAM).
type QueryOperation struct {
	Action string
	// Handle returns the members of <ActionResult> (an XML-marshalable
	// struct, or nil for actions with no output members).
	Handle func(ctx context.Context, form url.Values) (any, error)
}

// QueryService is one awsQuery service: its XML namespace, API version and
// actions.
type QueryService struct {
	Namespace string
	Version   string
	ops       map[string]QueryOperation
	log       *slog.Logger
}

// NewQueryService builds a dispatcher for one awsQuery service.
func NewQueryService(log *slog.Logger, namespace, version string, ops ...QueryOperation) *QueryService {
	s := &QueryService{Namespace: namespace, Version: version, ops: map[string]QueryOperation{}, log: log}
	for _, op := range ops {
		s.ops[op.Action] = op
	}
	return s
}

// Serve decodes the form body, dispatches on Action and writes the XML
// response or error.
func (s *QueryService) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		s.WriteError(w, r, awserr.New("InvalidAction", http.StatusBadRequest, "Unsupported method %s.", r.Method))
		return
	}
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
			s.WriteError(w, r, awserr.New("InvalidParameterValue", http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded."))
			return
		}
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			s.WriteError(w, r, awserr.New("MalformedQueryString", http.StatusBadRequest, "The request body is not a valid form encoding."))
			return
		}
	}
	action := form.Get("Action")
	op, ok := s.ops[action]
	if !ok {
		s.WriteError(w, r, awserr.New("InvalidAction", http.StatusBadRequest, "Could not find operation %q for version %s.", action, s.Version))
		return
	}
	if v := form.Get("Version"); v != "" && v != s.Version {
		s.WriteError(w, r, awserr.New("InvalidAction", http.StatusBadRequest, "Could not find operation %s for version %s.", action, v))
		return
	}
	out, err := op.Handle(r.Context(), form)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	s.writeResult(w, r, action, out)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// queryResult is the <ActionResult> element. Its members are the fields of
// Inner, directly: a plain struct field would add an <Inner> element that
// the SDKs skip as unknown, losing every member.
type queryResult struct {
	XMLName xml.Name
	Inner   any
}

// MarshalXML renders Inner's fields as children of <ActionResult>.
func (q queryResult) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(q.Inner, xml.StartElement{Name: q.XMLName})
}

func (s *QueryService) writeResult(w http.ResponseWriter, r *http.Request, action string, out any) {
	type result = queryResult
	type envelope struct {
		XMLName  xml.Name
		Xmlns    string           `xml:"xmlns,attr"`
		Result   *result          `xml:",omitempty"`
		Metadata responseMetadata `xml:"ResponseMetadata"`
	}
	env := envelope{
		XMLName:  xml.Name{Local: action + "Response"},
		Xmlns:    s.Namespace,
		Metadata: responseMetadata{RequestID: RequestID(r.Context())},
	}
	if out != nil {
		env.Result = &result{XMLName: xml.Name{Local: action + "Result"}, Inner: out}
	}
	b, err := xml.Marshal(env)
	if err != nil {
		s.WriteError(w, r, awserr.Internal(err))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// WriteError renders err as an awsQuery <ErrorResponse>.
func (s *QueryService) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteQueryError(w, r, s.log, s.Namespace, err)
}

// WriteQueryError renders err as an awsQuery <ErrorResponse> in namespace ns.
func WriteQueryError(w http.ResponseWriter, r *http.Request, log *slog.Logger, ns string, err error) {
	e := awserr.As(err)
	logError(r, log, e)
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	body := struct {
		XMLName   xml.Name  `xml:"ErrorResponse"`
		Xmlns     string    `xml:"xmlns,attr"`
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}{Xmlns: ns, Error: errorBody{Type: typ, Code: e.Code, Message: e.Message}, RequestID: RequestID(r.Context())}
	b, mErr := xml.Marshal(body)
	if mErr != nil {
		b = []byte("<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>")
	}
	w.Header().Set("Content-Type", "text/xml")
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
