package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/tracing"
)

func newServerCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the agentcore-identity service",
		Long: `Run the agentcore-identity service.

On first start it creates the data directory with a SQLite database, a
key-encryption key (0600) and an admin access key written as an AWS
shared-credentials file (profile "agentcore"). Every flag can also be set
through an environment variable: --database-url is AGENTCORE_DATABASE_URL.
The key-encryption key can be given as AGENTCORE_KEK (base64 of 32 bytes)
so that several replicas share it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags()); err != nil {
				return err
			}
			if v, ok := config.LookupEnv("kek"); ok {
				cfg.KEK = v
			}
			return runServer(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "state directory (SQLite database, key file, credentials)")
	f.StringVar(&cfg.Store, "store", cfg.Store, "storage backend: sqlite or postgres")
	f.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (with --store postgres)")
	f.StringVar(&cfg.Region, "region", cfg.Region, "AWS region this endpoint serves")
	f.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "externally reachable base URL (default http://<addr>)")
	f.StringVar(&cfg.KEKFile, "kek-file", cfg.KEKFile, "key-encryption key file (default <data-dir>/kek.json)")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "json or text")
	f.Int64Var(&cfg.MaxBodySize, "max-body-size", cfg.MaxBodySize, "largest API request body in bytes")
	f.DurationVar(&cfg.ShutdownTTL, "shutdown-timeout", cfg.ShutdownTTL, "grace period for in-flight requests on shutdown")
	f.DurationVar(&cfg.DrainDelay, "drain-delay", cfg.DrainDelay, "on SIGTERM, report not-ready on /readyz and keep serving this long before shutting down (load balancer drain)")
	f.IntVar(&cfg.Quotas.WorkloadIdentities, "quota-workload-identities", cfg.Quotas.WorkloadIdentities, "workload identities per account")
	f.IntVar(&cfg.Quotas.OAuth2Providers, "quota-oauth2-providers", cfg.Quotas.OAuth2Providers, "OAuth2 credential providers per account")
	f.IntVar(&cfg.Quotas.APIKeyProviders, "quota-apikey-providers", cfg.Quotas.APIKeyProviders, "API-key credential providers per account")
	f.Float64Var(&cfg.RateLimits.TokenRequestsPerSecond, "rate-limit-token-requests", cfg.RateLimits.TokenRequestsPerSecond, "token requests per second per account (0 = unlimited)")
	f.IntVar(&cfg.RateLimits.TokenBurst, "rate-limit-token-burst", cfg.RateLimits.TokenBurst, "token requests allowed at once per account")
	f.StringVar(&cfg.RateLimits.Scope, "rate-limit-scope", cfg.RateLimits.Scope, "where rate limits are kept: local (per replica) or cluster (shared by replicas through the store); default cluster with --store postgres, local with sqlite")
	f.BoolVar(&cfg.Metrics, "metrics", cfg.Metrics, "serve Prometheus metrics on /metrics")
	f.BoolVar(&cfg.OTelTraces, "otel-traces", cfg.OTelTraces, "export OpenTelemetry traces over OTLP/HTTP (also on with OTEL_TRACES_EXPORTER=otlp or OTEL_EXPORTER_OTLP_ENDPOINT)")
	f.StringVar(&cfg.AuditLog, "audit-log", cfg.AuditLog, "also append audit events as JSON lines to this file")
	f.BoolVar(&cfg.AllowPrivateNetwork, "allow-private-network", cfg.AllowPrivateNetwork, "let OIDC discovery, JWKS and token requests reach loopback/private addresses (identity providers on your own network)")
	f.BoolVar(&cfg.LocalRuntimeCommands, "local-runtime-commands", cfg.LocalRuntimeCommands, "let CreateAgentRuntime start localConfiguration.command agent processes on this host")
	f.DurationVar(&cfg.SigningKeyRotation, "signing-key-rotation", cfg.SigningKeyRotation, "how long a JWT signing key stays active before rotation")
	return cmd
}

// applyEnv sets every flag not given on the command line from its
// AGENTCORE_* environment variable.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := config.LookupEnv(f.Name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", config.EnvName(f.Name), v, e)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runServer(cmd *cobra.Command, cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cmd.ErrOrStderr(), cfg)
	ctx := cmd.Context()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	tp, stopTracing, err := startTracing(ctx, cfg, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stopTracing()
	srv, err := server.New(ctx, server.Options{
		Config:         cfg,
		Logger:         log,
		PublicURL:      cfg.EffectivePublicURL(ln.Addr().String()),
		TracerProvider: tp,
	})
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer srv.Close()

	credPath := cfg.CredentialsPath()
	if k := srv.Info.AdminKey; k != nil {
		if err := server.WriteCredentialsFile(credPath, *k, cfg.Region); err != nil {
			return fmt.Errorf("write credentials file: %w", err)
		}
	}
	if err := server.WriteEndpointFile(cfg.DataDir, server.Endpoint{
		URL: srv.PublicURL(), AccountID: srv.Info.AccountID, Region: cfg.Region,
		PID: os.Getpid(), StartedAt: time.Now().UTC(),
	}); err != nil {
		log.Warn("could not write endpoint file", slog.String("error", err.Error()))
	}
	printBanner(cmd.OutOrStdout(), srv, cfg, credPath)
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("account", srv.Info.AccountID),
		slog.String("region", cfg.Region), slog.String("store", cfg.Store),
		slog.String("rate_limit_scope", cfg.EffectiveRateLimitScope()))
	return srv.Serve(ctx, ln)
}

// startTracing starts the OTLP trace exporter when --otel-traces or the
// standard OpenTelemetry environment asks for it. Otherwise the provider
// is nil and the server traces nothing.
func startTracing(ctx context.Context, cfg config.Config, log *slog.Logger) (trace.TracerProvider, func(), error) {
	if !cfg.OTelTraces && !tracing.EnabledByEnv(os.Getenv) {
		return nil, func() {}, nil
	}
	tp, err := tracing.Start(ctx, tracing.Options{})
	if err != nil {
		return nil, nil, err
	}
	log.Info("exporting OpenTelemetry traces over OTLP/HTTP")
	return tp, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(sctx); err != nil {
			log.Warn("flushing traces", slog.String("error", err.Error()))
		}
	}, nil
}

func printBanner(w io.Writer, srv *server.Server, cfg config.Config, credPath string) {
	abs, err := filepath.Abs(credPath)
	if err != nil {
		abs = credPath
	}
	fmt.Fprintf(w, `agentcore-identity is running
  endpoint  %s
  account   %s
  region    %s
  store     %s

Point any AWS SDK or the AWS CLI at it:
  export AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s AWS_REGION=%s
  export AWS_ENDPOINT_URL_BEDROCK_AGENTCORE=%s AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL=%s
`, srv.PublicURL(), srv.Info.AccountID, cfg.Region, cfg.Store, abs, server.CredentialsProfile, cfg.Region, srv.PublicURL(), srv.PublicURL())
	if _, err := os.Stat(credPath); err != nil {
		fmt.Fprintf(w, "\nNote: %s is missing; the admin key was created by an earlier start or another replica.\n", credPath)
	}
}
