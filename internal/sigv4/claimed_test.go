package sigv4

import (
	"net/http"
	"testing"
)

func TestClaimedService(t *testing.T) {
	cases := []struct {
		name, authz, query, want string
	}{
		{"ok/header", "AWS4-HMAC-SHA256 Credential=AKIAX/20251120/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab", "", "sts"},
		{"ok/presigned", "", "X-Amz-Credential=AKIAX%2F20251120%2Fus-east-1%2Fiam%2Faws4_request", "iam"},
		{"fail/none", "", "", ""},
		{"fail/garbage", "Bearer abc", "", ""},
		{"fail/short-scope", "AWS4-HMAC-SHA256 Credential=AKIAX/20251120/sts, SignedHeaders=host, Signature=ab", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "http://h/?"+tc.query, nil)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			if got := ClaimedService(r); got != tc.want {
				t.Errorf("ClaimedService = %q, want %q", got, tc.want)
			}
		})
	}
}
