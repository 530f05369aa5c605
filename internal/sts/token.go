package sts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/awserr"
	"github.com/agentcore-identity/agentcore/internal/principal"
	"github.com/agentcore-identity/agentcore/internal/signer"
	"github.com/agentcore-identity/agentcore/internal/validate"
)

// awsQuery error codes of STS and IAM, as the SDKs match them.
const (
	CodeValidationError    = "ValidationError"
	CodeAccessDenied       = "AccessDenied"
	CodeFederationDisabled = "OutboundWebIdentityFederationDisabledException"
	CodePayloadTooLarge    = "JWTPayloadSizeExceededException"
	CodeFeatureEnabled     = "FeatureEnabled"
	CodeFeatureDisabled    = "FeatureDisabled"
)

// GetWebIdentityToken limits (STS API reference).
const (
	MinDuration     = 60
	MaxDuration     = 3600
	DefaultDuration = 300
	MaxAudiences    = 10
	MaxAudienceLen  = 1000
	MaxTags         = 50
	// MaxPayloadBytes bounds the JSON claims. AWS does not publish its
	// limit; 16 KiB fits ten maximal audiences, so only tags can exceed it.
	MaxPayloadBytes = 16 << 10
)

// ClaimsNamespace is the claim that holds every AWS-specific claim.
const ClaimsNamespace = "https://sts.amazonaws.com/"

