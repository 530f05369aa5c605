package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
)

// audited reports whether an operation leaves an audit record: every
// credential vend and every change; plain reads do not.
func audited(operation string) bool {
	if tokenOperations[operation] {
		return true
	}
	return operation != "" && !strings.HasPrefix(operation, "Get") && !strings.HasPrefix(operation, "List")
}

// bufferedResponse holds a response until its audit record is written, so
// that a credential is never delivered without one (fail closed).
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// errorCode extracts the AWS error code of a buffered error response
// (restJson header, or awsQuery <Error><Code>).
func (b *bufferedResponse) errorCode() string {
	if c := b.header.Get("X-Amzn-ErrorType"); c != "" {
		return c
	}
	var q struct {
		Code string `xml:"Error>Code"`
	}
	if xml.Unmarshal(b.body.Bytes(), &q) == nil {
		return q.Code
	}
	return ""
}

func outcome(status int, code string) string {
	switch {
	case status < 300:
		return audit.OutcomeSuccess
	case status == http.StatusForbidden || status == http.StatusUnauthorized || status == http.StatusTooManyRequests ||
		code == "Throttling" || code == "AccessDenied":
		return audit.OutcomeDenied
	default:
		return audit.OutcomeFailed
	}
}

// resourceName is the "name" member of a JSON request body, which names
// the subject of every control-plane change.
func resourceName(body []byte) string {
	// Most audited bodies (every credential vend) have no such member;
	// tell so without decoding them. encoding/json matches a member name
	// after unescaping it, ignoring case (no letter of "name" has a
	// non-ASCII case fold), so without a backslash only a literal "name",
	// in some ASCII case, can be one. TestResourceName and
	// FuzzResourceName hold this to the decoder.
	if bytes.IndexByte(body, '\\') < 0 && !hasQuotedName(body) {
		return ""
	}
	var in struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(body, &in) == nil {
		return in.Name
	}
	return ""
}

// hasQuotedName reports whether body holds "name" in any ASCII case.
func hasQuotedName(body []byte) bool {
	const quoted = len(`"name"`)
	for i := bytes.IndexByte(body, '"'); i >= 0 && i+quoted <= len(body); {
		if body[i+quoted-1] == '"' && bytes.EqualFold(body[i+1:i+quoted-1], []byte("name")) {
			return true
		}
		j := bytes.IndexByte(body[i+1:], '"')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// auditAppendTimeout bounds an audit append once the request it records
// no longer bounds it.
const auditAppendTimeout = 30 * time.Second

// serveAudited runs serve with the response held back, appends the audit
// event, and only then releases the response. If the audit write fails the
// client gets an InternalServerException instead of the result.
func (s *Server) serveAudited(w http.ResponseWriter, r *http.Request, body []byte, serve func(http.ResponseWriter, *http.Request), writeErr func(http.ResponseWriter, *http.Request, error)) {
	info := infoFrom(r.Context())
	if !audited(info.operation) {
		serve(w, r)
		return
	}
	ctx, details := audit.WithDetails(r.Context())
	r = r.WithContext(ctx)
	p, _ := principal.From(ctx)
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ev := audit.Event{
		Account: p.AccountID, Principal: p.ARN, AccessKeyID: p.AccessKeyID,
		Service: info.service, Operation: info.operation,
		RequestID: awsproto.RequestID(ctx), SourceIP: host,
	}
	// A change is announced before it is made, so that a process killed
	// between the change and its record still leaves a record (Recover).
	// A vend needs no such note: its credential is released only once the
	// record is stored.
	var intent audit.Intent
	change := !tokenOperations[info.operation]
	if change {
		if info.service == restService {
			ev.Resource = resourceName(body) // the intent names its subject
		}
		if intent, err = s.audit.Begin(ctx, ev); err != nil {
			writeErr(w, r, awserr.Internal(err))
			return
		}
	}
	buf := &bufferedResponse{header: http.Header{}}
	serve(buf, r)

	if buf.status >= 300 {
		ev.ErrorCode = buf.errorCode()
	}
	ev.Outcome = outcome(buf.status, ev.ErrorCode)
	ev.Workload, ev.User, ev.Provider = details.Workload, details.User, details.Provider
	switch {
	case details.Resource != "":
		ev.Resource = details.Resource
	case !change && info.service == restService:
		ev.Resource = resourceName(body)
	}
	// The change, if any, is committed by now: a client hanging up must not
	// cost its audit record, so the append outlives the request (bounded).
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditAppendTimeout)
	defer cancel()
	if change {
		_, err = s.audit.AppendFor(actx, intent, ev)
	} else {
		_, err = s.audit.Append(actx, ev)
	}
	if err != nil {
		writeErr(w, r, awserr.Internal(err))
		return
	}
	if tokenOperations[info.operation] && buf.status < 300 {
		s.metrics.Vends.WithLabelValues(info.operation).Inc()
	}
	buf.flushTo(w)
}
