package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expt-logger/expt"
)

func runUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("users: want a subcommand: create, list, set-password, disable or enable")
	}
	switch args[0] {
	case "create":
		return runUsersCreate(ctx, args[1:], stdin, stdout, stderr)
	case "list":
		return runUsersList(ctx, args[1:], stdout, stderr)
	case "set-password":
		return runUsersSetPassword(ctx, args[1:], stdin, stdout, stderr)
	case "disable", "enable":
		return runUsersDisable(ctx, args[0], args[1:], stdout, stderr)
	default:
		return fmt.Errorf("users: unknown subcommand %q, want create, list, set-password, disable or enable", args[0])
	}
}

// usersFlags are what the users subcommands share.
type usersFlags struct {
	storeFlags
	Email         string
	PasswordStdin bool
}

func parseUsersFlags(name string, args []string, stderr io.Writer, withPassword bool, extra func(*flag.FlagSet)) (*usersFlags, error) {
	u := &usersFlags{}
	env := envFlags{}
	fs := flag.NewFlagSet("expt users "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	u.storeFlags.register(fs, env)
	if name != "list" {
		fs.StringVar(&u.Email, "email", "", "the user's email (required)")
	}
	if withPassword {
		fs.BoolVar(&u.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin (default: make one up and print it once)")
	}
	if extra != nil {
		extra(fs)
	}
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("users %s: unexpected argument %q", name, fs.Arg(0))
	}
	if err := env.apply(fs); err != nil {
		return nil, err
	}
	if name != "list" {
		u.Email = expt.NormalizeEmail(u.Email)
		if at := strings.IndexByte(u.Email, '@'); at <= 0 || at == len(u.Email)-1 {
			return nil, fmt.Errorf("users %s: --email must be an email address", name)
		}
	}
	return u, nil
}

// newPassword is the password given on stdin, or a new one (made), with
// its hash.
func (u *usersFlags) newPassword(stdin io.Reader) (pw string, made bool, hash string, err error) {
	if pw, made, err = u.password(stdin); err != nil {
		return "", false, "", err
	}
	hash, err = expt.HashPassword(pw)
	return pw, made, hash, err
}

// showMade prints a password this command made up, once, alone on stdout.
func showMade(stdout, stderr io.Writer, pw string, made bool) error {
	if !made {
		return nil
	}
	fmt.Fprintln(stderr, "the password, shown this once:")
	_, err := fmt.Fprintln(stdout, pw)
	return err
}

// password is the one given on stdin, or a new one that the caller prints.
func (u *usersFlags) password(stdin io.Reader) (pw string, made bool, err error) {
	if u.PasswordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	// 20 characters of a 56-letter alphabet without look-alikes: ~116 bits.
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("read random: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), true, nil
}

func runUsersCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var admin bool
	var name string
	u, err := parseUsersFlags("create", args, stderr, true, func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "make the user an admin (the first user is one anyway)")
		fs.StringVar(&name, "name", "", "display name (default: the email's local part)")
	})
	if err != nil {
		return err
	}
	pw, made, hash, err := u.newPassword(stdin)
	if err != nil {
		return fmt.Errorf("users create: %w", err)
	}
	if name = strings.TrimSpace(name); name == "" {
		name = u.Email[:strings.IndexByte(u.Email, '@')]
	}
	var created *expt.User
	err = u.withStore(ctx, func(store expt.Store) error {
		nu := &expt.User{Email: u.Email, Name: name, PasswordHash: hash, Admin: admin}
		err := store.CreateUser(ctx, nu)
		if expt.ErrorCode(err) == expt.ECONFLICT {
			// An invited account (added to a project before it existed)
			// is claimed; any other is taken.
			old, gerr := store.UserByEmail(ctx, u.Email)
			if gerr != nil || !old.Invited {
				return fmt.Errorf("users create: %s already has an account (expt users set-password changes its password)", u.Email)
			}
			invited := false
			upd := expt.UserUpdate{Name: &name, PasswordHash: &hash, Invited: &invited}
			if admin {
				upd.Admin = &admin
			}
			nu, err = store.UpdateUser(ctx, old.ID, upd)
		}
		if err != nil {
			return fmt.Errorf("users create: %w", err)
		}
		created = nu
		return nil
	})
	if err != nil {
		return err
	}
	role := "user"
	if created.Admin {
		role = "admin"
	}
	fmt.Fprintf(stderr, "created %s %s (id %d)\n", role, created.Email, created.ID)
	return showMade(stdout, stderr, pw, made)
}

func runUsersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	u, err := parseUsersFlags("list", args, stderr, false, nil)
	if err != nil {
		return err
	}
	var list []*expt.User
	if err := u.withStore(ctx, func(store expt.Store) error {
		list, err = store.Users(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("users list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATE\tCREATED")
	for _, x := range list {
		role, state := "user", "active"
		if x.Admin {
			role = "admin"
		}
		switch {
		case x.Disabled:
			state = "disabled"
		case x.Invited:
			state = "invited"
		case x.PasswordHash == "":
			state = "no password"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Email, x.Name, role, state, x.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func runUsersSetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	u, err := parseUsersFlags("set-password", args, stderr, true, nil)
	if err != nil {
		return err
	}
	pw, made, hash, err := u.newPassword(stdin)
	if err != nil {
		return fmt.Errorf("users set-password: %w", err)
	}
	if err := u.withStore(ctx, func(store expt.Store) error {
		x, err := store.UserByEmail(ctx, u.Email)
		if err != nil {
			return err
		}
		invited := false
		_, err = store.UpdateUser(ctx, x.ID, expt.UserUpdate{PasswordHash: &hash, Invited: &invited})
		return err
	}); err != nil {
		return fmt.Errorf("users set-password: %w", err)
	}
	fmt.Fprintf(stderr, "set the password of %s\n", u.Email)
	return showMade(stdout, stderr, pw, made)
}

// runUsersDisable disables (or enables again) an account: its sessions and
// keys stop working at the next request, on every server on the database.
func runUsersDisable(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	u, err := parseUsersFlags(verb, args, stderr, false, nil)
	if err != nil {
		return err
	}
	disabled := verb == "disable"
	if err := u.withStore(ctx, func(store expt.Store) error {
		x, err := store.UserByEmail(ctx, u.Email)
		if err != nil {
			return err
		}
		_, err = store.UpdateUser(ctx, x.ID, expt.UserUpdate{Disabled: &disabled})
		return err
	}); err != nil {
		return fmt.Errorf("users %s: %w", verb, err)
	}
	_, err = fmt.Fprintf(stdout, "%sd %s\n", verb, u.Email)
	return err
}
