package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expt-logger/expt"
)

// keyPrefixLen is how much of a secret is kept in clear (expt_ + 7 chars):
// enough to tell keys apart in a list, far too little to guess the rest.
const keyPrefixLen = 12

func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("keys: want a subcommand: create, list or revoke")
	}
	switch args[0] {
	case "create":
		return runKeysCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return runKeysList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runKeysRevoke(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("keys: unknown subcommand %q, want create, list or revoke", args[0])
	}
}

// keysFlags are the flags every keys subcommand takes.
type keysFlags struct {
	storeFlags
	Email string
}

func parseKeysFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*keysFlags, *flag.FlagSet, error) {
	k := &keysFlags{}
	env := envFlags{}
	fs := flag.NewFlagSet("expt keys "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	k.storeFlags.register(fs, env)
	fs.StringVar(&k.Email, "email", "", "user the keys belong to (default: the first user, the admin)")
	if extra != nil {
		extra(fs)
	}
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := env.apply(fs); err != nil {
		return nil, nil, err
	}
	return k, fs, nil
}

func runKeysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name, project, access string
	k, fs, err := parseKeysFlags("create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "name of the key, to recognise it later (required)")
		fs.StringVar(&project, "project", "", "limit the key to this project (its name); the user must be a member")
		fs.StringVar(&access, "access", expt.AccessFull, "what the key may do: full, write (log runs, read and delete nothing) or read")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys create: unexpected argument %q", fs.Arg(0))
	}
	if name = strings.TrimSpace(name); name == "" {
		return errors.New("keys create: --name is required")
	}
	switch access {
	case expt.AccessFull, expt.AccessWrite, expt.AccessRead:
	default:
		return fmt.Errorf("keys create: --access must be full, write or read, got %q", access)
	}
	var secret string
	err = k.withStore(ctx, func(store expt.Store) error {
		u, err := keyOwner(ctx, store, k.Email)
		if err != nil {
			return err
		}
		var projectID int64
		if project != "" {
			p, err := store.ProjectByName(ctx, project)
			if err != nil {
				return fmt.Errorf("keys create: %w", err)
			}
			if role, err := store.Role(ctx, p.ID, u.ID); err != nil {
				return err
			} else if role == "" && !u.Admin {
				return fmt.Errorf("keys create: %s is not a member of project %s", u.Email, p.Name)
			}
			projectID = p.ID
		}
		s, hash, err := expt.NewToken(expt.KeyPrefix)
		if err != nil {
			return err
		}
		key := &expt.APIKey{UserID: u.ID, Name: name, Prefix: s[:keyPrefixLen], ProjectID: projectID, Access: access}
		if err := store.CreateAPIKey(ctx, key, hash); err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		secret = s
		return nil
	})
	if err != nil {
		return err
	}
	// The key alone on stdout, so that KEY=$(expt keys create ...) works.
	_, err = fmt.Fprintln(stdout, secret)
	return err
}

func runKeysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	k, fs, err := parseKeysFlags("list", args, stderr, nil)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys list: unexpected argument %q", fs.Arg(0))
	}
	var keys []*expt.APIKey
	err = k.withStore(ctx, func(store expt.Store) error {
		u, err := keyOwner(ctx, store, k.Email)
		if err != nil {
			return err
		}
		if keys, err = store.APIKeys(ctx, u.ID); err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tLAST USED")
	for _, key := range keys {
		last := "never"
		if key.LastUsedAt != nil {
			last = key.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", key.ID, key.Name, key.Prefix, key.CreatedAt.UTC().Format(time.RFC3339), last)
	}
	return tw.Flush()
}

func runKeysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	k, fs, err := parseKeysFlags("revoke", args, stderr, nil)
	if err != nil {
		return err
	}
	ids := fs.Args()
	if len(ids) == 0 {
		return errors.New("keys revoke: give the ID of at least one key (see expt keys list)")
	}
	return k.withStore(ctx, func(store expt.Store) error {
		u, err := keyOwner(ctx, store, k.Email)
		if err != nil {
			return err
		}
		n, err := store.DeleteAPIKeys(ctx, u.ID, ids)
		if err != nil {
			return fmt.Errorf("revoke keys: %w", err)
		}
		fmt.Fprintf(stdout, "revoked %d of %d keys\n", n, len(ids))
		if n < len(ids) {
			return fmt.Errorf("keys revoke: %d of the IDs name no key of %s", len(ids)-n, u.Email)
		}
		return nil
	})
}

// keyOwner finds the user named by email, or the first user (the admin)
// when email is empty. It never makes one: an account made here would have
// no password, so nobody could sign in to see what its keys logged.
func keyOwner(ctx context.Context, store expt.MetaStore, email string) (*expt.User, error) {
	var u *expt.User
	var err error
	if email != "" {
		u, err = store.UserByEmail(ctx, email)
	} else {
		u, err = store.FirstUser(ctx)
	}
	switch {
	case err == nil && u.Disabled:
		return nil, fmt.Errorf("%s is disabled (expt users enable --email %s)", u.Email, u.Email)
	case err == nil:
		return u, nil
	case expt.ErrorCode(err) != expt.ENOTFOUND:
		return nil, fmt.Errorf("find user: %w", err)
	case email != "":
		return nil, fmt.Errorf("no account %s: make it with `expt users create --email %s`, or sign up in the browser", email, email)
	}
	return nil, errors.New("no accounts yet: sign up in the browser, or run `expt users create --email YOU`, then make the key")
}
