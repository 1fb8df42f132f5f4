package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
)

// TestMigrationMovesRunsIntoPersonalProjects opens a database made by the
// version before projects (migrations 1-7, a local admin without a
// password made by `expt keys create` and a real user): each user gets a
// personal project holding their runs, the first user with a password
// becomes the admin, and old keys reach every project with full access.
func TestMigrationMovesRunsIntoPersonalProjects(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migration/*.sql")
	sort.Strings(files)
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, f := range files[:7] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, filepath.Base(f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{
		`INSERT INTO users(id, email, name, password_hash, created_at) VALUES (1, 'admin@localhost', 'admin', '', 1), (2, 'ada@lab.org', 'Ada', '$2a$10$hash', 2)`,
		`INSERT INTO api_keys(id, user_id, name, prefix, hash, created_at) VALUES ('k1', 1, 'old', 'expt_abc', x'01', 1)`,
		`INSERT INTO experiments(id, user_id, name, status, created_at, updated_at) VALUES
			('00000000-0000-4000-8000-000000000001', 1, 'local', 'complete', 1, 1),
			('00000000-0000-4000-8000-000000000002', 2, 'ada-1', 'active', 2, 2),
			('00000000-0000-4000-8000-000000000003', 2, 'ada-2', 'active', 3, 3)`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	raw.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, u := range []struct {
		id    int64
		email string
		runs  int
		admin bool
	}{{1, "admin@localhost", 1, false}, {2, "ada@lab.org", 2, true}} {
		p, err := db.PersonalProject(ctx, u.id)
		if err != nil {
			t.Fatalf("user %d: %v", u.id, err)
		}
		list, total, err := db.Experiments(ctx, expt.ExperimentFilter{Projects: []int64{p.ID}})
		if err != nil || total != u.runs || p.Name != u.email {
			t.Fatalf("%s's personal project %+v holds %d runs (%v), want %d", u.email, p, total, err, u.runs)
		}
		for _, e := range list {
			if e.UserID != u.id {
				t.Fatalf("%s's project holds %+v", u.email, e)
			}
		}
		if role, _ := db.Role(ctx, p.ID, u.id); role != expt.RoleOwner {
			t.Fatalf("%s's role in their project: %q", u.email, role)
		}
		got, _ := db.UserByID(ctx, u.id)
		if got.Admin != u.admin {
			t.Fatalf("%s admin = %v, want %v", u.email, got.Admin, u.admin)
		}
	}
	_, k, err := db.UserByAPIKey(ctx, []byte{1})
	if err != nil || k.ProjectID != 0 || k.Access != expt.AccessFull {
		t.Fatalf("old key = %+v, %v", k, err)
	}
	// A user made now is not the admin: there is one.
	u := &expt.User{Email: "new@lab.org"}
	if err := db.CreateUser(ctx, u); err != nil || u.Admin {
		t.Fatalf("new user = %+v, %v", u, err)
	}
}
