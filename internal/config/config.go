// Package config is the file/env/flag layer of server configuration:
// strings and numbers with defaults, validated before anything starts. The
// server package turns a valid Config into live components.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Store backends.
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// Quotas are the per-account resource limits (seed 002 defaults).
type Quotas struct {
	WorkloadIdentities int
	OAuth2Providers    int
	APIKeyProviders    int
}

// Rate-limit scopes: where token buckets live.
const (
	// RateLimitLocal keeps buckets in each process: N replicas allow N
	// times the rate. Free, and exact for a single process.
	RateLimitLocal = "local"
	// RateLimitCluster keeps buckets in the store, shared by every
	// replica on the database, at one store write per limited request.
	RateLimitCluster = "cluster"
)

// RateLimits are per-account request rates (seed 002: token requests
// 100/s per account).
type RateLimits struct {
	TokenRequestsPerSecond float64 // credential vends; 0 disables
	TokenBurst             int     // requests allowed at once
	// Scope is RateLimitLocal, RateLimitCluster or empty for the default
	// of the store (see EffectiveRateLimitScope).
	Scope string
}

// Config is the server configuration.
type Config struct {
	Addr        string // listen address
	DataDir     string // state directory (SQLite file, KEK file, credentials)
	Store       string // sqlite | postgres
	DatabaseURL string // PostgreSQL URL when Store is postgres
	Region      string
	PublicURL   string // externally reachable base URL; default http://<Addr>
	KEKFile     string // key-encryption key file; default <DataDir>/kek.json
	KEK         string // base64 KEK given directly (multi-replica), overrides KEKFile
	LogLevel    string // debug|info|warn|error
	LogFormat   string // json|text
	MaxBodySize int64  // bytes accepted in one API request body
	ShutdownTTL time.Duration
	Quotas      Quotas
	RateLimits  RateLimits
	// Metrics serves Prometheus metrics on /metrics.
	Metrics bool
	// OTelTraces exports OpenTelemetry traces over OTLP/HTTP (endpoint
	// from the standard OTEL_EXPORTER_OTLP_* variables). The standard
	// OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint turn it on too.
	OTelTraces bool
	// AllowPrivateNetwork lets outbound fetches (OIDC discovery, JWKS,
	// token endpoints) reach loopback and private addresses. Off by
	// default: those URLs are caller input (SSRF). The server's own
	// address is always reachable.
	AllowPrivateNetwork bool
	// AuditLog, when set, also appends every audit event as a JSON line to
	// this file.
	AuditLog string
	// SigningKeyRotation is how long a JWT signing key stays active.
	SigningKeyRotation time.Duration
	// LocalRuntimeCommands lets CreateAgentRuntime start the command of a
	// localConfiguration artifact on this machine. Off by default: it
	// turns API access into running programs on the server's host.
	LocalRuntimeCommands bool
	// DrainDelay is how long the server keeps serving after SIGTERM while
	// /readyz reports 503 "draining", before it stops accepting requests:
	// the time a load balancer needs to notice and route around it. Zero
	// shuts down at once.
	DrainDelay time.Duration
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:        "127.0.0.1:8400",
		DataDir:     ".agentcore",
		Store:       StoreSQLite,
		Region:      "us-east-1",
		LogLevel:    "info",
		LogFormat:   "json",
		MaxBodySize: 1 << 20,
		ShutdownTTL: 15 * time.Second,
		Quotas: Quotas{
			WorkloadIdentities: 100,
			OAuth2Providers:    100,
			APIKeyProviders:    50,
		},
		RateLimits: RateLimits{TokenRequestsPerSecond: 100, TokenBurst: 100},
		Metrics:    true,

		SigningKeyRotation: 24 * time.Hour,
	}
}

// EnvName is the environment variable that overrides a flag:
// "database-url" -> AGENTCORE_DATABASE_URL.
func EnvName(flag string) string {
	return "AGENTCORE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// LookupEnv reads the override for flag, if set.
func LookupEnv(flag string) (string, bool) {
	return os.LookupEnv(EnvName(flag))
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	switch c.Store {
	case StoreSQLite:
	case StorePostgres:
		if c.DatabaseURL == "" {
			errs = append(errs, fmt.Errorf("store postgres needs --database-url (or %s)", EnvName("database-url")))
		}
	default:
		errs = append(errs, fmt.Errorf("store %q: must be %s or %s", c.Store, StoreSQLite, StorePostgres))
	}
	if !regionRE.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region %q is not a region name like us-east-1", c.Region))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url %q must be an absolute http(s) URL", c.PublicURL))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: must be debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("log-format %q: must be json or text", c.LogFormat))
	}
	if c.MaxBodySize < 1024 {
		errs = append(errs, fmt.Errorf("max-body-size %d: must be at least 1024 bytes", c.MaxBodySize))
	}
	for name, q := range map[string]int{
		"quota-workload-identities": c.Quotas.WorkloadIdentities,
		"quota-oauth2-providers":    c.Quotas.OAuth2Providers,
		"quota-apikey-providers":    c.Quotas.APIKeyProviders,
	} {
		if q < 1 {
			errs = append(errs, fmt.Errorf("%s %d: must be at least 1", name, q))
		}
	}
	if c.DrainDelay < 0 {
		errs = append(errs, fmt.Errorf("drain-delay %s: must not be negative", c.DrainDelay))
	}
	if c.RateLimits.TokenRequestsPerSecond < 0 || c.RateLimits.TokenBurst < 0 {
		errs = append(errs, errors.New("rate limits must not be negative"))
	}
	switch c.RateLimits.Scope {
	case "", RateLimitLocal, RateLimitCluster:
	default:
		errs = append(errs, fmt.Errorf("rate-limit-scope %q: must be %s (each replica limits on its own) or %s (replicas share limits through the store)",
			c.RateLimits.Scope, RateLimitLocal, RateLimitCluster))
	}
	// Keys are published one rotation period before they sign; relying
	// parties cache the JWKS for 5 minutes, so a shorter period could sign
	// with a key their cached copy lacks.
	if c.SigningKeyRotation < 5*time.Minute {
		errs = append(errs, fmt.Errorf("signing-key-rotation %s: must be at least 5m", c.SigningKeyRotation))
	}
	return errors.Join(errs...)
}

// EffectivePublicURL is PublicURL, or the listen address as an http URL.
func (c *Config) EffectivePublicURL(listenAddr string) string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return "http://" + listenAddr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// EffectiveRateLimitScope is RateLimits.Scope, or by default cluster on
// PostgreSQL (the multi-replica store) and local on SQLite (one process,
// where a store write per request would buy nothing).
func (c *Config) EffectiveRateLimitScope() string {
	if c.RateLimits.Scope != "" {
		return c.RateLimits.Scope
	}
	if c.Store == StorePostgres {
		return RateLimitCluster
	}
	return RateLimitLocal
}

// KEKPath is the KEK file location.
func (c *Config) KEKPath() string {
	if c.KEKFile != "" {
		return c.KEKFile
	}
	return filepath.Join(c.DataDir, "kek.json")
}

// SQLitePath is the database file location.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "agentcore.db") }

// CredentialsPath is the AWS shared-credentials file written at bootstrap.
func (c *Config) CredentialsPath() string { return filepath.Join(c.DataDir, "credentials") }

// ParseInt is a helper for env overrides of numeric flags.
func ParseInt(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }
