package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runMigrate applies the migrations a database lacks and prints its schema
// version. `expt serve` migrates on start too; this is for upgrading a
// shared PostgreSQL explicitly (before rolling out new replicas) and for
// checking what version a database is at.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f storeFlags
	env := envFlags{}
	fs := flag.NewFlagSet("expt migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, env)
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected argument %q", fs.Arg(0))
	}
	if err := env.apply(fs); err != nil {
		return err
	}
	store, name, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: schema version %d\n", name, v)
	return err
}
