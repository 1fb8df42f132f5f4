// Command expt is the expt-logger server and its administration tool:
// `expt serve` runs the HTTP API and web UI, `expt users` and `expt keys`
// manage accounts and API keys directly in the database, `expt migrate` upgrades the database schema,
// `expt version` says what was built; `expt login`, `ls`, `show`, `export`
// and `rm` work against any server through package client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel ctx; every subcommand treats that as "finish
	// cleanly", which for serve means draining in-flight requests.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "expt:", err)
		os.Exit(1)
	}
}

// Stdin is where `expt users ... --password-stdin` reads; tests replace it.
var Stdin io.Reader = os.Stdin

// Run executes the subcommand named by args[0]. It is main without the
// process: tests call it with their own context, arguments and writers.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "users":
		return runUsers(ctx, rest, Stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "copy":
		return runCopy(ctx, rest, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, stdout, stderr)
	case "login":
		return runLogin(ctx, rest, Stdin, stdout, stderr)
	case "ls":
		return runLs(ctx, rest, stdout, stderr)
	case "show":
		return runShow(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "rm":
		return runRm(ctx, rest, Stdin, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

const usage = `expt: experiment tracking server for RL training of LLMs

Usage:
  expt serve [flags]                       run the HTTP API and web UI
  expt users create --email E [--admin]    make an account (password from --password-stdin, or printed once)
  expt users list                          list accounts
  expt users set-password --email E        set a password (from --password-stdin, or printed once)
  expt users disable|enable --email E      stop (or restore) an account's sign-in, keys and sessions
  expt keys create --name NAME [--email E] [--project P] [--access full|write|read]
                                           print a new API key of an existing account
  expt keys list [--email E]               list API keys
  expt keys revoke [--email E] ID...       delete API keys
  expt migrate [--db URL]                  upgrade the database schema, print its version
  expt copy --from sqlite:PATH --to URL    move an SQLite installation into an empty PostgreSQL
  expt backup --to FILE [--data DIR]       a consistent copy of the SQLite database, server running
  expt restore --from FILE [--force]       put a backup in place (server stopped)
  expt version                             print the version

Against any server (through the API; --url and --key, else EXPT_LOGGER_BASE_URL
and EXPT_LOGGER_API_KEY, else what expt login saved):
  expt login URL [--key KEY]               check a key and save it (0600 config file)
  expt ls [--project P] [--status S]       list experiments, newest first
  expt show ID                             an experiment's fields, config and latest metrics
  expt export ID... [--format parquet|csv|jsonl] [-o DIR]
                                           download scalars and rollouts, with progress
  expt rm ID... [--yes]                    delete experiments

Run "expt COMMAND -h" for the flags of a command. Every flag can also be
set with the environment variable shown in its help; the flag wins.
`
