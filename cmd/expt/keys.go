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

// localAdminEmail owns keys made before anyone signed up: a single-user
// install never needs an account with a password.
const localAdminEmail = "admin@localhost"

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
	fs.StringVar(&k.Email, "email", "", "user the keys belong to (default: the first user, or a local admin)")
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
	var name string
	k, fs, err := parseKeysFlags("create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "name of the key, to recognise it later (required)")
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
	var secret string
	err = k.withStore(ctx, func(store expt.Store) error {
		u, err := keyOwner(ctx, store, k.Email, true)
		if err != nil {
			return err
		}
		s, hash, err := expt.NewToken(expt.KeyPrefix)
		if err != nil {
			return err
		}
		key := &expt.APIKey{UserID: u.ID, Name: name, Prefix: s[:keyPrefixLen]}
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
		u, err := keyOwner(ctx, store, k.Email, false)
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
		u, err := keyOwner(ctx, store, k.Email, false)
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

// keyOwner finds the user named by email, or the first user when email is
// empty. With create it makes the user when missing: a password-less user
// for an email, or the local admin on an empty database.
func keyOwner(ctx context.Context, store expt.MetaStore, email string, create bool) (*expt.User, error) {
	var u *expt.User
	var err error
	if email != "" {
		u, err = store.UserByEmail(ctx, email)
	} else {
		u, err = store.FirstUser(ctx)
		email = localAdminEmail
	}
	if err == nil {
		return u, nil
	} else if expt.ErrorCode(err) != expt.ENOTFOUND {
		return nil, fmt.Errorf("find user: %w", err)
	} else if !create {
		return nil, fmt.Errorf("no user %s", email)
	}
	u = &expt.User{Email: email, Name: strings.SplitN(email, "@", 2)[0]}
	if err := store.CreateUser(ctx, u); expt.ErrorCode(err) == expt.ECONFLICT {
		// Someone (a sign-up on the running server) made it meanwhile.
		return store.UserByEmail(ctx, email)
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}
