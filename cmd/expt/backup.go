package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/expt-logger/expt/sqlite"
)

// runBackup writes a consistent copy of a running installation's SQLite
// database: VACUUM INTO reads one snapshot (WAL lets the server go on
// writing meanwhile) into a new, compacted file, which is then checked.
// PostgreSQL has its own tools for this; the command says which.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from storeFlags
	var to string
	env := envFlags{}
	fs := flag.NewFlagSet("expt backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from.register(fs, env)
	fs.StringVar(&to, "to", "", "the backup file to write; it must not exist (required)")
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := env.apply(fs); err != nil {
		return err
	}
	if from.isPostgres() {
		return errors.New("backup: the database is PostgreSQL: back it up with its own tools, e.g. `pg_dump --format=custom --file=FILE URL` (or continuous archiving), and restore with pg_restore")
	}
	if to == "" {
		return errors.New("backup: --to FILE is required")
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", to)
	}
	path, err := from.sqlitePath()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	src, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer src.Close()
	abs, err := filepath.Abs(to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("backup: copy %s: %w", path, err)
	}
	if err := checkSQLite(ctx, abs); err != nil {
		return fmt.Errorf("backup: the copy %s fails its check: %w", abs, err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (integrity check ok)\n", path, abs)
	return nil
}

// runRestore puts a backup in place of an installation's database. The
// server must be stopped: the file is replaced under it otherwise.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var into storeFlags
	var from string
	var force bool
	env := envFlags{}
	fs := flag.NewFlagSet("expt restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	into.register(fs, env)
	fs.StringVar(&from, "from", "", "the backup file written by expt backup (required)")
	fs.BoolVar(&force, "force", false, "replace an existing database (stop the server first)")
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := env.apply(fs); err != nil {
		return err
	}
	if into.isPostgres() {
		return errors.New("restore: the database is PostgreSQL: restore it with pg_restore")
	}
	if from == "" {
		return errors.New("restore: --from FILE is required")
	}
	if err := checkSQLite(ctx, from); err != nil {
		return fmt.Errorf("restore: %s fails its check: %w", from, err)
	}
	path, err := into.sqlitePath()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("restore: %s exists; stop the server and pass --force to replace it", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := path + ".restore"
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// The old database's WAL and shared memory belong to the old file.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			os.Remove(tmp)
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Bring it to this version's schema, as serve would.
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("restore: open %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s\n", path, from)
	return nil
}

// checkSQLite runs PRAGMA integrity_check on a database file.
func checkSQLite(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
