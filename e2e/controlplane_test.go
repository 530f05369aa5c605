// Package e2e drives the server through unmodified AWS SDK clients, on
// every store backend.
package e2e

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/smithy-go"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/servertest"
)

// backends runs fn as a subtest on SQLite and on PostgreSQL. PostgreSQL
// needs AGENTCORE_TEST_POSTGRES_URL (CI always sets it).
func backends(t *testing.T, fn func(t *testing.T, b servertest.Backend)) {
	for _, b := range []servertest.Backend{servertest.SQLite, servertest.Postgres} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// apiCode returns the AWS error code of err, failing the test if err is
// not an API error.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode()
}

func TestWorkloadIdentities(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c := env.Control()

		created, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{
			Name:                            aws.String("travel-agent"),
			AllowedResourceOauth2ReturnUrls: []string{"https://app.example.com/callback"},
			Tags:                            map[string]string{"team": "travel"},
		})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		wantARN := fmt.Sprintf("arn:aws:bedrock-agentcore:%s:%s:workload-identity-directory/default/workload-identity/travel-agent", env.Region, env.AccountID)
		if aws.ToString(created.WorkloadIdentityArn) != wantARN {
			t.Errorf("arn = %q, want %q", aws.ToString(created.WorkloadIdentityArn), wantARN)
		}

		got, err := c.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String("travel-agent")})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if len(got.AllowedResourceOauth2ReturnUrls) != 1 || got.AllowedResourceOauth2ReturnUrls[0] != "https://app.example.com/callback" {
			t.Errorf("return urls = %v", got.AllowedResourceOauth2ReturnUrls)
		}
		if got.CreatedTime == nil || got.LastUpdatedTime == nil || got.CreatedTime.IsZero() {
			t.Errorf("timestamps missing: %v %v", got.CreatedTime, got.LastUpdatedTime)
		}

		upd, err := c.UpdateWorkloadIdentity(ctx, &cp.UpdateWorkloadIdentityInput{
			Name:                            aws.String("travel-agent"),
			AllowedResourceOauth2ReturnUrls: []string{"https://a.example.com/cb", "http://localhost:8081/oauth2/callback"},
		})
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if len(upd.AllowedResourceOauth2ReturnUrls) != 2 {
			t.Errorf("updated urls = %v", upd.AllowedResourceOauth2ReturnUrls)
		}

		tags, err := c.ListTagsForResource(ctx, &cp.ListTagsForResourceInput{ResourceArn: aws.String(wantARN)})
		if err != nil {
			t.Fatalf("list tags: %v", err)
		}
		if tags.Tags["team"] != "travel" {
			t.Errorf("tags = %v", tags.Tags)
		}
		if _, err := c.TagResource(ctx, &cp.TagResourceInput{ResourceArn: aws.String(wantARN), Tags: map[string]string{"env": "dev"}}); err != nil {
			t.Fatalf("tag: %v", err)
		}
		if _, err := c.UntagResource(ctx, &cp.UntagResourceInput{ResourceArn: aws.String(wantARN), TagKeys: []string{"team"}}); err != nil {
			t.Fatalf("untag: %v", err)
		}
		tags, err = c.ListTagsForResource(ctx, &cp.ListTagsForResourceInput{ResourceArn: aws.String(wantARN)})
		if err != nil {
			t.Fatalf("list tags: %v", err)
		}
		if len(tags.Tags) != 1 || tags.Tags["env"] != "dev" {
			t.Errorf("tags after tag/untag = %v", tags.Tags)
		}

		if _, err := c.DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String("travel-agent")}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err = c.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String("travel-agent")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: want ResourceNotFoundException, got %v", err)
		}
		_, err = c.ListTagsForResource(ctx, &cp.ListTagsForResourceInput{ResourceArn: aws.String(wantARN)})
		if !errors.As(err, &nf) {
			t.Fatalf("tags of deleted identity: want ResourceNotFoundException, got %v", err)
		}
	})
}

