package identity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// STSAPI is the STS operation RequiresIAMAccessToken calls; *sts.Client
// (for example Client.STS()) implements it.
type STSAPI interface {
	GetWebIdentityToken(ctx context.Context, in *sts.GetWebIdentityTokenInput, optFns ...func(*sts.Options)) (*sts.GetWebIdentityTokenOutput, error)
}

// SigningAlgorithm signs AWS IAM web identity tokens.
type SigningAlgorithm string

// Signing algorithms.
const (
	ES384 SigningAlgorithm = "ES384"
	RS256 SigningAlgorithm = "RS256"
)

// Limits of GetWebIdentityToken.
const (
	DefaultIAMTokenDuration = 300 * time.Second
	MinIAMTokenDuration     = 60 * time.Second
	MaxIAMTokenDuration     = 3600 * time.Second
)

// IAMTokenOptions configure RequiresIAMAccessToken.
type IAMTokenOptions struct {
	// Audience is the token's aud: 1 to 10 strings (required).
	Audience []string
	// SigningAlgorithm is ES384 (default) or RS256.
	SigningAlgorithm SigningAlgorithm
	// Duration is the lifetime: whole seconds from 60s to 3600s (default
	// 300s). The caller's IAM policy may cap it (sts:DurationSeconds).
	Duration time.Duration
	// Tags become request_tags claims (at most 50; keys 1–128 and values
	// up to 256 characters). Needs sts:TagGetWebIdentityToken.
	Tags map[string]string
}

// Validate checks the options against the service limits.
func (o IAMTokenOptions) Validate() error {
	var errs []error
	if n := len(o.Audience); n < 1 || n > 10 {
		errs = append(errs, fmt.Errorf("the audience must hold 1 to 10 values, not %d", n))
	}
	for _, a := range o.Audience {
		if len(a) < 1 || len(a) > 1000 {
			errs = append(errs, fmt.Errorf("audience %q must be 1 to 1000 characters", a))
		}
	}
	if a := o.SigningAlgorithm; a != "" && a != ES384 && a != RS256 {
		errs = append(errs, fmt.Errorf("the signing algorithm %q is not ES384 or RS256", a))
	}
	if d := o.Duration; d != 0 && (d < MinIAMTokenDuration || d > MaxIAMTokenDuration || d%time.Second != 0) {
		errs = append(errs, fmt.Errorf("the duration %s must be whole seconds from 60s to 3600s", d))
	}
	if len(o.Tags) > 50 {
		errs = append(errs, fmt.Errorf("at most 50 Tags, not %d", len(o.Tags)))
	}
	for k, v := range o.Tags {
		if len(k) < 1 || len(k) > 128 || len(v) > 256 {
			errs = append(errs, fmt.Errorf("tag %q: keys are 1 to 128 and values up to 256 characters", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("identity: invalid IAMTokenOptions: %w", err)
	}
	return nil
}

// IAMToken is an AWS-signed JWT from STS GetWebIdentityToken.
type IAMToken struct {
	Token      string
	Expiration time.Time
}

// GetIAMAccessToken calls STS GetWebIdentityToken as the caller's own AWS
// identity: no workload access token is involved. ErrFederationDisabled
// means outbound web identity federation is off for the account.
func GetIAMAccessToken(ctx context.Context, st STSAPI, opts IAMTokenOptions) (*IAMToken, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	alg, dur := opts.SigningAlgorithm, opts.Duration
	if alg == "" {
		alg = ES384
	}
	if dur == 0 {
		dur = DefaultIAMTokenDuration
	}
	in := &sts.GetWebIdentityTokenInput{
		Audience: opts.Audience, SigningAlgorithm: aws.String(string(alg)), DurationSeconds: aws.Int32(int32(dur / time.Second)),
	}
	keys := make([]string, 0, len(opts.Tags))
	for k := range opts.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(opts.Tags[k])})
	}
	out, err := st.GetWebIdentityToken(ctx, in)
	if err != nil {
		return nil, wrapErr("GetWebIdentityToken", err)
	}
	return &IAMToken{Token: aws.ToString(out.WebIdentityToken), Expiration: aws.ToTime(out.Expiration)}, nil
}

// RequiresIAMAccessToken wraps a tool so it receives an AWS-signed JWT for
// opts.Audience, for services that trust the account's STS issuer: no
// secret, no user, no workload access token (as in the Python SDK). Invalid
// options panic here, at wrap time; check them first with
// IAMTokenOptions.Validate when they come from configuration.
func RequiresIAMAccessToken[T any](st STSAPI, opts IAMTokenOptions, fn func(ctx context.Context, token string) (T, error)) func(ctx context.Context) (T, error) {
	g := RequiresIAMAccessTokenArg(st, opts, func(ctx context.Context, token string, _ struct{}) (T, error) { return fn(ctx, token) })
	return func(ctx context.Context) (T, error) { return g(ctx, struct{}{}) }
}

// RequiresIAMAccessTokenArg is RequiresIAMAccessToken for a tool with an
// argument.
func RequiresIAMAccessTokenArg[A, T any](st STSAPI, opts IAMTokenOptions, fn func(ctx context.Context, token string, arg A) (T, error)) func(ctx context.Context, arg A) (T, error) {
	mustWrap("RequiresIAMAccessToken", st != nil && fn != nil, opts.Validate())
	return func(ctx context.Context, arg A) (T, error) {
		tok, err := GetIAMAccessToken(ctx, st, opts)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(ctx, tok.Token, arg)
	}
}
