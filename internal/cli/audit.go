package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/store"
)

// auditTarget names the database an audit command reads. Audit commands
// work on the database directly, as an auditor would: they need no running
// server and no key-encryption key (events hold no secrets).
type auditTarget struct {
	cfg     config.Config
	account string
}

func (a *auditTarget) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&a.cfg.DataDir, "data-dir", a.cfg.DataDir, "state directory of a SQLite installation")
	f.StringVar(&a.cfg.Store, "store", a.cfg.Store, "storage backend: sqlite or postgres")
	f.StringVar(&a.cfg.DatabaseURL, "database-url", a.cfg.DatabaseURL, "PostgreSQL URL (with --store postgres)")
	f.StringVar(&a.account, "account", "", "account id (default: this installation's)")
}

func (a *auditTarget) open(cmd *cobra.Command) (store.Store, string, error) {
	if err := applyEnv(cmd.Flags()); err != nil {
		return nil, "", err
	}
	if err := a.cfg.Validate(); err != nil {
		return nil, "", err
	}
	st, err := server.OpenStore(cmd.Context(), a.cfg)
	if err != nil {
		return nil, "", err
	}
	acct := a.account
	if acct == "" {
		if acct, err = server.AccountID(cmd.Context(), st); err != nil {
			_ = st.Close()
			if errors.Is(err, store.ErrNotFound) {
				return nil, "", errors.New("no account in this database: has `agentcore server` ever started on it?")
			}
			return nil, "", err
		}
	}
	return st, acct, nil
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Verify and search the audit trail"}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditLookupCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	t := &auditTarget{cfg: config.Default()}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no audit record was modified, removed or reordered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, acct, err := t.open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := audit.NewTrail(st, nil).Verify(cmd.Context(), acct)
			if err != nil {
				return err
			}
			if !rep.OK() {
				return fmt.Errorf("audit chain of account %s is BROKEN at record %d: %s", acct, rep.BrokenAt, rep.Reason)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "audit chain of account %s is intact: %d records verified\n", acct, rep.Events)
			return nil
		},
	}
	t.flags(cmd)
	return cmd
}

func newAuditLookupCmd() *cobra.Command {
	t := &auditTarget{cfg: config.Default()}
	var f audit.Filter
	var start, end string
	var asJSON bool
	var max int
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "List audit events, filtered like CloudTrail lookup-events",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Start, err = parseTime("start-time", start); err != nil {
				return err
			}
			if f.End, err = parseTime("end-time", end); err != nil {
				return err
			}
			st, acct, err := t.open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			events, _, err := audit.NewTrail(st, nil).Lookup(cmd.Context(), acct, f, 0, max)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Events []audit.Event `json:"events"`
				}{events})
			}
			printEvents(cmd.OutOrStdout(), events)
			return nil
		},
	}
	t.flags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&start, "start-time", "", "earliest event time (RFC 3339, or a duration ago like 1h)")
	fl.StringVar(&end, "end-time", "", "latest event time, exclusive (RFC 3339, or a duration ago)")
	fl.StringVar(&f.Workload, "workload", "", "only events of this workload identity")
	fl.StringVar(&f.User, "user", "", "only events for this end user")
	fl.StringVar(&f.Provider, "provider", "", "only events of this credential provider")
	fl.StringVar(&f.Operation, "operation", "", "only this operation (e.g. GetResourceOauth2Token)")
	fl.StringVar(&f.Outcome, "outcome", "", "only Success, Denied, Failed or Unknown (a change interrupted before its outcome was recorded)")
	fl.IntVar(&max, "max-results", 50, "most events to print")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (2026-11-23T10:00:00Z) or a duration (90m)", flag, s)
	}
	return t, nil
}

func printEvents(w io.Writer, events []audit.Event) {
	if len(events) == 0 {
		fmt.Fprintln(w, "no matching events")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tOPERATION\tOUTCOME\tRESOURCE\tWORKLOAD\tUSER\tPROVIDER\tPRINCIPAL")
	for _, e := range events {
		outcome := e.Outcome
		if e.ErrorCode != "" {
			outcome += " (" + e.ErrorCode + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Operation, outcome,
			dash(e.Resource), dash(e.Workload), dash(e.User), dash(e.Provider), e.Principal)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
