package sts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/principal"
)

// awsQuery namespaces and API versions of the two services.
const (
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	STSVersion   = "2011-06-15"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	IAMVersion   = "2010-05-08"
)

// Handlers maps the awsQuery wire to the federation and token services.
type Handlers struct {
	Federation *Federation
	Tokens     *Tokens
}

// STS returns the sts query service.
func (h *Handlers) STS(log *slog.Logger) *awsproto.QueryService {
	return awsproto.NewQueryService(log, STSNamespace, STSVersion,
		awsproto.QueryOperation{Action: "GetWebIdentityToken", Handle: h.getWebIdentityToken},
		awsproto.QueryOperation{Action: "GetCallerIdentity", Handle: h.getCallerIdentity},
	)
}

// IAM returns the iam query service (only the federation switch).
func (h *Handlers) IAM(log *slog.Logger) *awsproto.QueryService {
	return awsproto.NewQueryService(log, IAMNamespace, IAMVersion,
		awsproto.QueryOperation{Action: "EnableOutboundWebIdentityFederation", Handle: h.enable},
		awsproto.QueryOperation{Action: "DisableOutboundWebIdentityFederation", Handle: h.disable},
		awsproto.QueryOperation{Action: "GetOutboundWebIdentityFederationInfo", Handle: h.info},
	)
}

// Result members. Element names are the SDK member names.
type (
	webIdentityTokenResult struct {
		WebIdentityToken string `xml:"WebIdentityToken"`
		Expiration       string `xml:"Expiration"`
	}
	callerIdentityResult struct {
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
		Arn     string `xml:"Arn"`
	}
	enableResult struct {
		IssuerIdentifier string `xml:"IssuerIdentifier"`
	}
	infoResult struct {
		IssuerIdentifier  string `xml:"IssuerIdentifier"`
		JwtVendingEnabled bool   `xml:"JwtVendingEnabled"`
	}
)

// isoTime is the awsQuery timestamp format (ISO 8601, UTC).
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func caller(ctx context.Context) (principal.Principal, error) {
	p, ok := principal.From(ctx)
	if !ok {
		return principal.Principal{}, awserr.Internal(errors.New("sts: request reached a handler unauthenticated"))
	}
	return p, nil
}

func (h *Handlers) getWebIdentityToken(ctx context.Context, form url.Values) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	req, err := decodeTokenRequest(form)
	if err != nil {
		return nil, err
	}
	// The audit record names what the token is for.
	audit.Note(ctx, audit.Details{Resource: strings.Join(req.Audiences, " ")})
	tok, err := h.Tokens.GetWebIdentityToken(ctx, p, req)
	if err != nil {
		return nil, err
	}
	return webIdentityTokenResult{WebIdentityToken: tok.JWT, Expiration: isoTime(tok.Expiration)}, nil
}

func (h *Handlers) getCallerIdentity(ctx context.Context, _ url.Values) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return callerIdentityResult{UserID: p.UserID, Account: p.AccountID, Arn: p.ARN}, nil
}

// adminOnly stands in for IAM policy on the account-wide switch: only the
// account's admin keys may turn federation on or off.
func adminOnly(ctx context.Context, action string) (principal.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return p, err
	}
	if !p.Admin {
		return p, accessDenied(p, action, " on resource: *")
	}
	return p, nil
}

func (h *Handlers) enable(ctx context.Context, _ url.Values) (any, error) {
	p, err := adminOnly(ctx, "iam:EnableOutboundWebIdentityFederation")
	if err != nil {
		return nil, err
	}
	iss, err := h.Federation.Enable(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	return enableResult{IssuerIdentifier: iss}, nil
}

func (h *Handlers) disable(ctx context.Context, _ url.Values) (any, error) {
	p, err := adminOnly(ctx, "iam:DisableOutboundWebIdentityFederation")
	if err != nil {
		return nil, err
	}
	return nil, h.Federation.Disable(ctx, p.AccountID)
}

// info is readable by every key of the account: the issuer URL is public.
func (h *Handlers) info(ctx context.Context, _ url.Values) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	fi, err := h.Federation.Info(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	return infoResult{IssuerIdentifier: fi.IssuerURL, JwtVendingEnabled: fi.Enabled}, nil
}

// decodeTokenRequest reads the GetWebIdentityToken form members. Only
// encoding problems are reported here; constraints are the domain's.
func decodeTokenRequest(form url.Values) (TokenRequest, error) {
	var req TokenRequest
	var err error
	if req.Audiences, err = formList(form, "Audience"); err != nil {
		return req, err
	}
	if v, ok := formValue(form, "SigningAlgorithm"); ok {
		req.SigningAlgorithm = &v
	}
	if v, ok := formValue(form, "DurationSeconds"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return req, queryValidation(awserr.Field(awserr.FieldError{Name: "durationSeconds", Message: "Member must be an integer"}))
		}
		d := int32(n)
		req.DurationSeconds = &d
	}
	entries, err := formStructList(form, "Tags")
	if err != nil {
		return req, err
	}
	for i, e := range entries {
		key, hasKey := e["Key"]
		val, hasVal := e["Value"]
		if !hasKey || !hasVal {
			member := "key"
			if hasKey {
				member = "value"
			}
			return req, queryValidation(awserr.Field(awserr.FieldError{
				Name: fmt.Sprintf("tags.%d.member.%s", i+1, member), Message: "Member must not be null"}))
		}
		req.Tags = append(req.Tags, Tag{Key: key, Value: val})
	}
	return req, nil
}

func formValue(form url.Values, key string) (string, bool) {
	v, ok := form[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// formList decodes an awsQuery list of strings: Name.member.1, .2, ... An
// empty list arrives as "Name=" and decodes to a non-nil empty slice; an
// absent list decodes to nil.
func formList(form url.Values, name string) ([]string, error) {
	idx, err := memberIndexes(form, name, false)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		if _, ok := form[name]; ok {
			return []string{}, nil
		}
		return nil, nil
	}
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, form.Get(fmt.Sprintf("%s.member.%d", name, n)))
	}
	return out, nil
}

// formStructList decodes an awsQuery list of structures:
// Name.member.N.Field, in index order.
func formStructList(form url.Values, name string) ([]map[string]string, error) {
	idx, err := memberIndexes(form, name, true)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, 0, len(idx))
	for _, n := range idx {
		prefix := fmt.Sprintf("%s.member.%d.", name, n)
		m := map[string]string{}
		for k, v := range form {
			if field, ok := strings.CutPrefix(k, prefix); ok && len(v) > 0 {
				m[field] = v[0]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// memberIndexes returns the distinct indexes N of Name.member.N[.Field],
// sorted. Indexes must be positive integers.
func memberIndexes(form url.Values, name string, structs bool) ([]int, error) {
	seen := map[int]bool{}
	prefix := name + ".member."
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, field, hasField := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > 1000 || hasField != structs || (structs && field == "") {
			return nil, queryValidation(awserr.Field(awserr.FieldError{
				Name: strings.ToLower(name[:1]) + name[1:], Message: fmt.Sprintf("Malformed list member %q", k)}))
		}
		seen[n] = true
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out, nil
}