// Tag constraints of STS session tags.
var (
	tagKeyRE   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// Tag is one request tag; it becomes a custom claim.
type Tag struct {
	Key   string
	Value string
}

// TokenRequest is the input of GetWebIdentityToken. Nil Audiences means the
// member was absent; DurationSeconds nil means the default.
type TokenRequest struct {
	Audiences        []string
	DurationSeconds  *int32
	SigningAlgorithm *string
	Tags             []Tag
}

// Validate checks the request against the STS constraints, reporting every
// violation at once as a ValidationError.
func (r TokenRequest) Validate() error {
	var v validate.Errors
	if v.Required("audience", r.Audiences != nil) && v.Count("audience", len(r.Audiences), 1, MaxAudiences) {
		for i, a := range r.Audiences {
			v.String(fmt.Sprintf("audience.%d.member", i+1), a, 1, MaxAudienceLen, nil)
		}
	}
	v.IntRange("durationSeconds", r.DurationSeconds, MinDuration, MaxDuration)
	if v.Required("signingAlgorithm", r.SigningAlgorithm != nil) {
		v.OneOf("signingAlgorithm", *r.SigningAlgorithm, string(signer.ES384), string(signer.RS256))
	}
	v.Count("tags", len(r.Tags), 0, MaxTags)
	seen := map[string]bool{}
	for i, t := range r.Tags {
		name := fmt.Sprintf("tags.%d.member", i+1)
		v.String(name+".key", t.Key, 1, 128, tagKeyRE)
		v.String(name+".value", t.Value, 0, 256, tagValueRE)
		// Session tag keys are case-insensitively unique in AWS.
		if k := strings.ToLower(t.Key); seen[k] {
			v.Add(name+".key", "Duplicate tag keys are not allowed (keys are case-insensitive)")
		} else {
			seen[k] = true
		}
	}
	return queryValidation(v.Err())
}

// queryValidation turns a ValidationException into the awsQuery spelling,
// ValidationError, which is what STS and IAM send.
func queryValidation(err error) error {
	if err == nil {
		return nil
	}
	e := *awserr.As(err)
	e.Code, e.Reason, e.Fields = CodeValidationError, "", nil
	return &e
}

// Token is a vended web identity token.
type Token struct {
	JWT        string
	Expiration time.Time
}

// Signer signs JWT claims with an account's key.
type Signer interface {
	Sign(ctx context.Context, account string, alg signer.Algorithm, payload []byte) (string, error)
}

// KeyResolver finds the access key a request was signed with, for the
// audience restrictions of non-admin keys.
type KeyResolver interface {
	Resolve(ctx context.Context, accessKeyID string) (accesskeys.Key, error)
}

// Tokens vends web identity tokens.
type Tokens struct {
	fed  *Federation
	sign Signer
	keys KeyResolver
	now  func() time.Time
}

// NewTokens builds the token service.
func NewTokens(fed *Federation, sign Signer, keys KeyResolver, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{fed: fed, sign: sign, keys: keys, now: now}
}

// claims is the JWT payload. Field order is the order AWS documents.
type claims struct {
	Iss string    `json:"iss"`
	Aud audiences `json:"aud"`
	Sub string    `json:"sub"`
	Iat int64     `json:"iat"`
	Exp int64     `json:"exp"`
	Jti string    `json:"jti"`
	AWS awsClaims `json:"https://sts.amazonaws.com/"`
}

type awsClaims struct {
	Account      string            `json:"aws_account"`
	SourceRegion string            `json:"source_region"`
	RequestTags  map[string]string `json:"request_tags,omitempty"`
}

// audiences renders one audience as a string and several as an array
// (RFC 7519 §4.1.3), as AWS does.
type audiences []string

func (a audiences) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// GetWebIdentityToken vends a JWT for the caller p: validate, authorize
// the audiences, require federation to be enabled, then sign.
func (t *Tokens) GetWebIdentityToken(ctx context.Context, p principal.Principal, req TokenRequest) (Token, error) {
	if err := req.Validate(); err != nil {
		return Token{}, err
	}
	if err := t.authorize(ctx, p, req.Audiences); err != nil {
		return Token{}, err
	}
	iss, err := t.fed.enabledIssuer(ctx, p.AccountID)
	if err != nil {
		return Token{}, err
	}
	duration := int64(DefaultDuration)
	if req.DurationSeconds != nil {
		duration = int64(*req.DurationSeconds)
	}
	iat := t.now().Unix()
	c := claims{
		Iss: iss, Aud: audiences(req.Audiences), Sub: p.ARN, Iat: iat, Exp: iat + duration, Jti: uuid.NewString(),
		AWS: awsClaims{Account: p.AccountID, SourceRegion: p.Region},
	}
	if len(req.Tags) > 0 {
		c.AWS.RequestTags = make(map[string]string, len(req.Tags))
		for _, tag := range req.Tags {
			c.AWS.RequestTags[tag.Key] = tag.Value
		}
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return Token{}, fmt.Errorf("encode claims: %w", err)
	}
	if len(payload) > MaxPayloadBytes {
		return Token{}, awserr.New(CodePayloadTooLarge, http.StatusBadRequest,
			"The token payload is %d bytes, more than the maximum of %d. Reduce the number or size of request tags.", len(payload), MaxPayloadBytes)
	}
	jwt, err := t.sign.Sign(ctx, p.AccountID, signer.Algorithm(*req.SigningAlgorithm), payload)
	if err != nil {
		return Token{}, fmt.Errorf("sign web identity token: %w", err)
	}
	return Token{JWT: jwt, Expiration: time.Unix(c.Exp, 0).UTC()}, nil
}

// authorize stands in for IAM's sts:IdentityTokenAudience condition: admin
// keys may request any audience, other keys only their allowed ones.
func (t *Tokens) authorize(ctx context.Context, p principal.Principal, auds []string) error {
	if p.Admin {
		return nil
	}
	k, err := t.keys.Resolve(ctx, p.AccessKeyID)
	if err != nil {
		return fmt.Errorf("resolve caller key: %w", err)
	}
	for _, a := range auds {
		if !slices.Contains(k.AllowedAudiences, a) {
			return accessDenied(p, "sts:GetWebIdentityToken", fmt.Sprintf(" with audience %q", a))
		}
	}
	return nil
}

// accessDenied is IAM's implicit-deny error, with the AWS message shape.
func accessDenied(p principal.Principal, action, detail string) error {
	return awserr.New(CodeAccessDenied, http.StatusForbidden,
		"User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action",
		p.ARN, action, detail, action)
}
