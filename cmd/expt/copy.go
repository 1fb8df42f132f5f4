package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/sqlite"
)

// runCopy moves an embedded installation to PostgreSQL: every row of the
// SQLite database goes into an empty PostgreSQL database in one
// transaction, ids kept, and the row counts of every table are compared
// before it commits.
func runCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from, to storeFlags
	env := envFlags{}
	fs := flag.NewFlagSet("expt copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&from.DBURL, "from", "", "the SQLite database to copy, sqlite:PATH (default: DIR/expt.db of --data)")
	fs.StringVar(&from.DataDir, "data", "", "data directory of the SQLite installation")
	fs.StringVar(&to.DBURL, "to", "", "the empty PostgreSQL database to copy into, postgres://...")
	env["data"] = "EXPT_DATA_DIR"
	env["to"] = "EXPT_DATABASE_URL"
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("copy: unexpected argument %q", fs.Arg(0))
	}
	if err := env.apply(fs); err != nil {
		return err
	}
	if !to.isPostgres() {
		return errors.New("copy: --to must be a postgres:// URL")
	}
	path, err := from.sqlitePath()
	if err != nil {
		return fmt.Errorf("copy: --from: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("copy: %w", err) // never create an empty source by opening it
	}
	// Bring the source to the newest schema first, as `expt serve` would.
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("copy: open %s: %w", path, err)
	}
	if err := lite.Close(); err != nil {
		return fmt.Errorf("copy: close %s: %w", path, err)
	}
	src, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("copy: open %s: %w", path, err)
	}
	defer src.Close()
	// One read transaction: every table from the same snapshot, even if a
	// server is still writing (stop it first, or its later writes are not copied).
	tx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("copy: read %s: %w", path, err)
	}
	defer tx.Rollback()
	dest, err := postgres.Open(ctx, to.DBURL)
	if err != nil {
		return fmt.Errorf("copy: open %s: %w", redact(to.DBURL), err)
	}
	defer dest.Close()
	fmt.Fprintf(stderr, "copying %s to %s\n", path, redact(to.DBURL))
	counts, err := dest.Import(ctx, sqlite.Dump(tx), stderr)
	if err != nil {
		return fmt.Errorf("copy: %w (nothing was written)", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tSQLITE\tPOSTGRES\t")
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.Source, c.Dest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "every table's row count matches; committed")
	return err
}
