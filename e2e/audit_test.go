package e2e

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/servertest"
	"github.com/agentcore-identity/agentcore/internal/store"
)

func TestAuditTrailRecordsVendsDenialsAndChanges(t *testing.T) {
	backends(t, func(t *testing.T, b servertest.Backend) {
		env := servertest.Start(t, servertest.Options{Backend: b})
		ctx := servertest.Context(t)
		c, d := env.Control(), env.Data()
		if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("audited-agent")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
			Name: aws.String("audited-api"), ApiKey: aws.String("audit-secret-value-9f8e"),
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListWorkloadIdentities(ctx, &cp.ListWorkloadIdentitiesInput{}); err != nil {
			t.Fatal(err)
		}
		tok, err := d.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{
			WorkloadName: aws.String("audited-agent"), UserId: aws.String("carol")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
			WorkloadIdentityToken: tok.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("audited-api")}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
			WorkloadIdentityToken: aws.String("forged"), ResourceCredentialProviderName: aws.String("audited-api")}); err == nil {
			t.Fatal("forged token vended a key")
		}

		trail := env.Server.Audit()
		events, _, err := trail.Lookup(ctx, env.AccountID, audit.Filter{}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, e := range events {
			ops = append(ops, e.Operation+":"+e.Outcome)
			if e.RequestID == "" || e.SourceIP == "" || e.Principal == "" || e.Time.IsZero() {
				t.Errorf("event %d lacks context: %+v", e.Seq, e)
			}
		}
		want := "CreateWorkloadIdentity:Success CreateApiKeyCredentialProvider:Success GetWorkloadAccessTokenForUserId:Success GetResourceApiKey:Success GetResourceApiKey:Denied"
		if strings.Join(ops, " ") != want {
			t.Fatalf("audited operations:\n got %s\nwant %s (reads are not audited)", strings.Join(ops, " "), want)
		}
		vend := events[3]
		if vend.Workload != "audited-agent" || vend.User != "carol" || vend.Provider != "audited-api" {
			t.Errorf("vend event = %+v", vend)
		}
		if events[0].Resource != "audited-agent" || events[4].ErrorCode != "AccessDeniedException" {
			t.Errorf("change/denial events = %+v / %+v", events[0], events[4])
		}
		byUser, _, _ := trail.Lookup(ctx, env.AccountID, audit.Filter{User: "carol"}, 0, 100)
		if len(byUser) != 2 {
			t.Errorf("lookup by user carol: %d events, want 2", len(byUser))
		}
		rep, err := trail.Verify(ctx, env.AccountID)
		if err != nil || !rep.OK() || rep.Events != 5 {
			t.Fatalf("verify = %+v, %v", rep, err)
		}
		for _, e := range events {
			if strings.Contains(e.Resource+e.User+e.Workload+e.Provider, "audit-secret-value") {
				t.Fatal("a secret reached the audit trail")
			}
		}
	})
}

// failingAudit makes every audit append fail once armed.
type failingAudit struct {
	store.Store
	armed *atomic.Bool
}

func (f failingAudit) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return f.Store.InTx(ctx, func(tx store.Tx) error {
		return fn(failingTx{Tx: tx, armed: f.armed})
	})
}

type failingTx struct {
	store.Tx
	armed *atomic.Bool
}

func (f failingTx) Create(ctx context.Context, rec store.Record, opts store.CreateOptions) (store.Record, error) {
	if rec.Kind == audit.KindEvent && f.armed.Load() {
		return store.Record{}, errors.New("injected: audit storage unavailable")
	}
	return f.Tx.Create(ctx, rec, opts)
}

func (f failingTx) CreateMany(ctx context.Context, recs []store.Record) error {
	for _, rec := range recs {
		if rec.Kind == audit.KindEvent && f.armed.Load() {
			return errors.New("injected: audit storage unavailable")
		}
	}
	return f.Tx.CreateMany(ctx, recs)
}

func TestAuditFailureFailsTheVend(t *testing.T) {
	armed := &atomic.Bool{}
	env := servertest.Start(t, servertest.Options{WrapStore: func(st store.Store) store.Store {
		return failingAudit{Store: st, armed: armed}
	}})
	ctx := servertest.Context(t)
	c, d := env.Control(), env.Data()
	if _, err := c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("closed-agent")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateApiKeyCredentialProvider(ctx, &cp.CreateApiKeyCredentialProviderInput{
		Name: aws.String("closed-api"), ApiKey: aws.String("must-not-leak-7c1d")}); err != nil {
		t.Fatal(err)
	}
	tok, err := d.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("closed-agent")})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	out, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
		WorkloadIdentityToken: tok.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("closed-api")})
	var ie *dptypes.InternalServerException
	if !errors.As(err, &ie) {
		t.Fatalf("vend with audit down: want InternalServerException, got %v (%+v)", err, out)
	}
	if strings.Contains(err.Error(), "must-not-leak") {
		t.Fatal("the key leaked in the error")
	}

	// A change made while its record cannot be written is answered with
	// an error, yet it happened; the intent noted before it makes sure it
	// is still recorded, with outcome Unknown, once the sweep runs.
	_, err = c.CreateWorkloadIdentity(ctx, &cp.CreateWorkloadIdentityInput{Name: aws.String("unrecorded-agent")})
	var cie *cptypes.InternalServerException
	if !errors.As(err, &cie) {
		t.Fatalf("change with audit down: want InternalServerException, got %v", err)
	}
	if _, err := c.GetWorkloadIdentity(ctx, &cp.GetWorkloadIdentityInput{Name: aws.String("unrecorded-agent")}); err != nil {
		t.Fatalf("the change was made before its record failed, so it exists: %v", err)
	}
	armed.Store(false)
	if _, err := d.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{
		WorkloadIdentityToken: tok.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("closed-api")}); err != nil {
		t.Fatalf("vend after audit recovered: %v", err)
	}
	trail := audit.NewTrail(env.Store, nil)
	unknown := audit.Filter{Operation: "CreateWorkloadIdentity", Outcome: audit.OutcomeUnknown}
	// An intent younger than the cutoff may belong to a change still in
	// progress: it is left alone.
	if err := env.Server.RecoverAuditIntents(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := trail.Lookup(ctx, env.AccountID, unknown, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("recovered a young intent: %+v, %v", got, err)
	}
	if err := env.Server.RecoverAuditIntents(ctx, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _, err := trail.Lookup(ctx, env.AccountID, unknown, 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("records of the interrupted change: %+v, %v; want one", got, err)
	}
	if e := got[0]; e.Resource != "unrecorded-agent" || e.ErrorCode != audit.ErrorInterrupted || e.Principal == "" || e.RequestID == "" {
		t.Fatalf("interrupted change recorded as %+v", e)
	}
	// Changes whose records were written leave no intent behind.
	if err := env.Server.RecoverAuditIntents(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if all, _, err := trail.Lookup(ctx, env.AccountID, audit.Filter{Outcome: audit.OutcomeUnknown}, 0, 10); err != nil || len(all) != 1 {
		t.Fatalf("Unknown records after a second sweep: %d, %v; want 1", len(all), err)
	}
	if rep, err := trail.Verify(ctx, env.AccountID); err != nil || !rep.OK() {
		t.Fatalf("chain after recovery: %+v, %v", rep, err)
	}
}
