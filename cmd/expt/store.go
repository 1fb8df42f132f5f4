package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/sqlite"
)

// storeFlags are the flags that say where the database is; serve and keys
// share them so that `expt keys` finds the database a server uses.
type storeFlags struct {
	DataDir string
	DBURL   string
}

func (f *storeFlags) register(fs *flag.FlagSet, env envFlags) {
	fs.StringVar(&f.DataDir, "data", "", "data directory; the database is DIR/expt.db (default $XDG_DATA_HOME/expt or ~/.local/share/expt)")
	fs.StringVar(&f.DBURL, "db", "", "database URL: sqlite:PATH, or postgres://USER:PASS@HOST/DB for replicas sharing one PostgreSQL (overrides --data)")
	env["data"] = "EXPT_DATA_DIR"
	env["db"] = "EXPT_DATABASE_URL"
}

// sqlitePath resolves the flags to the path of the SQLite database file.
func (f *storeFlags) sqlitePath() (string, error) {
	switch u := f.DBURL; {
	case u == "":
	case strings.HasPrefix(u, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
		if p == "" {
			return "", fmt.Errorf("--db %q: no path after \"sqlite:\"", u)
		}
		return p, nil
	case f.isPostgres():
		return "", fmt.Errorf("--db names a PostgreSQL database, not an SQLite file")
	default:
		return "", fmt.Errorf("--db %q: unsupported database URL, want sqlite:PATH or a postgres:// URL", redact(u))
	}
	dir := f.DataDir
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "expt.db"), nil
}

// defaultDataDir follows the XDG base directory convention.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "expt"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --data given and no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "expt"), nil
}

// isPostgres reports whether --db is a PostgreSQL URL.
func (f *storeFlags) isPostgres() bool {
	return strings.HasPrefix(f.DBURL, "postgres://") || strings.HasPrefix(f.DBURL, "postgresql://")
}

// redact hides the password of a database URL, for logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// migratedStore is a store that reports its schema version (both do).
type migratedStore interface {
	expt.Store
	SchemaVersion(ctx context.Context) (int, error)
}

// open opens (and migrates) the store the flags name, creating the data
// directory when needed. The name it returns is safe to log.
func (f *storeFlags) open(ctx context.Context) (migratedStore, string, error) {
	if f.isPostgres() {
		name := redact(f.DBURL)
		db, err := postgres.Open(ctx, f.DBURL)
		if err != nil {
			return nil, "", fmt.Errorf("open database %s: %w", name, err)
		}
		return db, name, nil
	}
	path, err := f.sqlitePath()
	if err != nil {
		return nil, "", err
	}
	if dir := filepath.Dir(path); dir != "" {
		// 0700: the database holds password and key hashes.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("create data directory: %w", err)
		}
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", fmt.Errorf("open database %s: %w", path, err)
	}
	return db, path, nil
}

// withStore opens the store, runs fn and closes the store, reporting a
// failed close too: for a write, that is when it reaches the disk.
func (f *storeFlags) withStore(ctx context.Context, fn func(expt.Store) error) error {
	store, _, err := f.open(ctx)
	if err != nil {
		return err
	}
	err = fn(store)
	if cerr := store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	return err
}
