package sts

import (
	"net/url"
	"strings"
	"testing"

	"github.com/agentcore-identity/agentcore/internal/awserr"
)

func TestDecodeTokenRequest(t *testing.T) {
	cases := []struct {
		name     string
		form     string
		wantAuds []string // nil: absent
		wantTags []Tag
		wantDur  int32 // 0: absent
		wantErr  string
	}{
		{name: "ok/sdk-shape", form: "Action=GetWebIdentityToken&Audience.member.1=https%3A%2F%2Fa&Audience.member.2=b&DurationSeconds=600&SigningAlgorithm=ES384&Tags.member.1.Key=k&Tags.member.1.Value=v",
			wantAuds: []string{"https://a", "b"}, wantTags: []Tag{{"k", "v"}}, wantDur: 600},
		{name: "ok/members-in-index-order", form: "Audience.member.10=ten&Audience.member.2=two&Audience.member.1=one",
			wantAuds: []string{"one", "two", "ten"}},
		{name: "ok/empty-list", form: "Audience=", wantAuds: []string{}},
		{name: "ok/absent-list", form: "SigningAlgorithm=RS256"},
		{name: "ok/empty-tag-value", form: "Tags.member.1.Key=k&Tags.member.1.Value=", wantTags: []Tag{{"k", ""}}},
		{name: "fail/duration-not-integer", form: "DurationSeconds=5m", wantErr: "durationSeconds"},
		{name: "fail/duration-overflows-int32", form: "DurationSeconds=99999999999", wantErr: "durationSeconds"},
		{name: "fail/bad-index", form: "Audience.member.x=a", wantErr: "audience"},
		{name: "fail/zero-index", form: "Audience.member.0=a", wantErr: "audience"},
		{name: "fail/struct-member-without-field", form: "Tags.member.1=a", wantErr: "tags"},
		{name: "fail/tag-without-value", form: "Tags.member.1.Key=k", wantErr: "tags.1.member.value"},
		{name: "fail/tag-without-key", form: "Tags.member.1.Value=v", wantErr: "tags.1.member.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form, err := url.ParseQuery(tc.form)
			if err != nil {
				t.Fatal(err)
			}
			req, err := decodeTokenRequest(form)
			if tc.wantErr != "" {
				if !awserr.IsCode(err, CodeValidationError) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ValidationError naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tc.wantAuds == nil) != (req.Audiences == nil) || strings.Join(req.Audiences, ",") != strings.Join(tc.wantAuds, ",") {
				t.Errorf("audiences = %#v, want %#v", req.Audiences, tc.wantAuds)
			}
			if len(req.Tags) != len(tc.wantTags) {
				t.Fatalf("tags = %v, want %v", req.Tags, tc.wantTags)
			}
			for i := range req.Tags {
				if req.Tags[i] != tc.wantTags[i] {
					t.Errorf("tag %d = %v, want %v", i, req.Tags[i], tc.wantTags[i])
				}
			}
			if (tc.wantDur == 0) != (req.DurationSeconds == nil) || (req.DurationSeconds != nil && *req.DurationSeconds != tc.wantDur) {
				t.Errorf("duration = %v, want %d", req.DurationSeconds, tc.wantDur)
			}
		})
	}
}

func TestTokenRequestValidate(t *testing.T) {
	alg := func(s string) *string { return &s }
	dur := func(n int32) *int32 { return &n }
	tags := func(n, keyLen, valLen int) []Tag {
		out := make([]Tag, n)
		for i := range out {
			out[i] = Tag{Key: strings.Repeat("k", keyLen-3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "x", Value: strings.Repeat("v", valLen)}
		}
		return out
	}
	ok := TokenRequest{Audiences: []string{"https://api.example.com"}, SigningAlgorithm: alg("ES384")}
	with := func(f func(*TokenRequest)) TokenRequest { r := ok; f(&r); return r }
	cases := []struct {
		name    string
		req     TokenRequest
		wantErr string
	}{
		{"ok/minimal", ok, ""},
		{"ok/rs256-3600-50-tags", with(func(r *TokenRequest) {
			r.SigningAlgorithm, r.DurationSeconds, r.Tags = alg("RS256"), dur(3600), tags(50, 128, 256)
		}), ""},
		{"ok/10-audiences-of-1000", with(func(r *TokenRequest) {
			r.Audiences = make([]string, 10)
			for i := range r.Audiences {
				r.Audiences[i] = strings.Repeat("a", 1000)
			}
		}), ""},
		{"ok/unicode-tag", with(func(r *TokenRequest) { r.Tags = []Tag{{"équipe", "voyage à Zürich"}} }), ""},
		{"fail/audience-missing", with(func(r *TokenRequest) { r.Audiences = nil }), "Value at 'audience' failed to satisfy constraint: Member must not be null"},
		{"fail/audience-empty", with(func(r *TokenRequest) { r.Audiences = []string{} }), "greater than or equal to 1"},
		{"fail/audience-blank", with(func(r *TokenRequest) { r.Audiences = []string{""} }), "audience.1.member"},
		{"fail/11-audiences", with(func(r *TokenRequest) { r.Audiences = make([]string, 11) }), "less than or equal to 10"},
		{"fail/algorithm-missing", with(func(r *TokenRequest) { r.SigningAlgorithm = nil }), "signingAlgorithm"},
		{"fail/algorithm-lowercase", with(func(r *TokenRequest) { r.SigningAlgorithm = alg("es384") }), "enum value set: [ES384, RS256]"},
		{"fail/duration-59", with(func(r *TokenRequest) { r.DurationSeconds = dur(59) }), "greater than or equal to 60"},
		{"fail/duration-3601", with(func(r *TokenRequest) { r.DurationSeconds = dur(3601) }), "less than or equal to 3600"},
		{"fail/51-tags", with(func(r *TokenRequest) { r.Tags = tags(51, 5, 1) }), "'tags'"},
		{"fail/tag-key-129", with(func(r *TokenRequest) { r.Tags = tags(1, 129, 1) }), "tags.1.member.key"},
		{"fail/tag-value-257", with(func(r *TokenRequest) { r.Tags = tags(1, 5, 257) }), "tags.1.member.value"},
		{"fail/tag-key-empty", with(func(r *TokenRequest) { r.Tags = []Tag{{"", "v"}} }), "tags.1.member.key"},
		{"fail/tag-value-chars", with(func(r *TokenRequest) { r.Tags = []Tag{{"k", "a;b"}} }), "tags.1.member.value"},
		{"fail/duplicate-keys-case-insensitive", with(func(r *TokenRequest) { r.Tags = []Tag{{"Env", "a"}, {"env", "b"}} }), "tags.2.member.key"},
		{"fail/reports-every-violation", with(func(r *TokenRequest) { r.DurationSeconds, r.SigningAlgorithm = dur(1), alg("x") }), "2 validation errors detected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			e := awserr.As(err)
			if e.Code != CodeValidationError || e.Status != 400 || !strings.Contains(e.Message, tc.wantErr) {
				t.Fatalf("got %s %d %q, want ValidationError 400 containing %q", e.Code, e.Status, e.Message, tc.wantErr)
			}
		})
	}
}

func TestAudiencesJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   audiences
		want string
	}{
		{"ok/one-is-a-string", audiences{"a"}, `"a"`},
		{"ok/several-are-an-array", audiences{"a", "b"}, `["a","b"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.in.MarshalJSON()
			if err != nil || string(b) != tc.want {
				t.Fatalf("= %s, %v; want %s", b, err, tc.want)
			}
		})
	}
}
