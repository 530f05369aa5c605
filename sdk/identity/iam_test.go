package identity

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// recordingSTS records GetWebIdentityToken inputs (an interface stub: the
// STS wire itself is exercised end to end in the main module).
type recordingSTS struct {
	inputs []*sts.GetWebIdentityTokenInput
	err    error
}

func (r *recordingSTS) GetWebIdentityToken(_ context.Context, in *sts.GetWebIdentityTokenInput, _ ...func(*sts.Options)) (*sts.GetWebIdentityTokenOutput, error) {
	r.inputs = append(r.inputs, in)
	if r.err != nil {
		return nil, r.err
	}
	exp := time.Unix(1700000300, 0)
	return &sts.GetWebIdentityTokenOutput{WebIdentityToken: aws.String("jwt-for-" + in.Audience[0]), Expiration: &exp}, nil
}

func TestRequiresIAMAccessTokenDefaultsAndTags(t *testing.T) {
	st := &recordingSTS{}
	tool := RequiresIAMAccessToken(st, IAMTokenOptions{
		Audience: []string{"https://api.example.com"}, Tags: map[string]string{"team": "a", "env": "prod"},
	}, func(ctx context.Context, token string) (string, error) { return token, nil })
	got, err := tool(context.Background())
	if err != nil || got != "jwt-for-https://api.example.com" {
		t.Fatalf("tool = %q, %v", got, err)
	}
	in := st.inputs[0]
	if aws.ToString(in.SigningAlgorithm) != "ES384" || aws.ToInt32(in.DurationSeconds) != 300 {
		t.Errorf("defaults: alg %q duration %d", aws.ToString(in.SigningAlgorithm), aws.ToInt32(in.DurationSeconds))
	}
	var tags [][2]string
	for _, tg := range in.Tags {
		tags = append(tags, [2]string{aws.ToString(tg.Key), aws.ToString(tg.Value)})
	}
	if want := [][2]string{{"env", "prod"}, {"team", "a"}}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}

	tok, err := GetIAMAccessToken(context.Background(), st, IAMTokenOptions{
		Audience: []string{"b"}, SigningAlgorithm: RS256, Duration: time.Hour,
	})
	if err != nil || !tok.Expiration.Equal(time.Unix(1700000300, 0)) {
		t.Fatalf("GetIAMAccessToken = %+v, %v", tok, err)
	}
	if in := st.inputs[1]; aws.ToString(in.SigningAlgorithm) != "RS256" || aws.ToInt32(in.DurationSeconds) != 3600 {
		t.Errorf("explicit: %+v", in)
	}
}

func TestIAMTokenOptionsValidatedAtWrapTime(t *testing.T) {
	bad := map[string]IAMTokenOptions{
		"no-audience":    {},
		"11-audiences":   {Audience: make([]string, 11)},
		"too-short":      {Audience: []string{"a"}, Duration: 59 * time.Second},
		"too-long":       {Audience: []string{"a"}, Duration: 3601 * time.Second},
		"fractional":     {Audience: []string{"a"}, Duration: 90500 * time.Millisecond},
		"bad-algorithm":  {Audience: []string{"a"}, SigningAlgorithm: "HS256"},
		"empty-tag-key":  {Audience: []string{"a"}, Tags: map[string]string{"": "v"}},
		"empty-audience": {Audience: []string{""}},
	}
	fn := func(context.Context, string) (string, error) { return "", nil }
	for name, opts := range bad {
		t.Run(name, func(t *testing.T) {
			if opts.Validate() == nil {
				t.Error("Validate accepted it")
			}
			defer func() {
				if recover() == nil {
					t.Error("wrapping did not panic")
				}
			}()
			RequiresIAMAccessToken(&recordingSTS{}, opts, fn)
		})
	}
	for _, d := range []time.Duration{0, 60 * time.Second, 3600 * time.Second} {
		if err := (IAMTokenOptions{Audience: []string{"a"}, Duration: d}).Validate(); err != nil {
			t.Errorf("duration %s rejected: %v", d, err)
		}
	}
}

func TestIAMFederationDisabledIsTyped(t *testing.T) {
	st := &recordingSTS{err: &smithy.GenericAPIError{Code: "OutboundWebIdentityFederationDisabledException", Message: "off"}}
	tool := RequiresIAMAccessToken(st, IAMTokenOptions{Audience: []string{"a"}},
		func(ctx context.Context, token string) (string, error) { t.Error("tool ran"); return "", nil })
	_, err := tool(context.Background())
	if !errors.Is(err, ErrFederationDisabled) {
		t.Fatalf("got %v", err)
	}
}
