// Package pgtest gives tests a fresh, empty PostgreSQL namespace of their
// own on the server named by EXPT_TEST_POSTGRES_URL (scripts/pg-test.sh
// starts one).
// Without it a test is skipped locally and fails under CI=true, so that CI
// can never skip the Postgres tests silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the variable naming the server to create test databases on.
const EnvURL = "EXPT_TEST_POSTGRES_URL"

// URL creates an empty schema t_<random> for t, drops it when t ends, and
// returns a URL whose connections use it (search_path). A schema rather
// than a database: CREATE DATABASE took 1-1.7 s on the CI-sized machine,
// CREATE SCHEMA milliseconds, and the store sees the same empty namespace.
func URL(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvURL)
	if server == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: start a server with scripts/pg-test.sh and export its URL", EnvURL)
		}
		t.Skipf("%s is not set (scripts/pg-test.sh start DIR PORT prints one)", EnvURL)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", name) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}
