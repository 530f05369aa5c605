// Package pgtest gives tests a private, throw-away PostgreSQL database. It is
// a regular package, not a _test file, so that every package whose tests
// need PostgreSQL can share it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding an admin connection URL, for a role
// allowed to CREATE and DROP databases.
const EnvURL = "AGENTCORE_TEST_POSTGRES_URL"

// NewDatabase creates an empty database, drops it when t finishes, and
// returns a connection string for it. It skips t when EnvURL is unset.
//
// The database uses a linguistic ICU collation (en-US) when the server
// supports it, so that code relying on the database default for byte-order
// sorting fails in tests instead of in production.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", EnvURL)
	}
	var buf [8]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
	name := "agentcore_test_" + hex.EncodeToString(buf[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident+
		` TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`); err != nil {
		// Older servers or builds without ICU: take the server default.
		t.Logf("pgtest: ICU database unavailable (%v); using the default collation", err)
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
			t.Fatalf("pgtest: create database: %v", err)
		}
	}
	t.Cleanup(func() { drop(t, admin, ident) })
	return withDatabase(t, admin, name)
}

func drop(t testing.TB, admin, ident string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("pgtest: connect to drop %s: %v", ident, err)
		return
	}
	defer conn.Close(ctx)
	// FORCE (PostgreSQL 13+) disconnects sessions a test leaked.
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		t.Errorf("pgtest: drop %s: %v", ident, err)
	}
}

// withDatabase points the admin connection string at database name,
// accepting both URL and keyword/value forms.
func withDatabase(t testing.TB, admin, name string) string {
	t.Helper()
	if strings.HasPrefix(admin, "postgres://") || strings.HasPrefix(admin, "postgresql://") {
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatalf("pgtest: parse %s: %v", EnvURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// In keyword/value strings a later key overrides an earlier one.
	return admin + " dbname=" + name
}