func TestWorkloadIdentityErrors(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b, Configure: func(c *config.Config) {
			c.Quotas.WorkloadIdentities = 3
		}})
		ctx := servertest.Context(t)
		c := env.Control()

		cases := []struct {
			name      string
			in        cp.CreateWorkloadIdentityInput
			wantField string
		}{
			{"fail/name-too-short", cp.CreateWorkloadIdentityInput{Name: aws.String("ab")}, "name"},
			{"fail/name-bad-chars", cp.CreateWorkloadIdentityInput{Name: aws.String("has space")}, "name"},
			{"fail/return-url-not-url", cp.CreateWorkloadIdentityInput{Name: aws.String("okname"), AllowedResourceOauth2ReturnUrls: []string{"not a url"}}, "allowedResourceOauth2ReturnUrls.1"},
			{"fail/reserved-tag", cp.CreateWorkloadIdentityInput{Name: aws.String("okname"), Tags: map[string]string{"aws:x": "y"}}, "tags.key"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.CreateWorkloadIdentity(ctx, &tc.in)
				var ve *types.ValidationException
				if !errors.As(err, &ve) {
					t.Fatalf("want ValidationException, got %v", err)
				}
				if len(ve.FieldList) == 0 || aws.ToString(ve.FieldList[0].Name) != tc.wantField {
					t.Errorf("fieldList = %+v, want field %q", ve.FieldList, tc.wantField)
				}
				if ve.Reason != types.ValidationExceptionReasonFieldValidationFailed {
					t.Errorf("reason = %q", ve.Reason)
				}
			})
		}
		// A rejected create changed nothing.
		list, err := c.ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{})
		if err != nil || len(list.WorkloadIdentities) != 0 {
			t.Fatalf("after rejected creates: %v identities, err %v", len(list.WorkloadIdentities), err)
		}

		for i := range 3 {
			if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String(fmt.Sprintf("agent-%d", i))}); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		_, err = c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("agent-0")})
		var ce *types.ConflictException
		if !errors.As(err, &ce) {
			t.Fatalf("duplicate: want ConflictException, got %v", err)
		}
		_, err = c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("agent-3")})
		var qe *types.ServiceQuotaExceededException
		if !errors.As(err, &qe) {
			t.Fatalf("over quota: want ServiceQuotaExceededException, got %v", err)
		}
		_, err = c.UpdateWorkloadIdentity(ctx, &cp.UpdateWorkloadIdentityInput{Name: aws.String("nobody")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("update missing: want ResourceNotFoundException, got %v", err)
		}
		_, err = c.DeleteWorkloadIdentity(ctx, &cp.DeleteWorkloadIdentityInput{Name: aws.String("nobody")})
		if !errors.As(err, &nf) {
			t.Fatalf("delete missing: want ResourceNotFoundException, got %v", err)
		}
		_, err = c.ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{NextToken: aws.String("!!not-ours!!")})
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Fatalf("bad token: want ValidationException, got %v", err)
		}
	})
}

func TestWorkloadIdentityPagination(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c := env.Control()
		var want []string
		for i := range 8 {
			name := fmt.Sprintf("pager-%02d", i)
			want = append(want, name)
			if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		pages := 0
		p := cp.NewListWorkloadIdentitiesPaginator(c, &cp.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(3)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.WorkloadIdentities) > 3 {
				t.Fatalf("page of %d > MaxResults 3", len(out.WorkloadIdentities))
			}
			for _, w := range out.WorkloadIdentities {
				got = append(got, aws.ToString(w.Name))
			}
		}
		if pages != 3 {
			t.Errorf("pages = %d, want 3", pages)
		}
		if !sort.StringsAreSorted(got) || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("listed %v, want %v", got, want)
		}
		_, err := c.ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(21)})
		var ve *types.ValidationException
		if !errors.As(err, &ve) {
			t.Fatalf("maxResults 21: want ValidationException, got %v", err)
		}
	})
}

func TestSignatureErrors(t *testing.T) {
	env := servertest.Start(t, servertest.Options{})
	ctx := servertest.Context(t)
	cases := []struct {
		name     string
		creds    aws.CredentialsProvider
		region   string
		wantCode string
	}{
		{"fail/wrong-secret", servertest.StaticCredentials(env.AccessKey, "wrong-secret-wrong-secret-wrong-secret00"), env.Region, "InvalidSignatureException"},
		{"fail/unknown-key", servertest.StaticCredentials("AKIAUNKNOWNUNKNOWN00", env.SecretKey), env.Region, "UnrecognizedClientException"},
		{"fail/other-region", env.Credentials(), "eu-west-1", "InvalidSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := env.Control(func(o *cp.Options) {
				o.Credentials = tc.creds
				o.Region = tc.region
			})
			_, err := c.ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{})
			if code := apiCode(t, err); code != tc.wantCode {
				t.Errorf("code = %s, want %s (%v)", code, tc.wantCode, err)
			}
		})
	}
	if _, err := env.Control().ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{}); err != nil {
		t.Fatalf("ok/admin-key: %v", err)
	}
}
