package storekit

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema change: the file dir/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string // the file name, NNNN_name.sql
	SQL     string
}

// Migrations reads the migrations in dir of fsys, oldest first.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number: %w", base, err)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		out = append(out, Migration{Version: version, Name: base, SQL: string(body)})
	}
	return out, nil
}

// Migrate applies, in order and each in its own transaction of tx, every
// migration not yet recorded in schema_migrations (which must exist),
// recording it with appliedAt. The check runs inside the transaction, so
// two processes migrating at once apply each migration once, given the
// engine serialises them (SQLite's write lock, PostgreSQL's advisory lock).
func Migrate(ctx context.Context, list []Migration, tx func(ctx context.Context, fn func(Conn) error) error, appliedAt any) error {
	for _, m := range list {
		err := tx(ctx, func(c Conn) error {
			w := NewWhere(c.Dollar())
			var n int
			if err := c.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = `+w.Bind(m.Version), w.Args...).Scan(&n); err != nil {
				return fmt.Errorf("check migration %d: %w", m.Version, err)
			}
			if n > 0 {
				return nil
			}
			if _, err := c.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			w = NewWhere(c.Dollar())
			if _, err := c.Exec(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (`+
				BindList(w, []any{m.Version, m.Name, appliedAt})+`)`, w.Args...); err != nil {
				return fmt.Errorf("record migration %d: %w", m.Version, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion returns the newest applied migration, 0 for none.
func (s Common) SchemaVersion(ctx context.Context) (int, error) {
	var v *int64
	if err := s.e.Read.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return int(*v), nil
}
